"""Chaos benchmark (issue 10, acceptance 7): the site under load while RabbitMQ stops, a worker is killed -9
and Redis restarts empty; afterwards every answered write must have its effects and the derived data must
converge to a fresh computation.

    python -m bench.bench_chaos                  # 4 minutes of load, the three faults, then the checks (~9 min)
    python -m bench.bench_chaos --minutes 6      # longer
    python -m bench.bench_chaos --quick          # a quick trial: smaller, shorter outages (~6 min in all)

What runs, all on 127.0.0.1 and all started and ended here by PID:
- a private RabbitMQ node (`--rabbit-node`, default chaos@localhost; own ports, Mnesia, logs, cookie in
  the run's temporary directory) and a private `redis-server` without persistence on a free port, so the
  faults touch nobody else on the machine;
- the site exactly as the Procfile runs it: gunicorn (`gunicorn.conf.py`, production settings, DEBUG off,
  plain HTTP on loopback), the three `rundramatiq` workers and the scheduler (`manage.py crontab`), each
  restarted when it exits, as a supervisor would (exits it did not cause are counted);
- its own PostgreSQL database (`--database`, recreated), loaded with the lowest `--users` nodes of
  ego-Facebook (`manage.py load_graph --limit-nodes`) and one API token per user.

The load (`bench/chaos/load.py`): `--clients` threads, each a person at a time, sign up (API), send friend
requests (mostly to friends of friends), accept them, unfriend, and read: the API's suggestions, mutual
friends, notifications, unread count and profiles, and the pages home, suggestions, profile, notifications
and friends (a few users logged in through the form). Rate limits stay on, raised far above the load
(they are counted in Redis, so their failure behaviour is part of the test). Bounded by `--seconds` (at
least until the last fault is `--gap` seconds behind) and `--max-requests`.

The faults (`bench/chaos/faults.py`), one after another: after `--warmup` s RabbitMQ is stopped
(`rabbitmqctl stop`) for `--rabbit-down` s and started again; `--gap` s after it answers, the `--kill`
worker(s) are killed -9 and restarted by the supervisor; `--gap` s after they consume again, Redis is
killed -9 and started empty after `--redis-down` s.

The checks (`bench/chaos/checks.py`), once the load is over: every sign-up, request, accept and unfriend
answered as a success has its effect in the database (a write whose answer was a 5xx or no answer is
counted as uncertain and its pair left out); every due notification exists exactly once; no event is left
unpublished, no task dead-lettered; and, polled until true or `--converge-timeout`: every user's friend
set in Redis, every user's suggestions and the mutual friends of the pairs written to (and more, up to
`--mutual-pairs`) as the API serves them equal a fresh computation (`bench/chaos/reference.py`, plain
Python from the tables). Printed: answers by fault window and by kind, the time to converge, data lost
and 500s (both must be 0), PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.chaos import checks, report
from bench.chaos.faults import Schedule, run_schedule
from bench.chaos.load import Load, LoadConfig, User, World
from bench.chaos.reference import Snapshot
from bench.chaos.services import PrivateRabbit, PrivateRedis, Site
from bench.support.http import http_login
from bench.support.services import (
    UNREACHED_RATE_LIMITS,
    add_service_options,
    database_url,
    django_env,
    drop_database,
    manage,
    recreate_database,
)

PASSWORD = "chaos-bench-Passphrase-2026"

# Run by `manage.py shell -c`: one API token per active user, as JSON [[id, username, token], ...].
_TOKENS = """
import json
from django.contrib.auth import get_user_model
from accounts.tokens import token_create
users = get_user_model().objects.filter(is_active=True, is_staff=False).order_by("id")
print(json.dumps([[u.pk, u.username, token_create(user=u)[1]] for u in users]))
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quick trial: smaller, shorter outages")
    parser.add_argument("--minutes", type=float, help="load duration in minutes (default 4; quick 1.25)")
    parser.add_argument("--seconds", type=float, help="load duration in seconds (instead of --minutes)")
    parser.add_argument("--users", type=int, help="seeded users: lowest ego-Facebook nodes (default 250; quick 80)")
    parser.add_argument("--clients", type=int, help="load threads (default 6; quick 4)")
    parser.add_argument("--think-ms", type=float, default=40, help="pause after each request per client (default 40)")
    parser.add_argument("--max-requests", type=int, default=40_000, help="hard cap on load requests")
    parser.add_argument("--max-signups", type=int, help="sign-ups during the load (default 40; quick 10)")
    parser.add_argument("--page-users", type=int, default=6, help="users logged in through the form for pages")
    parser.add_argument("--warmup", type=float, help="seconds of load before the first fault (default 30; quick 10)")
    parser.add_argument("--gap", type=float, help="seconds between a fault's end and the next (default 40; quick 15)")
    parser.add_argument("--rabbit-down", type=float, help="seconds RabbitMQ stays stopped (default 20; quick 10)")
    parser.add_argument("--redis-down", type=float, default=3.0, help="seconds Redis stays down (default 3)")
    parser.add_argument("--kill", default="graph", help="Procfile worker(s) to kill -9, comma-separated (graph)")
    parser.add_argument("--tail", type=float, default=10.0, help="seconds after a fault counted in its window")
    parser.add_argument("--converge-timeout", type=float, default=180.0, help="bound on the time to converge (s)")
    parser.add_argument("--mutual-pairs", type=int, default=400, help="pairs whose mutual friends are checked")
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=10, help="random seed of the load")
    parser.add_argument("--rabbit-node", default="chaos@localhost", help="name of the private RabbitMQ node")
    parser.add_argument("--keep", action="store_true", help="keep the database and the whole temporary directory")
    add_service_options(parser, database="socialsite_chaos_bench", redis_db=7, vhost="h_chaos")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "users": (250, 80),
        "clients": (6, 4),
        "max_signups": (40, 10),
        "warmup": (30.0, 10.0),
        "gap": (40.0, 15.0),
        "rabbit_down": (20.0, 10.0),
    }
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    if args.seconds is None:
        args.seconds = (args.minutes if args.minutes is not None else (1.25 if quick else 4.0)) * 60
    return args


