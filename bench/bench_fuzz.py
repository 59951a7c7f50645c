"""API fuzzing: Schemathesis against the project's own OpenAPI schema, on a live server (issue 11, 3).

    python -m bench.bench_fuzz                         # every operation, every check, every phase
    python -m bench.bench_fuzz --max-examples 200 --seed 7 --keep

What runs: gunicorn as the Procfile starts it (production settings, DEBUG off, plain HTTP on loopback),
on its own PostgreSQL database (created, migrated and dropped), Redis DB number and RabbitMQ vhost.
A normal user with friends, requests, a share and a notification is seeded so the fuzzer reaches real
objects; it logs in through `auth/token/` (`bench/fuzz_hooks.py`). Schemathesis (`st run`, config
`bench/schemathesis.toml`) runs all its phases (examples, coverage, fuzzing, stateful) and all checks
against every operation of `/api/schema/`, and the figures are printed from its JSON report: operations,
test cases, failures by check (0 expected for each), and whether any answer was a 5xx.

Rate limits are off on this server (RATE_LIMITS_ENABLED=false): one user sending thousands of requests a
minute would otherwise mostly get 429s (documented, so conformant, and testing nothing else); the limits
have their own tests (tests/socialsite/test_rate_limits.py). No worker runs: computations asked for stay
"computing", which is a documented answer.

`tests/socialsite/test_fuzz.py` runs the same thing, bounded, against pytest-django's live server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.support.services import (
    LOOPBACK_PRODUCTION_ENV,
    add_service_options,
    delete_vhost,
    django_env,
    drop_database,
    ensure_vhost,
    flush_redis,
    manage,
    recreate_database,
)
from tests.support.processes import start_gunicorn

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "schemathesis.toml"
USERNAME = "fuzzer"
PASSWORD = "fuzz-Passphrase-2026"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
]


# --- the fuzzing itself (also used by tests/socialsite/test_fuzz.py) ------------------------------------


def seed_data(*, username: str = USERNAME, password: str = PASSWORD) -> None:
    """A normal user with something behind every id the API takes (Django must be set up)."""
    import uuid

    from django.contrib.auth import get_user_model

    from accounts.services import user_sign_up
    from friends import services as friends
    from friends.shares.services import share_create
    from notifications.models import Notification
    from notifications.services import notification_create

    user_model = get_user_model()
    me = user_sign_up(username=username, password=password, email=f"{username}@example.com")
    others = [user_model.objects.create_user(f"{username}-{i}", password=password) for i in range(6)]
    for friend in others[:3]:
        friends.friendship_create(user=me, friend=friend)
    for asker in others[3:5]:
        friends.friend_request_send(from_user=asker, to_user=me)
    friends.friend_request_send(from_user=me, to_user=others[5])
    share_create(owner=me, url="https://example.com/fuzz", caption="seeded")
    notification_create(
        recipient_id=me.pk,
        event_id=uuid.uuid4(),
        kind=Notification.Kind.FRIEND_REQUEST_RECEIVED,
        text=f"{others[3].username} sent you a friend request.",
        actor_id=others[3].pk,
        url=f"/u/{others[3].username}/",
    )


def _fetch_schema(base_url: str, username: str, password: str, path: Path) -> None:
    """The live server's own schema (it is served to logged-in users only)."""

    def call(url: str, data: bytes | None = None, headers: dict | None = None) -> bytes:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    body = json.dumps({"username": username, "password": password}).encode()
    token = json.loads(call(f"{base_url}/api/v1/auth/token/", body, {"Content-Type": "application/json"}))["token"]
    path.write_bytes(call(f"{base_url}/api/schema/?format=json", headers={"Authorization": f"Token {token}"}))


