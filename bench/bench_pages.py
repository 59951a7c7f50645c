"""Pages under the production server, as a ratio to a bare Django view served the same way (issue 12, 1).

    python -m bench.bench_pages                      # ego-Facebook demo data, 8 s of load per page
    python -m bench.bench_pages --seconds 5 --connections 8 --keep

What runs: gunicorn exactly as the Procfile starts it (`gunicorn -c gunicorn.conf.py`, gthread workers,
WEB_CONCURRENCY x WEB_THREADS, psycopg pool), production settings with DEBUG off and plain HTTP on
loopback (`SOCIALSITE_LOOPBACK_HTTP`), static files collected; the ego-Facebook graph loaded with
`manage.py load_graph` (as the demo does) into the benchmark's own database; one worker for the cold
mutual-friends computation of the warm-up. The settings module is `bench.pages_settings`: production
settings plus one URL, `/bench/bare/` — one Redis GET of a JSON list of 50 items rendered in a 50-row
template — the cheapest page this server configuration can serve, and the yardstick.

Measured with `wrk` (Debian package; a keep-alive Python generator when it is missing), logged in as the
demo user fb0, warm caches: the bare view, `/suggestions/`, `/friends/`, the profile of the user with the
most mutual friends with fb0, the home page and `GET /api/v1/suggestions/`; requests/s, p50 and p99, and
each page's requests/s as a ratio to the bare view's, measured in the same run. Target (a later part of
the issue): >= 0.5 for every page. After the load, the web tier's PostgreSQL connections (tagged by
application_name) must not exceed WEB_CONCURRENCY x DJANGO_DB_POOL_MAX_SIZE.

Its own database (dropped at the end unless --keep), Redis DB number (flushed) and RabbitMQ vhost;
127.0.0.1 only; every process it starts is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_suggestions.pages import (
    answers_login_page,
    free_port,
    http_get,
    http_login,
    run_python_load,
    run_wrk,
)
from bench.support.report import print_table_head
from bench.support.services import ensure_vhost
from socialsite import queues
from tests.support.processes import ROOT, ManagedProcess, start_rundramatiq

PG = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "bench-pages-password"
WEB_APP_NAME = "socialsite-bench-pages-web"
TARGET = 0.5


def env_for(args: argparse.Namespace, tmp: Path, app_name: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.pages_settings",
        "DJANGO_SECRET_KEY": "bench-pages-not-a-secret-" + "x" * 40,
        "DJANGO_DEBUG": "false",
        "SOCIALSITE_LOOPBACK_HTTP": "true",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{PG}/{args.database}?application_name={app_name}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{args.vhost}",
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(args.web_concurrency),
        "WEB_THREADS": str(args.web_threads),
        "DJANGO_DB_POOL_MAX_SIZE": str(args.pool_size),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *argv: str) -> None:
    subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, check=True, timeout=600)


def pg(sql: str, params: tuple = (), *, database: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def prepare(args: argparse.Namespace, tmp: Path) -> None:
    pg(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    pg(f'CREATE DATABASE "{args.database}"')
    ensure_vhost(args.vhost)
    import redis

    redis.Redis(db=args.redis_db).flushdb()
    env = env_for(args, tmp, "socialsite-bench-pages-setup")
    manage(env, "migrate", "--noinput", "-v", "0")
    started = time.perf_counter()
    manage(env, "load_graph", "--password", PASSWORD, "--no-progress")
    print(f"demo data loaded in {time.perf_counter() - started:.1f} s", flush=True)
    manage(env, "collectstatic", "--noinput", "-v", "0")
    # The bare view's data: 50 items shaped like suggestion rows, as JSON under one key.
    items = [{"username": f"fb{i}", "mutual_count": 50 - i} for i in range(50)]
    redis.Redis(db=args.redis_db).set("bench:bare:items", json.dumps(items))


def most_mutual_with(database: str, username: str) -> str:
    """The user sharing the most friends with `username` (the profile page then lists many of them)."""
    rows = pg(
        """
        SELECT u2.username FROM auth_user u1
        JOIN friends_friendship a ON a.user_id = u1.id
        JOIN friends_friendship b ON b.user_id = a.friend_id AND b.friend_id <> u1.id
        JOIN auth_user u2 ON u2.id = b.friend_id
        WHERE u1.username = %s GROUP BY u2.username ORDER BY count(*) DESC, u2.username LIMIT 1
        """,
        (username,),
        database=database,
    )
    return rows[0][0]


def warm(port: int, cookie: str, path: str, *, timeout: float = 90) -> None:
    """Request until the page is complete (no "computing…" placeholder): caches are warm."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = http_get(port, path, cookie)
        if status == 200 and "computing" not in body:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} still not warm after {timeout}s (HTTP {status})")
        time.sleep(0.2)


