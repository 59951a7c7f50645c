"""One Redis connection pool for the derived graph copy and computed results."""

from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings

# What a down, unreachable or hung Redis raises through redis-py (connection refused, timeouts, a reset
# socket): the errors a caller that can degrade catches.
REDIS_DOWN = (redis.exceptions.RedisError, OSError)


@cache
def get_redis() -> redis.Redis:
    """Shared client; redis-py pools connections and is thread-safe.

    Short timeouts (`REDIS_SOCKET_CONNECT_TIMEOUT`, `REDIS_SOCKET_TIMEOUT`, seconds): a Redis that is down
    or hung costs a request at most that long per call, never a web thread held for good. No retry on
    timeout: the callers degrade (a "computing" answer) or their task is retried by Dramatiq.
    """
    return redis.Redis.from_url(
        settings.REDIS_URL,
        decode_responses=True,
        socket_connect_timeout=settings.REDIS_SOCKET_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        retry_on_timeout=False,
    )


def key_of(prefix: str) -> Callable[[int | str], str]:
    """The key function of a family of keys named by id: ``key_of("sgen:")(42) == "sgen:42"``."""
    return f"{prefix}{{}}".format
