"""The benchmarks' own PostgreSQL databases, Redis DB numbers and RabbitMQ vhosts, and the Django child
processes that use them, so a run never touches a developer's, the demo's or a test run's data.

Every benchmark takes `--database`, `--redis-db` (and `--vhost` when it uses RabbitMQ) through
`add_service_options`; pass other values when two runs share the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.processes import ROOT

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = "redis://127.0.0.1:6379"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672"
# The production settings as a benchmark serves them: DEBUG off, plain HTTP on loopback only (README).
LOOPBACK_PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "SOCIALSITE_LOOPBACK_HTTP": "true",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
}
# The rate limits of a server under a load generator: still counted on every request (their cost is the
# page's), never reached. Thousands of requests a minute from one user would otherwise measure the 429
# answer or the profile's "try again later" instead of the page. Every scope of settings.RATE_LIMITS.
RATE_SCOPES = ("anon", "user", "login_account", "login_ip", "sign_up", "friend_requests", "mutual_friends", "shares")
UNREACHED_RATE_LIMITS = {f"RATE_LIMIT_{scope.upper()}": "1000000/m" for scope in RATE_SCOPES}


def add_service_options(
    parser: argparse.ArgumentParser, *, database: str, redis_db: int, vhost: str | None = None
) -> None:
    """`--database`, `--redis-db` and, for benchmarks that use RabbitMQ, `--vhost`, with these defaults."""
    parser.add_argument("--database", default=database, help="PostgreSQL database (name or prefix) of the run")
    parser.add_argument("--redis-db", type=int, default=redis_db, help="Redis DB number the run may flush")
    if vhost is not None:
        parser.add_argument("--vhost", default=vhost, help="RabbitMQ virtual host (created when missing)")


def database_url(name: str) -> str:
    return f"{PG}/{name}"


def _admin() -> Any:
    import psycopg

    return psycopg.connect(database_url("postgres"), autocommit=True)


def ensure_database(name: str) -> None:
    """Create the database unless it exists (its contents are kept)."""
    with _admin() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def recreate_database(name: str) -> None:
    """Drop the database (closing its connections) and create it empty."""
    drop_database(name)
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ensure_vhost(vhost: str) -> bool:
    """Create the RabbitMQ virtual host unless it exists, and let `guest` use it (needs `rabbitmqctl`).

    Returns whether this call created it: a benchmark deletes at the end only a vhost it created, so one
    pointed at a vhost in use (a test run's, a developer's) leaves it in place."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True)
    created = vhost not in listed.stdout.split()
    if created:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    return created


def delete_vhost(vhost: str) -> None:
    """Delete the RabbitMQ virtual host with its queues (quietly when it is already gone)."""
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)


def flush_redis(redis_db: int) -> None:
    """Empty the run's Redis DB number."""
    import redis

    redis.Redis.from_url(f"{REDIS}/{redis_db}").flushdb()


def django_env(
    *, settings: str, database: str, redis_db: int, vhost: str | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a Django process of the benchmark: this process's, pointed at the run's own
    database (a name, or a full URL such as `sqlite:///...`), Redis DB number and vhost."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database if "://" in database else database_url(database),
        "REDIS_URL": f"{REDIS}/{redis_db}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    if vhost is not None:
        env["RABBITMQ_URL"] = f"{RABBITMQ}/{vhost}"
    return env


def manage(args: list[str], *, env: Mapping[str, str]) -> str:
    """`python manage.py <args>` with `env`; returns its output, raises RuntimeError with it on failure."""
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def setup_django_here(
    *,
    settings: str,
    database: str,
    redis_db: int,
    vhost: str | None = None,
    log_path: Path | None = None,
    migrate: bool = True,
    **extra: str,
) -> None:
    """Make this process a Django process of the run (its environment from `django_env`, so a worker it
    starts inherits the same settings), `django.setup()`, migrate; with `log_path`, this process's log
    lines go to that file so the printed tables stay readable. Call before anything imports Django models."""
    os.environ.update(django_env(settings=settings, database=database, redis_db=redis_db, vhost=vhost, **extra))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    if log_path is not None:
        import logging

        handler = logging.FileHandler(log_path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)


def close_django_connections() -> None:
    """Close this process's database connections (before its database is dropped)."""
    from django.db import connections

    connections.close_all()
