"""Sessions on the Redis cache, written through to the database, and still served when Redis is down.

Django's `cached_db` engine reads a session from the cache and only falls back to the database on a
miss, so a logged-in request costs no database query for its session. But it does not survive an
unreachable cache: `load()` catches a failed read, then re-raises on the write-back after the database
read, and `exists()` / `delete()` raise too, so a Redis outage would turn every page into a 500. This
engine puts the same store on a cache that turns errors into misses (logged), so the site degrades to
database sessions instead.

A cached copy is trusted for at most `SESSION_CACHE_MAX_AGE` seconds (not the session's two weeks):
a log-out or key rotation during an outage deletes the database row but cannot delete the cached copy,
and that stale copy must not outlive the outage by much.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches

from .redis import REDIS_DOWN

logger = logging.getLogger(__name__)

# After a failure, skip the cache for this long: one log line and one connect timeout per process per
# interval, not one per request.
_RETRY_AFTER = 5.0
_down_until = 0.0


class _TolerantCache:
    """The session cache, with every failure turned into a miss; writes capped at SESSION_CACHE_MAX_AGE."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def _call(self, method: str, *args: Any, default: Any = None) -> Any:
        global _down_until
        if time.monotonic() < _down_until:
            return default
        try:
            return getattr(self._cache, method)(*args)
        except REDIS_DOWN as exc:  # the database still has the session
            _down_until = time.monotonic() + _RETRY_AFTER
            logger.warning("session cache unavailable (%r); using the database for %.0fs", exc, _RETRY_AFTER)
            return default

    def get(self, key: str) -> Any:
        return self._call("get", key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        cap = settings.SESSION_CACHE_MAX_AGE
        self._call("set", key, value, cap if timeout is None else min(timeout, cap))

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def __contains__(self, key: str) -> bool:
        return bool(self._call("has_key", key, default=False))


class SessionStore(CachedDBStore):
    """`cached_db` sessions that fall back to the database when the cache fails (see the module doc)."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _TolerantCache(caches[settings.SESSION_CACHE_ALIAS])