def site_env(args: argparse.Namespace, tmp: Path, rabbit: PrivateRabbit, redis: PrivateRedis, level: str) -> dict:
    """Production settings on the run's database and private servers, DEBUG off, plain HTTP on loopback."""
    return django_env(
        settings="socialsite.settings",
        database=args.database,
        redis_db=args.redis_db,
        REDIS_URL=redis.url,
        RABBITMQ_URL=rabbit.url,
        DJANGO_SECRET_KEY="bench-chaos-not-a-secret-" + "x" * 40,
        DJANGO_DEBUG="false",
        SOCIALSITE_LOOPBACK_HTTP="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        DJANGO_LOG_LEVEL=level,
        WEB_CONCURRENCY=str(args.web_concurrency),
        WEB_THREADS=str(args.web_threads),
        **UNREACHED_RATE_LIMITS,
    )


def seed(args: argparse.Namespace, env: dict, port: int) -> World:
    """The graph, a token per user, page sessions for a few; the model of the starting state."""
    manage(["migrate", "-v", "0"], env=env)
    manage(["load_graph", "--limit-nodes", str(args.users), "--password", PASSWORD, "--no-progress"], env=env)
    manage(["collectstatic", "--noinput", "-v", "0"], env=env)
    output = manage(["shell", "-c", _TOKENS], env=env)
    rows = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("[")))
    snap = Snapshot.read(database_url(args.database))
    users = {uid: User(uid, name, token) for uid, name, token in rows}
    return World(users=users, friends={uid: set(snap.friends.get(uid, set())) for uid in users})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_chaos_"))
    url = database_url(args.database)
    rabbit = PrivateRabbit(tmp / "rabbitmq", node=args.rabbit_node, vhost=args.vhost)
    redis = PrivateRedis(tmp / "redis", db=args.redis_db)
    (tmp / "redis").mkdir()
    site: Site | None = None
    load: Load | None = None
    chaos: threading.Thread | None = None
    schedule = Schedule(
        warmup=args.warmup, gap=args.gap, rabbit_down=args.rabbit_down, redis_down=args.redis_down,
        kill=[k.strip() for k in args.kill.split(",") if k.strip()], tail=args.tail,
    )  # fmt: skip
    stop = threading.Event()
    try:
        started = time.monotonic()
        redis.start()
        rabbit.start()
        recreate_database(args.database)
        env = site_env(args, tmp, rabbit, redis, "INFO")
        site = Site(env, root=tmp / "site", web_env=site_env(args, tmp, rabbit, redis, "WARNING"))
        world = seed(args, env, site.port)
        site.start()
        readers = sorted(world.users)[: args.page_users]
        for uid in readers:
            world.users[uid].cookie = http_login(site.port, world.users[uid].username, PASSWORD)
        friendships = sum(len(f) for f in world.friends.values()) // 2
        print(
            f"ready in {time.monotonic() - started:.0f} s: {len(world.users)} users, {friendships} friendships; "
            f"web on 127.0.0.1:{site.port}, RabbitMQ node {args.rabbit_node} on :{rabbit.port}, "
            f"Redis on :{redis.port}; logs in {tmp}",
            flush=True,
        )

        config = LoadConfig(
            port=site.port, seconds=args.seconds, clients=args.clients, max_requests=args.max_requests,
            max_signups=args.max_signups, think_s=args.think_ms / 1000, password=PASSWORD,
            run_tag=f"{int(time.time()) % 100000}", seed=args.seed,
        )  # fmt: skip
        load = Load(config, world)
        load.start_clock()
        services = {"rabbit": rabbit, "redis": redis, "site": site}
        chaos = threading.Thread(
            target=run_schedule, name="faults", kwargs={"schedule": schedule, "now": load.now, "stop": stop, **services}
        )
        chaos.start()

        def keep_going() -> bool:
            # Until every fault is over and `gap` seconds of load followed the last; bounded by 3 x --seconds.
            if load.now() > 3 * args.seconds or schedule.error:
                return False
            return chaos.is_alive() or load.now() < schedule.faults[-1].end + args.gap

        load.run(keep_going)
        load_end, load_seconds = time.monotonic(), load.now()
        stop.set()
        chaos.join(300)
        print(f"load done: {len(load.answers)} requests in {load_seconds:.0f} s; checking", flush=True)

        snap = Snapshot.read(url)
        pairs = checks.mutual_pairs(world, snap, limit=args.mutual_pairs, seed=args.seed)
        convergence = checks.converge(
            port=site.port, world=world, snap=snap, url=url, redis_url=redis.url, pairs=pairs,
            load_end=load_end, timeout=args.converge_timeout,
        )  # fmt: skip
        effects = checks.check_effects(world, snap)
        notes = checks.check_notifications(url, world, snap)
        backlog = checks.backlog(url)
        try:
            depths = rabbit.queue_depths()
        except (subprocess.SubprocessError, OSError) as exc:  # the node is down: said in the table
            depths = {"(RabbitMQ not answering)": -1}
            schedule.error = schedule.error or f"queue depths: {exc}"
        server_log = site.logs("web")
        unexpected = {name: len(slot.unexpected_exits) for name, slot in site.slots.items()}
        exits_detail = [f"{n}: {s.unexpected_exits[-1][-300:]!r}" for n, s in site.slots.items() if s.unexpected_exits]
    finally:
        stop.set()
        if load is not None:
            load.stop.set()
        if chaos is not None:
            chaos.join(300)  # never stop a server while the schedule may still start it again
        if site is not None:
            site.stop()
        rabbit.stop()
        redis.stop()
        if not args.keep:
            drop_database(args.database)
            for bulky in (tmp / "rabbitmq" / "mnesia", tmp / "static"):  # the logs stay
                shutil.rmtree(bulky, ignore_errors=True)

    return print_report(
        args, load_seconds, load, world, schedule, convergence, effects, notes, backlog, depths, server_log, unexpected,
        exits_detail, tmp,
    )  # fmt: skip


