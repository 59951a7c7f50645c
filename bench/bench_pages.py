"""Pages under the production server as a ratio to a bare Django view served the same way (issue 12, 1),
and a write, the friend-request accept round trip over HTTP, as a ratio to the warm suggestions page (2).

    python -m bench.bench_pages                          # ego-Facebook demo data
    python -m bench.bench_pages --graph synthetic        # the larger graph (40k users; loaded once, reused)
    python -m bench.bench_pages --seconds 2 --rounds 1 --accepts 5     # a quick trial

What runs: gunicorn exactly as the Procfile starts it (`gunicorn -c gunicorn.conf.py`, gthread workers,
WEB_CONCURRENCY x WEB_THREADS, psycopg pool), production settings with DEBUG off and plain HTTP on
loopback (`SOCIALSITE_LOOPBACK_HTTP`), static files collected; the graph loaded with `manage.py load_graph`
into the benchmark's own database (shared with `bench.bench_suggestions`, reused while unchanged), the
graph cache rebuilt; one worker (all queues) for the events and the cold computations of the warm-up.
The settings module is `bench.pages_settings`: production settings plus one URL, `/bench/bare/` — one
Redis GET of a JSON list of 50 items rendered in a 50-row template — the cheapest page this server
configuration can serve, and the yardstick.

1. Pages, measured with `wrk` (Debian package; a Python generator when it is missing), logged
   in as the demo user fb0, warm caches, in `--rounds` interleaved rounds: the bare view, `/suggestions/`,
   `/friends/`, the profile of the user with the most mutual friends with fb0, the home page and
   `GET /api/v1/suggestions/`; requests/s, p50 and p99, and each page's requests/s as a ratio to the bare
   view's in the same round (median over rounds). Target >= 0.5 for every page. Beside them, the CPU each
   request cost the web server (gunicorn's processes) and PostgreSQL (all its processes), read from
   /proc before and after each timed load (`bench.support.cpu`): where a page's time goes under load,
   which in-process profiling (`bench.pages_profile`) does not show. After the load, the web
   tier's PostgreSQL connections (tagged by application_name) must not exceed WEB_CONCURRENCY x
   DJANGO_DB_POOL_MAX_SIZE.
   Each request on a new connection (`Connection: close`), as gunicorn is served behind a proxy that
   does not keep upstream connections (nginx's default): with keep-alive (`--keep-alive`), each of the
   8 connections stays for a whole round with whichever gunicorn process accepted it first, and a 6/2 or
   7/1 split left a core idle for that page's round only; the same code then gave `/suggestions/`
   0.40-0.89 of the bare view from run to run. A new connection per request goes to a process that is
   waiting, so the two processes share the load as they would in production.
2. The accept round trip: `--accepts` pending requests to one user (sent through the service beforehand),
   each accepted by a POST of the page's form (CSRF token, session cookie) until the 302 is back; one
   connection, interleaved with a GET of fb0's warm `/suggestions/` on the same kind of connection (fb0 is
   friends with neither side, so that page stays warm). p50/p99 of each and the ratio of the p50s.

Its own Redis DB number (flushed) and RabbitMQ vhost; 127.0.0.1 only; every process it starts is stopped.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.bench_suggestions.graphs import graph_specs, prepare_database
from bench.support.cpu import CPUMeter
from bench.support.http import csrf_token, http_get, http_login, load_generator, wait_until_answers
from bench.support.services import (
    UNREACHED_RATE_LIMITS,
    add_service_options,
    database_url,
    delete_vhost,
    django_env,
    ensure_vhost,
    flush_redis,
    manage,
)
from bench.support.stats import median, percentile
from tests.support.processes import start_gunicorn, start_rundramatiq

TARGET = 0.5
WEB_APP_NAME = "socialsite-bench-pages-web"
VIEWER = "fb0"


def env_for(args: argparse.Namespace, database: str, tmp: Path, app_name: str) -> dict[str, str]:
    """Production settings (+ the bare view) on the run's database, DEBUG off, plain HTTP on loopback."""
    return django_env(
        settings="bench.pages_settings",
        database=f"{database_url(database)}?application_name={app_name}",
        redis_db=args.redis_db,
        vhost=args.vhost,
        DJANGO_SECRET_KEY="bench-pages-not-a-secret-" + "x" * 40,
        DJANGO_DEBUG="false",
        SOCIALSITE_LOOPBACK_HTTP="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(args.web_concurrency),
        WEB_THREADS=str(args.web_threads),
        DJANGO_DB_POOL_MAX_SIZE=str(args.pool_size),
        # No process recycling during the measurement: at ~200 requests/s, gunicorn's max_requests (5,000)
        # restarted each process twice a run, and a boot (cold caches, new connections, compiling the
        # templates) landed in the middle of whichever page was being measured.
        WEB_MAX_REQUESTS="0",
        **UNREACHED_RATE_LIMITS,
    )


