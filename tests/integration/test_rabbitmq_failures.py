"""RabbitMQ refusing connections or accepting them and never answering (issue 10, acceptance 1).

Over real HTTP (pytest-django's live server, in this process, so it publishes through the broker this
test points it at), with a real worker once RabbitMQ is "back": a friend request answers 201 within the
client's timeout and its event waits in the outbox; cold reads (suggestions and mutual friends, API and
page) answer "computing" and leave no task record behind; once RabbitMQ answers again the relay delivers
the event, and its notification exists exactly once.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request

import pytest

from accounts.tokens import token_create
from friends.models import FriendRequest
from friends.suggestions import enqueue
from notifications.models import Notification
from socialsite.models import OutboxEvent, TaskRecord
from tests.support.brokers import rebind_actors
from tests.support.rabbit_outage import broker_at, refusing_rabbitmq, silent_rabbitmq
from tests.support.waiting import wait_for

# The client gives up after this many seconds: an answer within it is the bound the issue asks for. The
# site's own bounds are a few seconds (RABBITMQ_TIMEOUTS, RABBITMQ_ENQUEUE_DEADLINE); pika's default
# handshake timeout alone is 15 s, and a blocked connection used to wait forever.
CLIENT_TIMEOUT = 10

OUTAGES = {"refusing": refusing_rabbitmq, "silent": silent_rabbitmq}


def _call(base_url: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Accept", "application/json, text/html")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as response:
            status, raw, kind = response.status, response.read().decode(), response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read().decode(), exc.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw


@pytest.fixture
def rabbitmq_outage(request, rabbitmq):
    """`with rabbitmq_outage(kind):` this process (and its live server) publishes to a RabbitMQ that is
    `refusing` or `silent`; on leaving, the real broker is back."""

    @contextlib.contextmanager
    def outage(kind: str):
        with OUTAGES[kind]() as url:
            dead = broker_at(url)
            rebind_actors(dead)
            # A running site declared its queues long before RabbitMQ failed: the broker goes straight to
            # publishing (and writes the task record first) instead of failing while declaring them.
            dead.queues_pending.clear()
            try:
                yield
            finally:
                rebind_actors(rabbitmq)
                dead.close()
                enqueue._paused_until = 0.0  # this process may try RabbitMQ again at once
                pass  # this process may try RabbitMQ again at once

    return outage


@pytest.mark.parametrize("kind", sorted(OUTAGES))
def test_rabbitmq_down_a_request_succeeds_cold_reads_compute_and_the_event_arrives_once_it_is_back(
    kind, rabbitmq_outage, live_server, start_worker, alice, bob
):
    alice_token, bob_token = token_create(user=alice)[1], token_create(user=bob)[1]
    with rabbitmq_outage(kind):
        status, body = _call(live_server.url, "POST", "/api/v1/friend-requests/", alice_token, {"to_user": "bob"})
        assert status == 201, body
        request = FriendRequest.objects.get(from_user=alice, to_user=bob, state="pending")
        sent = OutboxEvent.objects.get(name="friend_request.sent", payload__request_id=request.pk)
        # The publisher thread tried, failed and left the event for the relay.
        wait_for(lambda: OutboxEvent.objects.filter(pk=sent.pk, attempts__gte=1).exists(), what="a failed attempt")
        assert OutboxEvent.objects.get(pk=sent.pk).published_at is None

        cold_reads = [
            ("/api/v1/suggestions/", alice_token),
            ("/api/v1/users/alice/mutual-friends/", bob_token),
            ("/api/v1/suggestions/", bob_token),
        ]
        for path, token in cold_reads:
            status, body = _call(live_server.url, "GET", path, token)
            assert status == 200, (path, body)
            assert body["status"] == "computing" and body["task_id"] is None, (path, body)
        status, page = _call(live_server.url, "GET", "/suggestions/", alice_token)
        assert status == 200, page[:500]
        # Nothing was sent, so nothing may say "enqueued" (and refresh a task page forever).
        assert not TaskRecord.objects.exists(), list(TaskRecord.objects.values("actor_name", "state"))

    # RabbitMQ is back: the worker's relay hands the event over, and it is handled once.
    start_worker()
    wait_for(lambda: OutboxEvent.objects.get(pk=sent.pk).published_at is not None, timeout=30, what="the relay")
    notifications = Notification.objects.filter(recipient=bob, friend_request=request)
    wait_for(notifications.exists, what="bob's notification")
    # A cold read now gets a task to poll, which the worker runs to the end.
    status, body = _call(live_server.url, "GET", "/api/v1/users/bob/mutual-friends/", alice_token)
    assert status == 200 and body["status"] == "computing" and body["task_id"], body
    wait_for(lambda: TaskRecord.objects.filter(id=body["task_id"], state="done").exists(), what="the computation done")
    assert notifications.count() == 1
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()