def print_report(
    args,
    load_seconds,
    load,
    world,
    schedule,
    convergence,
    effects,
    notes,
    backlog,
    depths,
    server_log,
    unexpected,
    exits_detail,
    tmp,
) -> int:
    answers = load.answers
    print()
    print(
        f"Chaos benchmark: {load_seconds:.0f} s of load ({args.clients} clients, think {args.think_ms:g} ms) against "
        f"gunicorn ({args.web_concurrency} x {args.web_threads} threads) + the Procfile's workers and scheduler; "
        f"private RabbitMQ and Redis; {args.users} seeded users (ego-Facebook), {len(world.signed_up)} sign-ups"
    )
    print("Faults (seconds since the load began):")
    for fault in schedule.faults:
        print(f"  {fault.label}: {fault.start:.1f} s -> answering again at {fault.end:.1f} s ({fault.detail})")
    if schedule.error:
        print(f"  FAULT INJECTION FAILED: {schedule.error}")
    report.by_window(answers, schedule)
    report.by_kind(answers)

    five_hundreds = sum(a.status == 500 for a in answers)
    logged_500 = server_log.count("ERROR django.request")
    dead_letters = sum(n for q, n in depths.items() if q.endswith(".XQ"))
    lost = len(effects.missing) + len(notes.missing) + backlog.unpublished_events + backlog.failed_tasks + dead_letters
    conv = convergence
    conv_text = (
        f"converged {conv.seconds:.1f} s after the load (bound {args.converge_timeout:g} s; {conv.passes} passes)"
        if conv.converged
        else f"NOT converged within {args.converge_timeout:g} s: "
        + ", ".join(f"{k} {len(v)}" for k, v in conv.failing.items())
    )
    items = ", ".join(f"{n} {k}" for k, n in conv.items.items())
    matched = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(conv.matched.items(), key=lambda kv: kv[1]))
    other_errors = sum(report.status_class(a) in ("503", "5xx other", "timeout", "conn.", "302") for a in answers)

    def summed(counter) -> str:
        return f"{sum(counter.values())} {dict(counter)}"

    done_writes = effects.checked - len(effects.missing)
    due = f"{notes.expected - len(notes.missing)} of {notes.expected}; duplicated {len(notes.duplicated)}"
    faults = f"{len(schedule.faults)} of 3" + (f": {schedule.error}" if schedule.error else "")
    rows = [
        ("answered writes with their effects", f"{done_writes} of {effects.checked}", not effects.missing),
        ("due notifications present, exactly once", due, not notes.missing and not notes.duplicated),
        (
            "events unpublished / tasks dead-lettered / .XQ messages",
            f"{backlog.unpublished_events} / {backlog.failed_tasks} / {dead_letters}",
            None,
        ),
        ("DATA LOST (sum of the above that is missing)", f"{lost}", lost == 0),
        (
            "responses 500 (load) / 500s the server logged",
            f"{five_hundreds} / {logged_500}",
            five_hundreds == 0 and logged_500 == 0,
        ),
        ("derived data = fresh computation", conv_text, conv.converged),
        ("  items checked", f"friend sets of {len(world.users)} users, {items}", None),
        ("  each right from (s after the load)", matched or "none", None),
        (
            "  the checker's first pass (resolution)",
            f"{conv.first_pass_seconds:.1f} s; not right then: {summed(conv.first_pass_wrong)}",
            None,
        ),
        ("other failed answers (503, other 5xx, 302, timeouts, connection)", f"{other_errors}", None),
        (
            "writes with an unknown outcome (pairs left out)",
            f"{summed(world.uncertain_writes)} ({effects.uncertain_pairs} pairs)",
            None,
        ),
        ("stale 'ready' answers to a user involved in a write", summed(world.stale_involved), None),
        ("stale 'ready' answers after a third party's write", summed(world.stale_third_party), None),
        ("mutual-friends count != list length", f"{world.count_mismatch}", None),
        ("orphan task records (enqueued > 60 s)", f"{backlog.orphan_tasks}", None),
        ("'sent' notifications not due (accepted first)", f"{notes.skipped_sent}", None),
        ("processes that exited unexpectedly", f"{sum(unexpected.values())} {unexpected}", None),
        ("faults injected as scheduled", faults, len(schedule.faults) == 3 and not schedule.error),
    ]
    ok = report.checks(rows)
    report.examples("effects missing", effects.missing)
    report.examples("notifications missing", notes.missing)
    report.examples("notifications duplicated", notes.duplicated)
    for kind, problems in conv.failing.items():
        report.examples(f"not converged: {kind}", problems)
    report.examples("unexpected exits", exits_detail, limit=3)
    report.examples(
        "answers not 2xx (first body per kind and status)",
        [f"{k}: {v[:160]!r}" for k, v in load.examples.items()],
        limit=12,
    )
    print()
    print(f"{'PASS' if ok else 'FAIL'}  (logs: {tmp})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
