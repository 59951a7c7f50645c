"""Bounded waiting on a real condition: the only way tests and benchmarks wait for another process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], *, timeout: float = 15, interval: float = 0.05, what: str = "") -> T:
    """Poll until `predicate()` is truthy and return that value; the wait is bounded (seconds), and the
    failure (AssertionError) says what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)
