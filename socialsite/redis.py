"""One Redis connection pool for the derived graph copy and computed results."""

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    """Shared client; redis-py pools connections and is thread-safe."""
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True, socket_timeout=5)
