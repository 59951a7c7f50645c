"""Fixtures for every test: users, a clean Redis database, an API client."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from socialsite.redis import get_redis

User = get_user_model()
_names = itertools.count()


def pytest_collection_modifyitems(config, items):
    """Everything under tests/integration is the integration tier (a `pytestmark` in a conftest is ignored)."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def stub_broker():
    """The unit tier's broker: Dramatiq's StubBroker, emptied after each test so nothing leaks between tests.

    Integration tests replace it with the real RabbitMQ broker (`rabbitmq`); this fixture then leaves it be.
    """
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    broker = dramatiq.get_broker()
    yield broker
    if isinstance(broker, StubBroker):
        broker.flush_all()


@pytest.fixture(scope="session")
def _rabbitmq_broker():
    from django.conf import settings

    from tests.support.brokers import build_broker

    broker = build_broker(settings.RABBITMQ_DRAMATIQ_BROKER)
    yield broker
    broker.close()


@pytest.fixture
def rabbitmq(_rabbitmq_broker):
    """The real RabbitMQ broker for this test: every actor is declared on it, and moved back afterwards."""
    from tests.support.brokers import rebind_actors

    previous = rebind_actors(_rabbitmq_broker)
    yield _rabbitmq_broker
    rebind_actors(previous)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a fresh directory per test (integration workers are given the same one)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def clean_redis():
    """Tests use their own Redis DB number (test settings); it starts empty for each test."""
    get_redis().flushdb()
    yield


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, password: str = "correct-horse-42", **extra):
        username = username or f"user{next(_names)}"
        return User.objects.create_user(username=username, password=password, email=f"{username}@example.com", **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    """An API client authenticated as the given user (token auth, as real clients use)."""
    from accounts.tokens import token_create

    tokens: dict[int, str] = {}

    def login(user):
        if user.pk not in tokens:
            tokens[user.pk] = token_create(user=user)[1]
        api.credentials(HTTP_AUTHORIZATION=f"Token {tokens[user.pk]}")
        return api

    return login


@pytest.fixture
def deliver_events():
    """An in-process stand-in for the broker hop: call every subscriber of every new outbox event, in
    commit order, then drain the dirty suggestions. The real hop is covered by tests/integration."""
    from friends.suggestions.freshness import drain_dirty
    from socialsite.events import subscribers_of
    from socialsite.models import OutboxEvent

    delivered: set = set()

    def deliver(*, drain: bool = True) -> int:
        count = 0
        for event in OutboxEvent.objects.exclude(id__in=delivered).order_by("created_at"):
            for actor in subscribers_of(event.name):
                actor(event.as_message())
            delivered.add(event.id)
            count += 1
        if drain:
            drain_dirty()
        return count

    return deliver
