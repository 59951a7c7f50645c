"""The OpenAPI schema generates cleanly (`manage.py spectacular --validate --fail-on-warn`, run by the tests
below, so by every run of the test command and CI) and the interactive docs are served from this site,
never from a CDN."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

ROOT = Path(__file__).resolve().parents[2]

FRIENDS_API = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/users/": {"post"},
    "/api/v1/me/": {"get"},
    "/api/v1/users/{username}/": {"get"},
    "/api/v1/friends/": {"get"},
    "/api/v1/friends/{username}/": {"delete"},
    "/api/v1/friend-requests/": {"get", "post"},
    "/api/v1/friend-requests/{request_id}/": {"delete"},
    "/api/v1/friend-requests/{request_id}/accept/": {"post"},
    "/api/v1/friend-requests/{request_id}/decline/": {"post"},
    "/api/v1/blocks/": {"get", "post"},
    "/api/v1/blocks/{username}/": {"delete"},
}


def test_schema_generates_valid_with_no_warnings(tmp_path):
    GENERATOR_STATS.reset()  # warnings are counted process-wide; count only this generation's
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    for path, methods in FRIENDS_API.items():
        assert methods <= set(schema["paths"][path]), path


def test_schema_command_passes_with_the_production_settings_and_debug_on(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` in a fresh process with the production settings
    module and DEBUG on, as a developer would run it."""
    env = {**os.environ, "DJANGO_DEBUG": "true", "DJANGO_SETTINGS_MODULE": "socialsite.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_schema_documents_paginated_lists_and_integer_request_ids(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    for path in ("/api/v1/friends/", "/api/v1/friend-requests/", "/api/v1/blocks/"):
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        listing = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert {"count", "next", "previous", "results"} <= set(listing["properties"]), path
    accept = schema["paths"]["/api/v1/friend-requests/{request_id}/accept/"]["post"]
    [param] = [p for p in accept["parameters"] if p["name"] == "request_id"]
    assert param["schema"]["type"] == "integer"
    directions = [
        p for p in schema["paths"]["/api/v1/friend-requests/"]["get"]["parameters"] if p["name"] == "direction"
    ]
    assert directions[0]["schema"]["enum"] == ["incoming", "outgoing"]


def test_docs_page_is_served_locally_without_any_cdn_or_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://", html), "the docs page must not load anything from another site"
    assert "<script>" not in html, "the start-up script is a file of its own (CSP: script-src 'self')"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page should load Swagger UI's own files"
    [start] = [a for a in assets if not a.startswith("/static/")]
    for asset in set(assets) - {start}:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not shipped with the site"
    script = client.get(start)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert not re.search(r"https?://", script.content.decode())
