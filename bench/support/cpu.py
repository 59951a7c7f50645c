"""CPU time of process trees and of PostgreSQL, read from Linux's /proc, for "where did a request's CPU go".

A load generator gives requests per second; it does not say which process spent the CPU. On a machine
where the web server, PostgreSQL and the load generator share the cores, a page that makes PostgreSQL
work harder is slower for that reason too. `CPUMeter` reads the user + system time the kernel has charged
to each process (`/proc/<pid>/stat`, fields 14 and 15, in clock ticks: proc(5)) before and after a timed
load, so the difference divided by the requests served is CPU milliseconds per request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # clock ticks a second (proc(5) counts in them)


def _stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, user + system seconds) of one process, None if it is gone or unreadable."""
    try:
        raw = (PROC / pid / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


@dataclass(frozen=True)
class CPUSample:
    """CPU seconds charged so far: `tree` to the root process and its descendants, `postgres` to every
    process named "postgres" (the server and its backends)."""

    tree: dict[str, float]
    postgres: dict[str, float]


class CPUMeter:
    """`CPUMeter(root_pid)`: `sample()` before and after a load, `spent(before, after)` the CPU seconds of
    the tree and of PostgreSQL in between. Processes that start or end in between count from their start
    or up to their last sample. `available` is False where there is no /proc (not Linux)."""

    def __init__(self, root_pid: int) -> None:
        self.root = str(root_pid)
        self.available = (PROC / "self" / "stat").exists()

    def sample(self) -> CPUSample:
        """The CPU seconds of every process of interest now (empty dicts where /proc is unavailable)."""
        if not self.available:
            return CPUSample({}, {})
        stats = {pid: s for pid in os.listdir(PROC) if pid.isdigit() and (s := _stat(pid)) is not None}
        children: dict[str, list[str]] = {}
        for pid, (_, ppid, _) in stats.items():
            children.setdefault(str(ppid), []).append(pid)
        tree, stack = {}, [self.root]
        while stack:
            pid = stack.pop()
            if pid in stats:
                tree[pid] = stats[pid][2]
                stack.extend(children.get(pid, []))
        postgres = {pid: cpu for pid, (name, _, cpu) in stats.items() if name == "postgres"}
        return CPUSample(tree, postgres)

    @staticmethod
    def spent(before: CPUSample, after: CPUSample) -> tuple[float, float]:
        """(tree seconds, PostgreSQL seconds) spent between the two samples."""

        def delta(a: dict[str, float], b: dict[str, float]) -> float:
            return sum(cpu - a.get(pid, 0.0) for pid, cpu in b.items())

        return delta(before.tree, after.tree), delta(before.postgres, after.postgres)