def pg(database: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(database_url(database), autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def most_mutual_with(database: str, username: str) -> str:
    """The user sharing the most friends with `username` (the profile page then lists many of them)."""
    return pg(
        database,
        """
        SELECT u2.username FROM auth_user u1
        JOIN friends_friendship a ON a.user_id = u1.id
        JOIN friends_friendship b ON b.user_id = a.friend_id AND b.friend_id <> u1.id
        JOIN auth_user u2 ON u2.id = b.friend_id
        WHERE u1.username = %s GROUP BY u2.username ORDER BY count(*) DESC, u2.username LIMIT 1
        """,
        (username,),
    )[0][0]


# Run by `manage.py shell`: one receiver, `count` senders, none of them friends with the viewer or each
# other, a pending request from each sender (through the service, so events flow as in production).
_SEND_REQUESTS = """
import json
from django.contrib.auth import get_user_model
from friends import services
from friends.models import Friendship
User = get_user_model()
viewer = User.objects.get(username={viewer!r})
near = set(Friendship.objects.filter(user=viewer).values_list("friend_id", flat=True)) | {{viewer.pk}}
candidates = [u for u in User.objects.filter(username__startswith="fb").order_by("-pk")[:2000] if u.pk not in near]
receiver = candidates[0]
mine = set(Friendship.objects.filter(user=receiver).values_list("friend_id", flat=True))
senders = [u for u in candidates[1:] if u.pk not in mine][:{count}]
ids = [services.friend_request_send(from_user=s, to_user=receiver).pk for s in senders]
print(json.dumps({{"receiver": receiver.username, "requests": ids}}))
"""


def post_form(port: int, path: str, cookie: str, fields: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", path, body=urlencode(fields), headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def accept_round_trips(
    port: int, env: dict[str, str], viewer_cookie: str, password: str, count: int
) -> dict[str, list[float]]:
    """`count` accepts over HTTP, each followed by a GET of the viewer's warm suggestions page (ms each)."""
    output = manage(["shell", "-c", _SEND_REQUESTS.format(viewer=VIEWER, count=count)], env=env)
    made = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
    receiver_cookie = http_login(port, made["receiver"], password)
    _, body = http_get(port, "/friends/", receiver_cookie)
    token = csrf_token(body)
    out: dict[str, list[float]] = {"accept": [], "suggestions": []}
    for request_id in made["requests"]:
        started = time.perf_counter()
        status = post_form(port, f"/requests/{request_id}/accept/", receiver_cookie, {"csrfmiddlewaretoken": token})
        out["accept"].append((time.perf_counter() - started) * 1000)
        if status != 302:
            raise RuntimeError(f"accept of request {request_id}: HTTP {status}")
        started = time.perf_counter()
        status, page = http_get(port, "/suggestions/", viewer_cookie)
        out["suggestions"].append((time.perf_counter() - started) * 1000)
        if status != 200 or "computing" in page:
            raise RuntimeError(f"{VIEWER}'s suggestions page was not warm (HTTP {status})")
    return out


def web_connections(database: str) -> int:
    return pg(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
        (database, WEB_APP_NAME),
    )[0][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", choices=("facebook", "synthetic"), default="facebook")
    parser.add_argument("--syn-nodes", type=int, default=40_000, help="users of the synthetic graph")
    parser.add_argument("--fresh", action="store_true", help="reload the database even if reusable")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per page and round (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds over the pages (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="keep each connection for the whole round instead of a new one per request (see the module doc)",
    )
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--pool-size", type=int, default=4, help="DJANGO_DB_POOL_MAX_SIZE per web process")
    parser.add_argument(
        "--accepts", type=int, default=None, help="accept round trips (default 50 on ego-Facebook, 0 on synthetic)"
    )
    parser.add_argument("--python-load", action="store_true", help="use the Python generator even with wrk")
    add_service_options(parser, database="socialsite_bench", redis_db=11, vhost="socialsite_bench_pages")
    args = parser.parse_args(argv)
    accepts = args.accepts if args.accepts is not None else (50 if args.graph == "facebook" else 0)

    from bench.bench_suggestions.common import PASSWORD

    spec = graph_specs(args)[args.graph]
    tmp = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    setup_env = env_for(args, spec.database, tmp, "socialsite-bench-pages-setup")
    load = load_generator(python=args.python_load)
    services = []
    vhost_created = ensure_vhost(args.vhost)
    flush_redis(args.redis_db)
    try:
        started = time.perf_counter()
        prepare_database(spec, fresh=args.fresh, env=setup_env)
        manage(["rebuild_graph_cache"], env=setup_env)
        manage(["collectstatic", "--noinput", "-v", "0"], env=setup_env)
        # The bare view's data: 50 items shaped like suggestion rows, as JSON under one key.
        import redis

        items = [{"username": f"fb{i}", "mutual_count": 50 - i} for i in range(50)]
        redis.Redis.from_url(setup_env["REDIS_URL"]).set("bench:bare:items", json.dumps(items))
        print(f"{spec.label}: database and graph cache ready in {time.perf_counter() - started:.0f} s", flush=True)

        worker_env = {**env_for(args, spec.database, tmp, "socialsite-bench-pages-worker"), "DJANGO_LOG_LEVEL": "INFO"}
        services.append(
            start_rundramatiq(
                env=worker_env, queues=["graph", "notifications", "default", "maintenance"], threads=2,
                log_path=tmp / "worker.log",
            )
        )  # fmt: skip
        server, port = start_gunicorn(env=env_for(args, spec.database, tmp, WEB_APP_NAME), log_path=tmp / "web.log")
        services.append(server)

        cookie = http_login(port, VIEWER, PASSWORD)
        other = most_mutual_with(spec.database, VIEWER)
        targets = {
            "bare view (50 items)": ("/bench/bare/", "<li>"),
            "/suggestions/": ("/suggestions/", "mutualfriend"),
            f"/friends/ ({VIEWER})": ("/friends/", "Yourfriends"),
            f"/u/{other}/ (most mutual)": (f"/u/{other}/", 'Mutualfriends<spanclass="muted">'),
            "/ (home)": ("/", "Peopleyoumayknow"),
            "GET /api/v1/suggestions/": ("/api/v1/suggestions/", '"status":"ready"'),
        }
        for name, (path, marker) in targets.items():
            wait_until_answers(port, path, cookie, marker, name=name)
        per_load = {"connections": args.connections, "close": not args.keep_alive}
        for path, _ in targets.values():  # one short untimed pass: threads, pooled connections, caches
            load(port, path, cookie, seconds=1, **per_load)
        rounds: dict[str, list] = {name: [] for name in targets}
        meter = CPUMeter(server.proc.pid)
        cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}  # ms a request: web, PG
        for i in range(args.rounds):
            for name, (path, _) in targets.items():
                before = meter.sample()
                result = load(port, path, cookie, seconds=args.seconds, **per_load)
                web, postgres = meter.spent(before, meter.sample())
                rounds[name].append(result)
                cpu[name].append((web * 1000 / max(result.requests, 1), postgres * 1000 / max(result.requests, 1)))
            print(f"  round {i + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        trips = accept_round_trips(port, setup_env, cookie, PASSWORD, accepts) if accepts else None
        connections_after = web_connections(spec.database)
    finally:
        for service in reversed(services):
            service.stop()
        flush_redis(args.redis_db)
        if vhost_created:
            delete_vhost(args.vhost)
        print(f"logs: {tmp}", file=sys.stderr)

    bound = args.web_concurrency * args.pool_size
    base = rounds["bare view (50 items)"]
    kind = "keep-alive connections" if args.keep_alive else "connections, a new one per request"
    print()
    print(
        f"Pages under gunicorn ({args.web_concurrency} processes x {args.web_threads} threads, gthread, DEBUG off, "
        f"psycopg pool {args.pool_size}/process), {spec.label}, {base[0].tool}, {args.connections} {kind}, "
        f"{args.rounds} interleaved round(s) of {args.seconds:g} s per page, logged in as {VIEWER}, warm caches"
    )
    print()
    header = (
        f"{'page':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'÷ bare':>9}{'verdict':>9}"
        f"{'web CPU':>9}{'PG CPU':>8}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, runs in rounds.items():
        ratio = median(r.rps / b.rps for r, b in zip(runs, base, strict=True))
        is_base = runs is base
        verdict = "" if is_base else ("PASS" if ratio >= TARGET else "FAIL")
        ok &= is_base or ratio >= TARGET
        web_ms, pg_ms = (median(c[i] for c in cpu[name]) for i in (0, 1))
        usage = f"{web_ms:>9.2f}{pg_ms:>8.2f}" if meter.available else f"{'n/a':>9}{'n/a':>8}"
        print(
            f"{name:<36}{median(r.rps for r in runs):>9.0f}{median(r.p50_ms for r in runs):>9.1f}"
            f"{median(r.p99_ms for r in runs):>9.1f}{sum(r.errors for r in runs):>8}{ratio:>9.2f}{verdict:>9}{usage}"
        )
    print(f"(÷ bare: the page's req/s over the bare view's in the same round, median of rounds; target >= {TARGET})")
    print(
        "(web CPU, PG CPU: milliseconds of CPU per request charged to gunicorn's processes and to PostgreSQL's "
        "during the timed load, median of rounds)"
    )
    conn_ok = connections_after <= bound
    print(
        f"web PostgreSQL connections after the load: {connections_after} (bound {bound} = "
        f"{args.web_concurrency} processes x pool {args.pool_size})  {'PASS' if conn_ok else 'FAIL'}"
    )
    if trips:
        acc, sug = trips["accept"], trips["suggestions"]
        print()
        print(
            f"Friend-request accept round trip over HTTP (POST form -> 302), {len(acc)} accepts, one connection at a "
            f"time, each followed by a GET of {VIEWER}'s warm /suggestions/:"
        )
        print(f"  accept:        p50 {percentile(acc, 50):.1f} ms, p99 {percentile(acc, 99):.1f} ms")
        print(f"  /suggestions/: p50 {percentile(sug, 50):.1f} ms, p99 {percentile(sug, 99):.1f} ms")
        print(f"  accept p50 / suggestions p50: {percentile(acc, 50) / percentile(sug, 50):.2f}")
    errors = sum(r.errors for runs in rounds.values() for r in runs)
    return 0 if ok and conn_ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
