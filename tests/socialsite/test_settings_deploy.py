"""Production settings: only environment variables differ, and Django's deploy checks pass."""

import json
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


def production_values(**env: str) -> dict:
    """Settings as production loads them (a fresh process with socialsite.settings), for a few names."""
    code = (
        "import json; from django.conf import settings; from django.contrib.auth.hashers import get_hasher; "
        "print(json.dumps({'hasher': get_hasher().algorithm, 'proxy_ssl': settings.SECURE_PROXY_SSL_HEADER, "
        "'hsts': settings.SECURE_HSTS_SECONDS, 'num_proxies': settings.NUM_PROXIES, "
        "'rates': settings.RATE_LIMITS, 'token_ttl': str(settings.REST_KNOX['TOKEN_TTL'])}))"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="socialsite.example",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_hashes_new_passwords_with_argon2_and_trusts_no_proxy_by_default():
    values = production_values()
    assert values["hasher"] == "argon2"
    assert values["proxy_ssl"] is None  # a client's own X-Forwarded-Proto is not believed
    assert values["num_proxies"] == 0  # nor its X-Forwarded-For
    assert values["hsts"] == 31536000
    assert values["token_ttl"] == "None"


def test_proxies_rates_and_token_lifetime_come_from_the_environment():
    values = production_values(
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        DJANGO_NUM_PROXIES="1",
        RATE_LIMIT_LOGIN_ACCOUNT="3/15m",
        API_TOKEN_TTL_HOURS="12",
    )
    assert values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["num_proxies"] == 1
    assert values["rates"]["login_account"] == "3/15m"
    assert values["token_ttl"] == "12:00:00"


def test_a_malformed_rate_in_the_environment_stops_the_start_up():
    result = run_manage("check", DJANGO_SECRET_KEY=secrets.token_urlsafe(60), RATE_LIMIT_SIGN_UP="10 a minute")
    assert result.returncode != 0
    assert "RATE_LIMIT_SIGN_UP" in result.stderr and "socialsite.E002" in result.stderr


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
