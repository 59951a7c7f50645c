"""The cache backend: Django's `RedisCache`, with one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the pool for every operation.
Building one (its response callbacks, its options) cost ~75 µs of CPU here, as much as the GET it then
sends (~70 µs), and every logged-in page pays it at least once: the session is read from this cache.
A client is a thin wrapper over its pool (redis-py takes a connection from the pool per command and
returns it; the pool starts afresh in a forked process), so the cache object keeps the one it made for
each pool: Django makes a cache object per thread, so each thread of a web process makes its client
once. Everything else is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, keeping the `redis.Redis` it makes for each connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # id(pool) -> client; the pools live as long as this object

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """The client for the pool Django would pick (`write` picks the first server): made once per pool."""
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `RedisCacheClient`; the same settings."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
