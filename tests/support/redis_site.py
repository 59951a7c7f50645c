"""The whole site on a private Redis: gunicorn and a `rundramatiq` worker with `REDIS_URL` pointing at a
`PrivateRedis` (tests/support/redis_server.py), and the test process pointed at it too, so a test can stop,
restart or empty that Redis under a running site and look at what the site kept in it.

`site_on_private_redis` (a fixture: import `site_on_private_redis_fixture` and
`tests.support.redis_server.private_redis_fixture` into the test module) gives a
`RedisSite`; it needs the integration tier (`start_worker`: the shared worker is stopped and the queues
purged first).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from socialsite import queues
from socialsite.redis import get_redis
from tests.support.processes import ManagedProcess, start_gunicorn, start_rundramatiq
from tests.support.redis_server import PrivateRedis
from tests.support.workers import worker_env


@dataclass
class RedisSite:
    redis: PrivateRedis
    web: ManagedProcess
    worker: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        """One API call (`path` under /api/v1/) with token auth; returns (status, decoded JSON or text)."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, "/api/v1/" + path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read().decode()
        finally:
            conn.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return response.status, raw


@pytest.fixture(name="site_on_private_redis")
def site_on_private_redis_fixture(private_redis, start_worker, settings) -> Iterator[RedisSite]:
    """gunicorn (test settings, 1 process x 4 threads) and a worker on every queue, both on `private_redis`,
    and this process's `get_redis()` on it too (until the end of the test)."""
    settings.REDIS_URL = private_redis.url
    get_redis.cache_clear()
    env = {**worker_env(media_root=str(settings.MEDIA_ROOT)), "REDIS_URL": private_redis.url}
    worker = start_rundramatiq(env=env, queues=queues.ALL, threads=2)
    web_env = {**env, "SOCIALSITE_LOOPBACK_HTTP": "true", "WEB_CONCURRENCY": "1", "WEB_THREADS": "4"}
    try:
        web, port = start_gunicorn(env=web_env, timeout=60)
    except BaseException:
        worker.kill()
        raise
    try:
        yield RedisSite(redis=private_redis, web=web, worker=worker, port=port)
    finally:
        web.stop()
        worker.kill()
        get_redis.cache_clear()  # back to the test settings' Redis (restored by the `settings` fixture)
