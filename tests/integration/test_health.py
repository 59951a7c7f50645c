"""`/healthz`: a bare public status, and a detailed readiness report for staff or the configured token."""

import pytest
import redis
from django.db import connections
from django.test import override_settings

from friends.events import block_removed
from socialsite import health
from socialsite.redis import get_redis

TOKEN = "health-test-token"
DETAILED = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def fresh_verdict(settings):
    """Each test computes its own public verdict instead of reading the last test's cached one."""
    settings.HEALTHZ_TOKEN = TOKEN
    settings.HEALTHZ_CACHE_SECONDS = 0
    yield
    health._rabbit.close()


def test_public_answer_is_the_status_alone(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_token_holder_gets_services_outbox_and_queue_depths(client, db):
    block_removed.emit(blocker_id=1, blocked_id=2)  # on-commit never runs in a `db` test: the event stays pending
    body = client.get("/healthz", **DETAILED).json()
    assert body["status"] == body["database"] == body["redis"] == body["rabbitmq"] == "ok"
    assert body["outbox_pending"] == 1 and body["dead_letters"] == 0
    assert set(body["queues"]) == {"notifications", "graph", "default", "maintenance"}
    assert set(body["queues"]["graph"]) == {"ready", "delayed", "dead"}


def test_staff_session_gets_details_and_a_plain_user_or_wrong_token_does_not(client, make_user):
    client.force_login(make_user(is_staff=True))
    assert "queues" in client.get("/healthz").json()
    client.force_login(make_user())
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer wrong").json() == {"status": "ok"}


def test_the_probe_reuses_one_rabbitmq_connection(client, db):
    client.get("/healthz", **DETAILED)
    first = health._rabbit._conn
    client.get("/healthz", **DETAILED)
    client.get("/healthz")
    assert first is not None and first.is_open and health._rabbit._conn is first


def test_the_public_verdict_is_cached_between_polls(client, db, settings):
    settings.HEALTHZ_CACHE_SECONDS = 60
    assert client.get("/healthz").status_code == 200
    with override_settings(RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/%2F"):
        assert client.get("/healthz").status_code == 200  # cached verdict: no probe on this hit
        assert client.get("/healthz", **DETAILED).status_code == 503  # the detailed view always probes


def test_rabbitmq_down_answers_503_naming_it_only_to_the_token_holder(client, db):
    with override_settings(RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/%2F"):
        public = client.get("/healthz")
        detailed = client.get("/healthz", **DETAILED)
    assert public.status_code == 503 and public.json() == {"status": "unavailable"}
    body = detailed.json()
    assert detailed.status_code == 503
    assert body["rabbitmq"].startswith("down") and body["database"] == "ok" and body["redis"] == "ok"


def test_redis_down_answers_503_naming_it(client, db, monkeypatch):
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(health, "get_redis", lambda: dead)
    response = client.get("/healthz", **DETAILED)
    assert response.status_code == 503
    assert response.json()["redis"].startswith("down") and response.json()["rabbitmq"] == "ok"
    assert client.get("/healthz").json() == {"status": "unavailable"}


@pytest.mark.django_db
def test_database_down_answers_503_naming_it(client, monkeypatch):
    unreachable = connections.create_connection("default")
    options = {k: v for k, v in unreachable.settings_dict["OPTIONS"].items() if k != "pool"}  # not the live pool
    unreachable.settings_dict = {
        **unreachable.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": 1,
        "NAME": "nowhere",
        "OPTIONS": options,
    }
    if unreachable.vendor == "sqlite":
        unreachable.settings_dict["NAME"] = "/nonexistent-dir/db.sqlite3"
    monkeypatch.setattr(health, "connection", unreachable)
    response = client.get("/healthz", **DETAILED)
    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("down") and body["redis"] == "ok" and get_redis().ping()
