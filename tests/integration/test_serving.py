"""The production server: gunicorn with DEBUG off, WhiteNoise static files, pooled database connections."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.integration.conftest import _database_url
from tests.support.processes import ROOT, start_gunicorn

# Committed data: the server reads it through its own connections.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


APPLICATION_NAME = "socialsite-gunicorn-test"


@pytest.fixture(scope="module")
def production_env(django_db_setup, tmp_path_factory) -> dict[str, str]:
    """Production settings (not the test settings) on the test database, plain HTTP on loopback."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    url = _database_url()
    if url.startswith("postgres"):
        url += f"?application_name={APPLICATION_NAME}"  # tagged: the test counts the server's connections only
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "socialsite.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "SOCIALSITE_LOOPBACK_HTTP": "true",
        "DJANGO_STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "DATABASE_URL": url,
        "DJANGO_DB_POOL_MAX_SIZE": "3",
    }


@pytest.fixture(scope="module")
def gunicorn(production_env):
    """collectstatic, then `gunicorn -c gunicorn.conf.py socialsite.wsgi` (1 process x 8 threads), once for
    the module: starting it costs seconds, and each test makes its own data and sessions."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=production_env,
        check=True,
        timeout=120,
    )
    env = {**production_env, "WEB_CONCURRENCY": "1", "WEB_THREADS": "8"}
    server, port = start_gunicorn(env=env, timeout=30)
    yield port, Path(production_env["DJANGO_STATIC_ROOT"])
    server.stop(30)


@pytest.fixture
def alice(alice):
    """Alice with a password hash the production settings verify (the test settings hash with MD5)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    alice.password = hasher.encode("correct-horse-42", hasher.salt())
    alice.save(update_fields=["password"])
    return alice


def get(port: int, path: str, headers: dict | None = None, method: str = "GET", body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_gunicorn_serves_pages_static_files_and_log_in_over_loopback_http(gunicorn, alice):
    port, static_root = gunicorn
    # DEBUG off and plain HTTP on loopback: no redirect to https, no debug page for an unknown URL.
    response, body = get(port, "/login/")
    assert response.status == 200
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    assert "Secure" not in response.getheader("Set-Cookie")
    response, body = get(port, "/no-such-page/")
    assert response.status == 404 and b"Traceback" not in body and b"URLconf" not in body

    # Static files: hashed names from the manifest, gzip when asked, cached "forever".
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    response, body = get(port, f"/static/{hashed}", {"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
    assert "immutable" in response.getheader("Cache-Control")

    # Log in through the form (session in Redis and the database), then a logged-in page.
    response, _ = get(
        port,
        "/login/",
        {"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        f"csrfmiddlewaretoken={csrf}&username=alice&password=correct-horse-42",
    )
    assert response.status == 302
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie")).group(1)
    response, body = get(port, "/api/v1/me/", {"Cookie": f"sessionid={session}"})
    assert response.status == 200 and json.loads(body)["username"] == "alice"


def test_parallel_requests_never_hold_more_database_connections_than_the_pool(gunicorn, alice):
    from concurrent.futures import ThreadPoolExecutor

    port, _ = gunicorn
    name = connection.settings_dict["NAME"]

    def server_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                [name, APPLICATION_NAME],
            )
            return cursor.fetchone()[0]

    if connection.vendor != "postgresql":
        pytest.skip("connection pooling is PostgreSQL's")
    token = json.loads(
        get(
            port,
            "/api/v1/auth/token/",
            {"Content-Type": "application/json"},
            "POST",
            json.dumps({"username": "alice", "password": "correct-horse-42"}),
        )[1]
    )["token"]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(lambda _: get(port, "/api/v1/me/", {"Authorization": f"Token {token}"})[0].status, range(200))
        )
    assert set(statuses) == {200}
    # One gunicorn process with 8 threads, DJANGO_DB_POOL_MAX_SIZE=3: never more than three connections
    # (persistent per-thread connections would leave one per thread that served a request).
    assert 1 <= server_connections() <= 3
