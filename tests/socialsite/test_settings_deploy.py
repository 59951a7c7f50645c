"""Production settings: only environment variables differ, and Django's deploy checks pass."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "socialsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="socialsite.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_plain_http_on_loopback_is_refused_for_a_public_host():
    result = run_manage(
        "check",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="socialsite.example",
        SOCIALSITE_LOOPBACK_HTTP="true",
    )
    assert result.returncode != 0
    assert "SOCIALSITE_LOOPBACK_HTTP" in result.stderr


def test_plain_http_on_loopback_runs_with_debug_off_for_loopback_hosts():
    result = run_manage(
        "diffsettings",
        "--all",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        SOCIALSITE_LOOPBACK_HTTP="true",
    )
    assert result.returncode == 0, result.stderr
    values = {line.removeprefix("### ") for line in result.stdout.splitlines()}  # "###": Django's default
    for line in ("DEBUG = False", "SECURE_SSL_REDIRECT = False", "SESSION_COOKIE_SECURE = False"):
        assert line in values
