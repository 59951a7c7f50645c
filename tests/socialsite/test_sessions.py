"""Sessions come from Redis on the hot path, and from the database when Redis is unreachable."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from socialsite import sessions

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "socialsite.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1: connection refused
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _cache_not_marked_down():
    """The engine skips the cache for a few seconds after a failure; each test starts with it trusted."""
    sessions._down_until = 0.0
    yield
    sessions._down_until = 0.0


def session_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


@pytest.mark.django_db
def test_a_logged_in_request_reads_its_session_without_a_database_query(alice):
    client = Client()
    assert client.login(username="alice", password="correct-horse-42")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/me/")
    assert response.status_code == 200 and response.json()["username"] == "alice"
    assert session_queries(captured) == []


@pytest.mark.django_db
def test_log_in_pages_and_log_out_work_from_the_database_when_redis_is_unreachable(alice):
    client = Client()
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert client.login(username="alice", password="correct-horse-42")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/me/")
        assert response.status_code == 200 and response.json()["username"] == "alice"
        assert session_queries(captured), "the session must have come from the database"
        assert client.post("/logout/").status_code == 302
        assert client.get("/api/v1/me/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_session_written_while_redis_was_down_is_read_once_it_is_back(alice):
    client = Client()
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert client.login(username="alice", password="correct-horse-42")
    sessions._down_until = 0.0
    assert client.get("/api/v1/me/").json()["username"] == "alice"  # cache miss: database, then cached
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/me/").json()["username"] == "alice"
    assert session_queries(captured) == []


def test_a_cached_session_copy_is_trusted_for_a_bounded_time(settings):
    settings.SESSION_CACHE_MAX_AGE = 300

    class Recorder:
        def set(self, key, value, timeout):
            self.timeout = timeout

    recorder = Recorder()
    sessions._TolerantCache(recorder).set("k", {}, 14 * 24 * 3600)
    assert recorder.timeout == 300
