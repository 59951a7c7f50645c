"""Lock order: accept, decline and cancel of one request racing the notification worker's commit.

The notification of a new request is an INSERT whose foreign keys (recipient, actor, friend request) take
`FOR KEY SHARE` locks, in the order PostgreSQL checks the constraints, while the request services lock the
pair's user rows and the request row. Before the fix they took `FOR UPDATE`, which conflicts with
`FOR KEY SHARE`: with the sender's id above the receiver's, the service held the receiver and waited for
the sender, the worker held the sender and waited for the receiver, and PostgreSQL broke the cycle with
`DeadlockDetected`, a 500 for the user (issue 10). Here every round races the three calls, over real HTTP
(the live server), against the real worker (which handles the request's event) and against the worker's
service called at the same moment, so the interleaving happens in most rounds rather than by luck.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from functools import partial

import pytest
from django.db import connection

from accounts.tokens import token_create
from friends import services
from friends.models import FriendRequest, Friendship
from notifications.models import Notification
from notifications.services import notifications_create_for_friend_request
from socialsite.errors import ServiceError
from socialsite.models import OutboxEvent
from tests.friends.test_concurrency import run_at_once
from tests.support.waiting import wait_for

ROUNDS = 200
CLOSING_EVENTS = ("friend_request.accepted", "friend_request.declined", "friend_request.cancelled")

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")


def _api(base_url: str, method: str, path: str, token: str, done_state: str | None = None) -> str:
    """One API call; returns the request's state after it (its body's, or `done_state` for a 204), raises
    `ServiceError` with the answer's code for a refusal (409) and `RuntimeError` for anything else."""
    request = urllib.request.Request(base_url + path, method=method, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return done_state if response.status == 204 else json.loads(response.read())["state"]
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
        if exc.code == 409:
            raise ServiceError("refused", code=json.loads(body)["code"]) from None
        raise RuntimeError(f"{exc.code}: {body[:300]}") from None


def _race(calls: list) -> list[tuple[str, str]]:
    """Run `calls` at once (`run_at_once`: threads behind a barrier); each gives ("ok", state), ("refused",
    code) or ("error", repr) for anything else: a 500, or an exception of the worker's service."""
    outcomes = []
    for result in run_at_once(*calls):
        if isinstance(result, ServiceError):
            outcomes.append(("refused", result.code))
        elif isinstance(result, Exception):
            outcomes.append(("error", repr(result)))
        else:
            outcomes.append(("ok", getattr(result, "state", str(result))))
    return outcomes


def test_accept_decline_cancel_racing_the_notification_worker_never_fail_and_end_with_one_outcome(
    live_server, worker, make_user
):
    errors: list[str] = []
    for round_ in range(ROUNDS):
        # The receiver first, so the sender has the higher id: the order that deadlocked.
        receiver = make_user(f"r{round_}")
        sender = make_user(f"s{round_}")
        receiver_token, sender_token = token_create(user=receiver)[1], token_create(user=sender)[1]
        request = services.friend_request_send(from_user=sender, to_user=receiver)
        path = f"/api/v1/friend-requests/{request.pk}/"
        outcomes = _race(
            [
                partial(_api, live_server.url, "POST", f"{path}accept/", receiver_token),
                partial(_api, live_server.url, "POST", f"{path}decline/", receiver_token),
                partial(_api, live_server.url, "DELETE", path, sender_token, done_state="cancelled"),
                # What the worker does for the request's event, at the same moment (its own event id).
                partial(
                    notifications_create_for_friend_request,
                    request_id=request.pk,
                    kind=Notification.Kind.FRIEND_REQUEST_RECEIVED,
                    event_id=uuid.uuid4(),
                ),
            ]
        )
        errors += [f"round {round_}: {detail}" for kind, detail in outcomes if kind == "error"]
        final = FriendRequest.objects.get(pk=request.pk).state
        changed = [state for kind, state in outcomes[:3] if kind == "ok"]
        assert final != FriendRequest.State.PENDING, outcomes
        # One outcome: every call that answered success reports the final state; the others were refused
        # with it (409, code = the state the request is in).
        assert changed and set(changed) == {final}, (round_, outcomes, final)
        assert all(detail == final for kind, detail in outcomes[:3] if kind == "refused"), (round_, outcomes)
        closing = OutboxEvent.objects.filter(name__in=CLOSING_EVENTS, payload__request_id=request.pk)
        assert closing.count() == 1, list(closing.values_list("name", flat=True))
        befriended = Friendship.objects.filter(user=sender, friend=receiver).exists()
        assert befriended == (final == FriendRequest.State.ACCEPTED)
    assert not errors, errors[:10]
    # The worker handled every request's event without a dead letter: nothing is left pending.
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="outbox drained")
