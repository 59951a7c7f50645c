"""Pytest plugin (registered in tests/conftest.py): the suite on pytest-xdist workers.

scripts/test.sh runs the suite on two xdist workers, `--dist loadgroup --no-loadscope-reorder`: every test
belongs to a group (tests/conftest.py, `_xdist_group`), a group runs whole on one worker in collection
order, and groups are handed out in the order they first appear. Each worker has its own test database,
Redis DB and RabbitMQ vhost (socialsite/test_settings.py).

- Order: the long groups that mostly wait (real workers, schedulers, the browser) go first, so they
  overlap with the unit tests instead of finishing last.
- `@pytest.mark.alone`: a test whose assertion is a time budget (a notification within 1 s behind a
  full queue) runs while no other test runs, as it would in a run without xdist: the other workers wait
  before their next test. A readers-writer lock on two files shared by the run's workers (`flock`):
  every test takes the turnstile, then the room shared, and lets the turnstile go; an `alone` test keeps
  the turnstile (no test starts anywhere) while it waits for the room exclusively.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCKS_ENV = "SOCIALSITE_TEST_LOCKS"  # the directory of the run's two lock files, made by the controller
_files: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ[LOCKS_ENV] = tempfile.mkdtemp(prefix="socialsite-test-locks-")  # workers inherit it


def pytest_unconfigure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER") and (directory := os.environ.pop(LOCKS_ENV, None)):
        shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(trylast=True)  # after tests/conftest.py's and pytest-django's sorts
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_xdist_order)


# Unit-tier modules that take tens of seconds (measured with --durations): handed out before the other unit
# modules, so none of them starts last. Only an order; a module missing here just runs in its turn.
LONG_UNIT_MODULES = (
    "tests/socialsite/test_fuzz.py",  # Schemathesis against a live server
    "tests/friends/test_load_graph.py",  # loads the whole shipped graph
    "tests/friends/test_graph.py",  # every Facebook user against networkx
    "tests/socialsite/test_access_matrix.py",  # a world of objects per route and relation
    "tests/socialsite/test_settings_deploy.py",  # production settings in child processes
    "tests/socialsite/test_scheduler.py",
    "tests/socialsite/test_schema.py",
)


def _xdist_order(item: pytest.Item) -> int:
    """Shared-worker tests, browser tests, other integration tests, long unit modules, then the other unit
    tests (a stable sort: within each, the usual order). Each xdist worker finishes a group before it
    takes the next; a group's package and module fixtures are torn down when the worker leaves them, as
    in a run without xdist."""
    parts = item.path.parts
    if "browser" in parts:
        return 1
    if "integration" in parts:
        return 0 if "worker" in getattr(item, "fixturenames", ()) else 2
    return 3 if item.nodeid.split("::")[0].split("@")[0] in LONG_UNIT_MODULES else 4


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    directory = os.environ.get(LOCKS_ENV) if os.environ.get("PYTEST_XDIST_WORKER") else None
    if directory is None:
        return (yield)
    with _turn(Path(directory), alone=item.get_closest_marker("alone") is not None):
        return (yield)


@contextlib.contextmanager
def _turn(directory: Path, *, alone: bool) -> Iterator[None]:
    turnstile, room = _lock_file(directory / "turnstile"), _lock_file(directory / "room")
    fcntl.flock(turnstile, fcntl.LOCK_EX)
    try:
        fcntl.flock(room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(room, fcntl.LOCK_UN)
    finally:
        fcntl.flock(turnstile, fcntl.LOCK_UN)


def _lock_file(path: Path) -> int:
    """One open file per lock and process (flock locks belong to the open file)."""
    if str(path) not in _files:
        _files[str(path)] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return _files[str(path)]
