"""HTTP for the page benchmarks: a logged-in session, readiness, and load with `wrk` (or a Python fallback).

Everything talks to 127.0.0.1 only; every load run is bounded in time.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tests.support.waiting import wait_for

from .stats import percentile


def http_get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    """One GET on a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def csrf_token(body: str) -> str:
    """The form's CSRF token in a page (RuntimeError when there is none)."""
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if match is None:
        raise RuntimeError("page without a CSRF token")
    return match.group(1)


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
        if "csrftoken" not in cookies:
            raise RuntimeError("login page without a CSRF cookie")
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(body)})
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


def answers(port: int, path: str = "/login/") -> bool:
    """Whether the server answers `path` with 200 (False while it is not listening yet)."""
    try:
        return http_get(port, path)[0] == 200
    except OSError:
        return False


def wait_until_answers(port: int, path: str, cookie: str, marker: str, *, name: str, timeout: float = 90) -> None:
    """Until `path` answers 200 with `marker` in its body (spaces removed) — e.g. a page past its
    "computing" placeholder, caches warm; RuntimeError with the last answer after `timeout` seconds."""
    last: list[tuple[int, str]] = [(0, "")]

    def ready() -> bool:
        last[0] = http_get(port, path, cookie)
        status, body = last[0]
        return status == 200 and marker in body.replace(" ", "")

    try:
        wait_for(ready, timeout=timeout, interval=0.1)
    except AssertionError:
        raise RuntimeError(f"{name} never became ready: HTTP {last[0][0]} {last[0][1][:300]}") from None


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


def run_wrk(port: int, path: str, cookie: str, *, seconds: float, connections: int, close: bool = False) -> LoadResult:
    """`wrk` (one thread, `connections` keep-alive connections) for `seconds`; with `close`, every request
    asks the server to close its connection (`Connection: close`), so each one is a new connection."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency"]
    cmd += ["-H", f"Cookie: {cookie}", *(["-H", "Connection: close"] if close else [])]
    cmd += [f"http://127.0.0.1:{port}{path}"]
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


def run_python_load(
    port: int, path: str, cookie: str, *, seconds: float, connections: int, close: bool = False
) -> LoadResult:
    """Fallback generator: `connections` threads, each one keep-alive HTTP/1.1 connection (with `close`, a
    new connection per request), bounded in time."""
    headers = {"Cookie": cookie, **({"Connection": "close"} if close else {})}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < deadline and len(latencies[i]) < 200_000:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
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


LoadFn = Callable[..., LoadResult]


def load_generator(*, python: bool = False) -> LoadFn:
    """`run_wrk` when `wrk` is installed (Debian package) and not `python`, else `run_python_load`."""
    return run_python_load if python or not shutil.which("wrk") else run_wrk
