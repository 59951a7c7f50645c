"""Fixtures for every test: the unit tier's broker, a clean Redis database, users and friend graphs, API
clients, and in-process delivery of pending events. Plain helpers live in tests/support/."""

from __future__ import annotations

import itertools
import os

import pytest
from django.contrib.auth import get_user_model
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from socialsite.redis import get_redis

# Real worker processes (`start_worker`, `worker`), for the integration tier and the browser tests.
pytest_plugins = ["tests.support.workers"]

User = get_user_model()
_names = itertools.count()

# Property tests: the test command runs the same examples every time (derandomized, no example database),
# so a failure is reproduced by running it again; `HYPOTHESIS_PROFILE=thorough` explores ten times as
# many, fresh ones each run. Tests size their example counts from `max_examples` (test_graph.py, and a
# fraction of it where each example costs database work: test_suggestion_properties.py).
hypothesis_settings.register_profile("socialsite", max_examples=150, derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=1500, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "socialsite"))


def pytest_collection_modifyitems(config, items):
    """Everything under tests/integration is the integration tier, everything under tests/browser the browser
    tier (a `pytestmark` in a conftest is ignored).

    The tests that take the shared `worker` run one after the other (otherwise in their usual order), so
    one worker process serves them all (tests/integration/conftest.py, SharedWorker). pytest-django then
    groups the tests by database use with a stable sort, which keeps them together.
    """
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
        if "browser" in item.path.parts:
            # Real worker, RabbitMQ and Redis behind the browser: integration tier too (`-m "not integration"`
            # is the unit tier, which runs with RabbitMQ unreachable).
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)
    # Browser tests last and together: their package-scoped worker must not outlive them into tests that
    # start their own workers (it would consume those tests' messages).
    items.sort(key=lambda item: ("browser" in item.path.parts, "worker" not in getattr(item, "fixturenames", ())))


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

    # A fresh connection per test: the session's one may have been closed by RabbitMQ while unit tests ran
    # (nobody serviced its heartbeats), and pika does not reconnect by itself.
    del _rabbitmq_broker.connection
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
    """Tests use their own Redis DB number (test settings); it starts empty for each test, as a built
    graph cache of an empty database (`friends.friend_sets.BUILT`; without it, nothing reads as fresh)."""
    from friends.friend_sets import BUILT

    get_redis().flushdb()
    get_redis().set(BUILT, "test")
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
def admin_browser(db, django_user_model):
    """A browser (Django's test client) logged in as the superuser `root`, who is `admin_browser.user`."""
    from django.test import Client

    client = Client()
    client.user = django_user_model.objects.create_superuser("root", "root@example.com", "admin-pass-123")
    client.force_login(client.user)
    return client


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
def get_within_queries(django_assert_max_num_queries):
    """`get_within_queries(client, url, ceiling, **params) -> response`: a GET through a test client (page or
    API) that fails unless it answers 200 within `ceiling` SQL queries."""

    def get(client, url: str, ceiling: int, **params):
        with django_assert_max_num_queries(ceiling):
            response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
        return response

    return get


@pytest.fixture
def deliver_events():
    """`deliver_events(*events, drain=True) -> int`: an in-process stand-in for the broker hop. Calls every
    subscriber of each outbox event not delivered yet (only the given events, objects or names, when
    some are given), in commit order, then drains the dirty suggestions unless `drain=False`; returns how
    many events it delivered. The real hop is covered by tests/integration."""
    from tests.support.events import EventDelivery

    return EventDelivery()


@pytest.fixture
def befriend(db):
    """`befriend(*pairs)`: both friendship rows of each (user, user) pair in one bulk statement; no event,
    no Redis (tests.support.factories.befriend)."""
    from tests.support.factories import befriend

    return befriend


@pytest.fixture
def make_graph(make_user):
    """`make_graph(edges, names=(), through="bulk") -> {name: user}`: users by name and the friendships
    between them, in bulk or through `friendship_create` (each emitting its event); an edge is
    ("alice", "bob") or "ab". See tests.support.factories.make_graph."""
    from tests.support.factories import make_graph

    def build(edges, *, names=(), through: str = "bulk"):
        return make_graph(edges, make_user=make_user, names=names, through=through)

    return build


@pytest.fixture(autouse=True)
def _pillow_pixel_limit():
    """Validation and processing set Pillow's process-wide pixel limit from the settings; a test that
    lowers the setting must not leave the limit lowered for the next one."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    yield
    Image.MAX_IMAGE_PIXELS = limit
