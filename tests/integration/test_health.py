"""`/healthz` reports each service and answers 503 naming the one that is down."""

import pytest
import redis
from django.db import connections
from django.test import override_settings

from friends.events import block_removed
from socialsite import health
from socialsite.redis import get_redis


def test_all_up_answers_200_with_queue_depths_and_outbox(client, db):
    block_removed.emit(blocker_id=1, blocked_id=2)  # on-commit never runs in a `db` test: the event stays pending
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == body["redis"] == body["rabbitmq"] == "ok"
    assert body["outbox_pending"] == 1
    assert set(body["queues"]) == {"notifications", "graph", "default", "maintenance"}
    assert set(body["queues"]["graph"]) == {"ready", "delayed", "dead"}


def test_rabbitmq_down_answers_503_naming_it(client, db):
    with override_settings(RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/%2F"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["rabbitmq"].startswith("down") and body["database"] == "ok" and body["redis"] == "ok"


def test_redis_down_answers_503_naming_it(client, db, monkeypatch):
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(health, "get_redis", lambda: dead)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("down") and response.json()["rabbitmq"] == "ok"


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
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("down") and body["redis"] == "ok" and get_redis().ping()
