"""The cache backend (`socialsite.cache`): Django's `RedisCache`, with one Redis client per pool.

Django gives each thread its own cache object (`django.core.cache.caches`), so each thread of a web
process keeps one client for as long as the thread lives, instead of making one per operation.
"""

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import caches

from socialsite.cache import RedisCache


def test_the_site_cache_is_the_one_client_per_pool_backend():
    assert isinstance(caches["default"], RedisCache)


def test_operations_share_one_client_and_the_cache_still_works_in_every_thread():
    def round_trip(i: int) -> tuple[object, bool]:
        cache = caches["default"]
        first = cache._cache.get_client()
        cache.set(f"cache-test:{i}", {"n": i}, 30)
        value = cache.get(f"cache-test:{i}")
        cache.delete(f"cache-test:{i}")
        # one server: reads and writes share its pool, so its client
        same = cache._cache.get_client() is first and cache._cache.get_client(write=True) is first
        return value, same

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(round_trip, range(64)))
    assert results == [({"n": i}, True) for i in range(64)]
    assert caches["default"].get("cache-test:0") is None