def run_schemathesis(
    base_url: str,
    out_dir: Path,
    *,
    username: str = USERNAME,
    password: str = PASSWORD,
    max_examples: int = 100,
    seed: int | None = None,
    workers: int = 2,
    phases: str | None = None,
    timeout: float = 3600,
) -> dict:
    """Run `st run` with every check against `base_url`; its JSON report (see `summary`).

    The console output is kept beside the report (`out_dir/schemathesis.txt`) for the failures' details.
    """
    schema = out_dir / "schema.json"
    _fetch_schema(base_url, username, password, schema)
    report = out_dir / "report.json"
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", str(schema)]
    cmd += ["--url", base_url, "--checks", "all", "--max-examples", str(max_examples), "--workers", str(workers)]
    cmd += ["--report", "json", "--report-json-path", str(report), "--no-color"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if phases:
        cmd += ["--phases", phases]
    env = {
        **os.environ,
        "FUZZ_BASE_URL": base_url,
        "FUZZ_USERNAME": username,
        "FUZZ_PASSWORD": password,
        "PYTHONPATH": str(ROOT),
    }
    with (out_dir / "schemathesis.txt").open("w") as log:
        # In out_dir: Schemathesis keeps its cache (replayed crashes) in the working directory.
        subprocess.run(cmd, cwd=out_dir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report:\n{(out_dir / 'schemathesis.txt').read_text()[-3000:]}")
    return json.loads(report.read_text())


def failures_by_check(report: dict) -> dict[str, int]:
    """Failures per Schemathesis failure code and title (empty when there are none)."""
    return {f"{f['code']} {f['title']}": f["count"] for f in report.get("failures", [])}


def server_errors_logged(log_text: str) -> int:
    """5xx answers the server itself logged (django.request logs each at ERROR), whichever URL the
    fuzzer tried (it also probes paths outside the schema)."""
    return log_text.count("ERROR django.request")


def summary(report: dict) -> list[str]:
    ops, cases = report["operations"], report["test_cases"]
    failures = failures_by_check(report)
    server_errors = sum(n for name, n in failures.items() if "Server error" in name)
    phases = ", ".join(f"{name} {p['status']}" for name, p in report["phases"].items())
    lines = [
        f"operations: {ops['tested']} tested of {ops['selected']} selected ({ops['total']} in the schema), "
        f"{ops['errored']} errored",
        f"test cases: {cases['generated']} generated, {cases['with_failures']} with failures, "
        f"{cases['errored']} errored; phases: {phases}",
        f"checks: all {len(CHECKS)} ({', '.join(CHECKS)})",
        f"failures: {sum(failures.values())}" + "".join(f"\n  {name}: {count}" for name, count in failures.items()),
        f"5xx answers (not_a_server_error check): {server_errors}",
        f"errors: {len(report.get('errors', []))}; re-authentications: {report.get('auth', {}).get('reauth_count')}",
        f"running time: {report['running_time']:.1f} s, seed {report['seed']}",
    ]
    return lines


# --- the benchmark's own services ------------------------------------------------------------------------


def server_env(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """gunicorn's environment: production settings on the run's own database, Redis DB number and vhost."""
    return django_env(
        settings="socialsite.settings",
        database=args.database,
        redis_db=args.redis_db,
        vhost=args.vhost,
        **LOOPBACK_PRODUCTION_ENV,
        DJANGO_SECRET_KEY="bench-fuzz-not-a-secret-" + "x" * 40,
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_LOG_LEVEL="ERROR",
        RATE_LIMITS_ENABLED="false",
        WEB_CONCURRENCY="2",
        WEB_THREADS="4",
    )


def prepare(args: argparse.Namespace, env: dict[str, str]) -> None:
    """An empty database, vhost and Redis DB; migrated, static files collected (as scripts/run.sh does), seeded.
    Notes on `args` whether the vhost was created here (`cleanup` deletes only such a one)."""
    recreate_database(args.database)
    args.vhost_created = ensure_vhost(args.vhost)
    flush_redis(args.redis_db)
    manage(["migrate", "--noinput", "-v", "0"], env=env)
    manage(["collectstatic", "--noinput", "-v", "0"], env=env)
    manage(["shell", "-v", "0", "-c", "from bench.bench_fuzz import seed_data; seed_data()"], env=env)


def cleanup(args: argparse.Namespace) -> None:
    drop_database(args.database)
    flush_redis(args.redis_db)
    if getattr(args, "vhost_created", False):
        delete_vhost(args.vhost)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase (default 100)")
    parser.add_argument("--seed", type=int, default=None, help="Schemathesis seed (default: random)")
    parser.add_argument("--workers", type=int, default=2)
    add_service_options(parser, database="socialsite_bench_fuzz", redis_db=14, vhost="socialsite_bench_fuzz")
    parser.add_argument("--keep", action="store_true", help="keep the database and Redis data afterwards")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_fuzz_"))
    env = server_env(args, tmp)
    server = None
    try:
        prepare(args, env)
        server, port = start_gunicorn(env=env, log_path=tmp / "gunicorn.log")
        print(f"fuzzing http://127.0.0.1:{port} (gunicorn, 2 processes x 4 threads) ...", flush=True)
        report = run_schemathesis(
            f"http://127.0.0.1:{port}", tmp, max_examples=args.max_examples, seed=args.seed, workers=args.workers
        )
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            cleanup(args)
        print(f"logs and reports: {tmp}", file=sys.stderr)

    logged = server_errors_logged((tmp / "gunicorn.log").read_text(errors="replace"))
    print(f"Schemathesis {report['schemathesis_version']}, --max-examples {args.max_examples}, all checks")
    for line in summary(report):
        print(line)
    print(f"5xx answers in the server's log (any URL): {logged}")
    failed = bool(report.get("failures")) or bool(report.get("errors")) or logged > 0
    print("RESULT:", "FAIL (details in schemathesis.txt)" if failed else "PASS (0 failures, no 5xx)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
