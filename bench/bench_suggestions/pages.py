"""Part c: warm pages under load. The suggestions page and the mutual-friends API under gunicorn (as the
Procfile starts it, DEBUG off, plain HTTP on loopback), loaded by `wrk` when installed (else a keep-alive
thread-pool generator), as a ratio to a minimal logged-in page with the same session, middleware and
template path."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.support.http import http_login, load_generator, wait_until_answers
from bench.support.services import UNREACHED_RATE_LIMITS, manage
from bench.support.stats import median
from tests.support.processes import ManagedProcess, start_gunicorn

from .common import BASELINE_USER, PASSWORD, TARGET_C, Row, log

# --- c. pages under load ------------------------------------------------------------------------------------


def start_server(tmp: Path) -> tuple[ManagedProcess, int]:
    """gunicorn with this process's environment (production settings), static files collected first; the
    rate limits counted but never reached (`UNREACHED_RATE_LIMITS`: the load would measure 429s)."""
    env = {**os.environ, **UNREACHED_RATE_LIMITS, "DJANGO_STATIC_ROOT": str(tmp / "static")}
    manage(["collectstatic", "--noinput", "-v", "0"], env=env)
    return start_gunicorn(env=env, log_path=tmp / "server.log")


def bench_c(args: argparse.Namespace, facts: dict[str, Any], port: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from friends.suggestions import store

    User = get_user_model()
    names = dict(User.objects.filter(pk__in=[facts["median_user"], facts["top_user"]]).values_list("pk", "username"))
    viewer, hub = names[facts["median_user"]], names[facts["top_user"]]
    found = store.suggestions_cached(facts["median_user"])
    if not found or not found[1]:
        raise RuntimeError(f"{viewer} has no cached suggestions to show")
    other = User.objects.get(pk=found[1][0][0]).username  # the viewer's top suggestion: most mutual friends
    hub_found = store.suggestions_cached(facts["top_user"])
    hub_other = User.objects.get(pk=hub_found[1][0][0]).username
    cookies = {
        viewer: http_login(port, viewer, PASSWORD),
        hub: http_login(port, hub, PASSWORD),
        BASELINE_USER: http_login(port, BASELINE_USER, PASSWORD),
    }
    targets = {
        "baseline": (BASELINE_USER, "/friends/", "<h1"),
        # The row links to the profile; its text is the display name (when the graph has names), so the
        # marker is the link's target.
        "suggestions page": (viewer, "/suggestions/", f'/u/{other}/"'),
        "mutual-friends API": (viewer, f"/api/v1/users/{other}/mutual-friends/", '"status":"ready"'),
    }
    if args.extra_pages:
        targets["minimal API (info)"] = (BASELINE_USER, "/api/v1/me/", '"username":')
        targets["suggestions page (hub)"] = (hub, "/suggestions/", f'/u/{hub_other}/"')
        targets["mutual-friends API (hub)"] = (hub, f"/api/v1/users/{hub_other}/mutual-friends/", '"status":"ready"')
    for name, (user, path, marker) in targets.items():  # warm: ready answers (the worker fills mutual entries)
        wait_until_answers(port, path, cookies[user], marker, name=name)
    load = load_generator(python=args.python_load)
    for user, path, _ in targets.values():  # one short untimed pass: threads, DB connections, caches
        load(port, path, cookies[user], seconds=1, connections=args.connections)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    log(f"[{args.child}] c. {args.rounds} rounds x {len(targets)} pages x {args.duration:g} s ({load.__name__})")
    for _ in range(args.rounds):
        for name, (user, path, _) in targets.items():
            result = load(port, path, cookies[user], seconds=args.duration, connections=args.connections)
            rounds[name].append(asdict(result))
            log(f"  {name:<26} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms")
    return {
        "viewer": viewer,
        "other": other,
        "hub": hub,
        "hub_other": hub_other,
        "paths": {name: path for name, (_, path, _) in targets.items()},
        "tool": rounds["baseline"][0]["tool"],
        "connections": args.connections,
        "rounds": rounds,
    }


def report_c(name: str, c: dict[str, Any]) -> tuple[list[Row], dict[str, float]]:
    rounds = c["rounds"]
    base_runs = rounds["baseline"]
    print(
        f"\n  (c) warm pages under load: {c['tool']}, {c['connections']} keep-alive connections, gunicorn "
        f"(gthread, DEBUG off); medians of {len(base_runs)} interleaved rounds; 'x base' = median over\n"
        "  rounds of req/s / the same round's baseline req/s"
    )
    print(f"  viewer {c['viewer']} (median degree), other {c['other']}; hub {c['hub']}, other {c['hub_other']}")
    print(f"  {'page':<26} {'path':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'x base':>6}")
    ratios: dict[str, float] = {}
    for page, runs in rounds.items():
        rps = median([x["rps"] for x in runs])
        ratios[page] = median([x["rps"] / b["rps"] for x, b in zip(runs, base_runs, strict=True)])
        print(
            f"  {page:<26} {c['paths'][page]:<44} {rps:>8.1f} {median([x['p50_ms'] for x in runs]):>7.1f} "
            f"{median([x['p99_ms'] for x in runs]):>7.1f} {sum(x['errors'] for x in runs):>6} {ratios[page]:>6.2f}"
        )
    print("  baseline = /friends/ of a user with no friends, requests or blocks: same session, auth, middleware")
    print("  and template path as the measured pages, four empty paginated lists, no graph work.")
    errors = sum(x["errors"] for runs in rounds.values() for x in runs)
    rows = [
        (
            f"[{name}] c. {page} req/s / baseline req/s",
            f"{ratios[page]:.2f}",
            f">= {TARGET_C:g}",
            ratios[page] >= TARGET_C and errors == 0,
        )
        for page in ("suggestions page", "mutual-friends API")
    ]
    return rows, ratios
