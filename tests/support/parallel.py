"""Pytest plugin (registered in tests/conftest.py): the suite on pytest-xdist workers.

scripts/test.sh runs the suite on two xdist workers in CI, `--dist loadgroup --no-loadscope-reorder`: every test
belongs to a group (tests/conftest.py, `_xdist_group`), a group runs whole on one worker in collection
order, and groups are handed out in the order they first appear. Each worker has its own test database,
Redis DB and RabbitMQ vhost (socialsite/test_settings.py).

The long groups that mostly wait (real workers, schedulers, the browser) go first, then the long unit
modules, so they overlap with the short unit tests instead of finishing last.
"""

from __future__ import annotations

import os

import pytest


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
