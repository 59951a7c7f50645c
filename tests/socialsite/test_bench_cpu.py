"""`bench.support.cpu`: the CPU a page benchmark charges to the web server's process tree and to PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench.support.cpu import CPUMeter

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"

pytestmark = pytest.mark.skipif(not CPUMeter(1).available, reason="no /proc on this system")


def test_the_tree_is_charged_its_childrens_cpu_and_nothing_outside_it():
    # A parent that starts a child burning 0.3 s of CPU, next to an unrelated process burning as much.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN.format(seconds=0.3)!r}])",
        ]
    )
    outsider = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=0.3)])
    meter = CPUMeter(parent.pid)
    before = meter.sample()
    # Sampled while the child still runs (a finished child's CPU goes to its parent's "children" fields,
    # which the meter does not read): wait for the burn to be nearly over, then sample.
    after = before
    for _ in range(200):
        after = meter.sample()
        if meter.spent(before, after)[0] >= 0.25:
            break
        time.sleep(0.01)
    tree, _ = meter.spent(before, after)
    parent.wait(timeout=10)
    outsider.wait(timeout=10)
    assert 0.25 <= tree < 0.55, tree  # the child's burn, not the outsider's as well
    assert len(after.tree) == 2  # the parent and its child


def test_postgresql_processes_are_found_by_name(db):
    """The test database's server runs on this machine: its processes are named "postgres", and the
    backend serving this test's connection is among them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    assert str(backend) in CPUMeter(1).sample().postgres
