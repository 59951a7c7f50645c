"""Part c: warm pages under load. The suggestions page and the mutual-friends API through `manage.py
runserver` (DEBUG off), loaded by `wrk` when installed (else a keep-alive thread-pool generator), as a
ratio to a minimal logged-in page with the same session, middleware and template path."""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.support.stats import median, percentile
from tests.support.processes import ManagedProcess
from tests.support.waiting import wait_for

from .common import BASELINE_USER, PASSWORD, TARGET_C, Row, log

# --- c. pages under load ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path) -> tuple[ManagedProcess, int]:
    """`runserver --noreload` (threaded WSGI server, DEBUG off, no SSL redirect), 127.0.0.1 only, once it
    answers the login page."""
    port = free_port()
    cmd = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = ManagedProcess("server", cmd, env=os.environ, log_path=tmp / "server.log")
    server.wait_until_ready(lambda: answers_login_page(port))
    return server, port


def answers_login_page(port: int) -> bool:
    """Whether a server on `port` answers its log-in page (200): ready for the benchmark's requests."""
    try:
        return http_get(port, "/login/")[0] == 200
    except OSError:
        return False


def http_get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def http_login(port: int, username: str, password: str) -> str:
    """Log in through the real login form (CSRF token and all); returns the Cookie header to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login/")
        response = conn.getresponse()
        body = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if match is None or "csrftoken" not in cookies:
            raise RuntimeError("login page without a CSRF token")
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)})
        csrf = cookies["csrftoken"].value
        conn.request(
            "POST",
            "/login/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
        )
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        if response.status != 302 or "sessionid" not in cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {response.status}")
        return f"sessionid={cookies['sessionid'].value}; csrftoken={cookies['csrftoken'].value}"
    finally:
        conn.close()


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def run_wrk(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> LoadResult:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency"]
    cmd += ["-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{path}"]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout

    def latency(q: str) -> float:
        value, unit = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
        return float(value) * _UNITS[unit]

    requests, secs = re.search(r"(\d+) requests in ([\d.]+)(?:s)", text).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(
        "wrk",
        int(requests),
        float(secs),
        float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        latency("50"),
        latency("99"),
        failed,
    )


def run_python_load(port: int, path: str, cookie: str, *, seconds: float, connections: int) -> LoadResult:
    """Fallback generator: `connections` threads, each one keep-alive HTTP/1.1 connection, bounded in time."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline and len(latencies[i]) < 200_000:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[i].append((time.perf_counter() - started) * 1000)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = [x for per in latencies for x in per]
    return LoadResult(
        "python", len(flat), elapsed, len(flat) / elapsed, percentile(flat, 50), percentile(flat, 99), sum(errors)
    )


def wait_until_answers(port: int, path: str, cookie: str, marker: str, *, name: str, timeout: float = 60) -> None:
    """Until `path` answers 200 with `marker` in its body (spaces removed); RuntimeError with the last
    answer after `timeout` seconds."""
    last: list[tuple[int, str]] = [(0, "")]

    def ready() -> bool:
        last[0] = http_get(port, path, cookie)
        status, body = last[0]
        return status == 200 and marker in body.replace(" ", "")

    try:
        wait_for(ready, timeout=timeout, interval=0.1)
    except AssertionError:
        raise RuntimeError(f"{name} never became ready: HTTP {last[0][0]} {last[0][1][:300]}") from None


def bench_c(args: argparse.Namespace, facts: dict[str, Any], port: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from friends import suggestions as S

    User = get_user_model()
    names = dict(User.objects.filter(pk__in=[facts["median_user"], facts["top_user"]]).values_list("pk", "username"))
    viewer, hub = names[facts["median_user"]], names[facts["top_user"]]
    found = S.suggestions_cached(facts["median_user"])
    if not found or not found[1]:
        raise RuntimeError(f"{viewer} has no cached suggestions to show")
    other = User.objects.get(pk=found[1][0][0]).username  # the viewer's top suggestion: most mutual friends
    hub_found = S.suggestions_cached(facts["top_user"])
    hub_other = User.objects.get(pk=hub_found[1][0][0]).username
    cookies = {
        viewer: http_login(port, viewer, PASSWORD),
        hub: http_login(port, hub, PASSWORD),
        BASELINE_USER: http_login(port, BASELINE_USER, PASSWORD),
    }
    targets = {
        "baseline": (BASELINE_USER, "/friends/", "<h1"),
        "suggestions page": (viewer, "/suggestions/", f">{other}</a>"),
        "mutual-friends API": (viewer, f"/api/v1/users/{other}/mutual-friends/", '"status":"ready"'),
    }
    if args.extra_pages:
        targets["minimal API (info)"] = (BASELINE_USER, "/api/v1/me/", '"username":')
        targets["suggestions page (hub)"] = (hub, "/suggestions/", f">{hub_other}</a>")
        targets["mutual-friends API (hub)"] = (hub, f"/api/v1/users/{hub_other}/mutual-friends/", '"status":"ready"')
    for name, (user, path, marker) in targets.items():  # warm: ready answers (the worker fills mutual entries)
        wait_until_answers(port, path, cookies[user], marker, name=name)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    load = run_wrk if use_wrk else run_python_load
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
        "tool": "wrk" if use_wrk else "python",
        "connections": args.connections,
        "rounds": rounds,
    }


def report_c(name: str, c: dict[str, Any]) -> tuple[list[Row], dict[str, float]]:
    rounds = c["rounds"]
    base_runs = rounds["baseline"]
    print(
        f"\n  (c) warm pages under load: {c['tool']}, {c['connections']} keep-alive connections, runserver "
        f"(threaded, DEBUG off); medians of {len(base_runs)} interleaved rounds; 'x base' = median over\n"
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