def web_connections(database: str) -> int:
    return pg(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
        (database, WEB_APP_NAME),
    )[0][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load per page (default 8)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--pool-size", type=int, default=4, help="DJANGO_DB_POOL_MAX_SIZE per web process")
    parser.add_argument("--database", default="socialsite_bench_pages")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--vhost", default="socialsite_bench_pages")
    parser.add_argument("--python-load", action="store_true", help="use the Python generator even with wrk")
    parser.add_argument("--keep", action="store_true", help="keep the database (and Redis data) afterwards")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    load = run_python_load if args.python_load or not shutil.which("wrk") else run_wrk
    services: list[ManagedProcess] = []
    try:
        prepare(args, tmp)
        # INFO: the worker says "ready for action" at that level.
        worker_env = {**env_for(args, tmp, "socialsite-bench-pages-worker"), "DJANGO_LOG_LEVEL": "INFO"}
        services.append(start_rundramatiq(env=worker_env, queues=queues.ALL, log_path=tmp / "worker.log"))

        port = free_port()
        web_env = {**env_for(args, tmp, WEB_APP_NAME), "SOCIALSITE_BIND": f"127.0.0.1:{port}"}
        server = ManagedProcess(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "socialsite.wsgi"],
            env={**web_env, "DJANGO_SETTINGS_MODULE": "bench.pages_settings"},
            log_path=tmp / "gunicorn.log",
        )
        services.append(server)
        server.wait_until_ready(lambda: answers_login_page(port))
        cookie = http_login(port, "fb0", PASSWORD)
        other = most_mutual_with(args.database, "fb0")
        targets = {
            "bare view (50 items)": "/bench/bare/",
            "/suggestions/": "/suggestions/",
            "/friends/ (fb0)": "/friends/",
            f"/u/{other}/ (profile)": f"/u/{other}/",
            "/ (home)": "/",
            "GET /api/v1/suggestions/": "/api/v1/suggestions/",
        }
        for path in targets.values():
            warm(port, cookie, path)
        results = {}
        for name, path in targets.items():
            results[name] = load(port, path, cookie, seconds=args.seconds, connections=args.connections)
            print(f"  {name}: {results[name].rps:.0f} req/s", file=sys.stderr, flush=True)
        connections_after = web_connections(args.database)
        bound = args.web_concurrency * args.pool_size
    finally:
        for service in reversed(services):
            service.stop()
        if not args.keep:
            pg(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            import redis

            redis.Redis(db=args.redis_db).flushdb()
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", args.vhost], capture_output=True, check=False)
        print(f"logs: {tmp}", file=sys.stderr)

    base = results["bare view (50 items)"]
    tool = next(iter(results.values())).tool
    print_table_head(
        f"Pages under gunicorn ({args.web_concurrency} processes x {args.web_threads} threads, gthread, DEBUG off, "
        f"psycopg pool {args.pool_size}/process), {tool}, {args.connections} keep-alive connections, "
        f"{args.seconds:g} s per page, logged in as fb0, warm caches",
        f"{'page':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'req/s ratio':>13}{'verdict':>9}",
    )
    passed = True
    for name, r in results.items():
        ratio = r.rps / base.rps
        verdict = "" if r is base else ("PASS" if ratio >= TARGET else "FAIL")
        passed &= r is base or ratio >= TARGET
        print(f"{name:<34}{r.rps:>9.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.errors:>8}{ratio:>13.2f}{verdict:>9}")
    print(f"(ratio: the page's requests/s over the bare view's, same run; target >= {TARGET} is a later part)")
    conn_ok = connections_after <= bound
    print(
        f"web PostgreSQL connections after the load: {connections_after} (bound {bound} = "
        f"{args.web_concurrency} processes x pool {args.pool_size})  {'PASS' if conn_ok else 'FAIL'}"
    )
    errors = sum(r.errors for r in results.values())
    return 0 if conn_ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
