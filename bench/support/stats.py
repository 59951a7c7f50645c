"""Statistics and timing shared by the benchmarks."""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of the samples at or below it (p99 of
    100 samples is the 99th smallest); infinite values (timeouts) sort last."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * q / 100))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    """The median, or NaN for no values (a part that measured nothing prints as nan, not a crash)."""
    values = list(values)
    return statistics.median(values) if values else math.nan


def timed_series(fn: Callable[[], Any], *, runs: int, budget_s: float = math.inf, at_least: int = 10) -> list[float]:
    """Up to `runs` timings of `fn` (seconds each), stopping after `budget_s` once `at_least` are in."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < runs and (len(times) < at_least or time.perf_counter() < deadline):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def interleaved_series(
    fns: dict[str, Callable[[], Any]], *, runs: int, budget_s: float = math.inf, at_least: int = 10
) -> dict[str, list[float]]:
    """Like `timed_series` for several functions at once, run in turn (a, b, a, b, ...), so a change of
    the machine's load falls on all of them alike and their ratio stays fair."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    deadline = time.perf_counter() + budget_s
    done = 0
    while done < runs and (done < at_least or time.perf_counter() < deadline):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
        done += 1
    return times


class Laps:
    """Named phase timings of one run: call `lap(name)` at the end of each phase."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + now - self._last
        self._last = now


def median_laps(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per phase, the median over runs of `Laps.times`."""
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def with_rss_peak(fn: Callable[[], Any]) -> tuple[Any, float, float | None]:
    """Run `fn`; return its result, seconds, and how far the process's peak RSS rose above the RSS it
    had before (MiB): Linux's high-water mark, reset first through /proc/self/clear_refs ("5")."""
    status = Path("/proc/self/status")

    def kib(field: str) -> int:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read_text(), re.M).group(1))

    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = kib("VmRSS")
    except OSError:
        before = None
    started = time.perf_counter()
    result = fn()
    secs = time.perf_counter() - started
    return result, secs, None if before is None else (kib("VmHWM") - before) / 1024
