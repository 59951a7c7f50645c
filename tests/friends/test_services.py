"""Friend-graph services: rules, events emitted with the change, and nothing changed on refusal."""

import pytest
from dramatiq import Message

from accounts.services import user_sign_up
from friends import services
from friends.models import Block, FriendRequest, Friendship
from socialsite.errors import Conflict, Forbidden, NotFound, ServiceError
from socialsite.events import subscribers_of
from socialsite.models import OutboxEvent
from tests.support.factories import act


def event_names():
    return list(OutboxEvent.objects.order_by("created_at").values_list("name", flat=True))


def queued_messages(broker) -> list[tuple[str, str, str]]:
    """Every message waiting on the StubBroker: (queue, actor, event name)."""
    return sorted(
        (name, message.actor_name, message.args[0]["name"])
        for name, queue in broker.queues.items()
        for message in map(Message.decode, list(queue.queue))
    )


def test_send_and_accept_creates_both_rows_and_emits_events(db, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    assert set(Friendship.objects.values_list("user_id", "friend_id")) == {(alice.pk, bob.pk), (bob.pk, alice.pk)}
    assert event_names() == ["friend_request.sent", "friend_request.accepted", "friendship.created"]
    created = OutboxEvent.objects.get(name="friendship.created")
    assert {created.payload["user_id"], created.payload["friend_id"]} == {alice.pk, bob.pk}


def test_events_are_published_to_every_subscriber_only_after_commit(
    db, alice, bob, stub_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as after_commit:
        request = services.friend_request_send(from_user=alice, to_user=bob)
        services.friend_request_accept(request_id=request.pk, user=bob)
    assert queued_messages(stub_broker) == []  # nothing leaves before COMMIT
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 3

    for callback in after_commit:  # what Django runs right after COMMIT
        callback()
    expected = [
        (actor.queue_name, actor.actor_name, event.name)
        for event in OutboxEvent.objects.all()
        for actor in subscribers_of(event.name)
    ]
    assert len(expected) >= 3  # each of the three events has a subscriber
    assert queued_messages(stub_broker) == sorted(expected)  # one message per subscriber, on its queue
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def test_crossing_request_becomes_a_friendship(db, alice, bob):
    services.friend_request_send(from_user=alice, to_user=bob)
    crossing = services.friend_request_send(from_user=bob, to_user=alice)
    assert crossing.state == FriendRequest.State.ACCEPTED
    assert Friendship.objects.count() == 2
    assert not FriendRequest.objects.filter(state=FriendRequest.State.PENDING).exists()


def test_accepting_twice_is_not_an_error_and_makes_one_friendship(db, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    services.friend_request_accept(request_id=request.pk, user=bob)
    assert Friendship.objects.count() == 2
    assert event_names().count("friendship.created") == 1


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (None, ServiceError),  # a request to myself
        (("befriend", "alice", "bob"), Conflict),  # already friends
        (("request", "alice", "bob"), Conflict),  # a duplicate
        (("block", "bob", "alice"), NotFound),  # the target blocks me: as for a name nobody has
        (("block", "alice", "bob"), Conflict),  # I block the target
    ],
    ids=["self", "friends", "duplicate", "blocked_by_target", "blocking_target"],
)
def test_refused_requests_change_nothing(db, alice, bob, setup, error):
    users = {"alice": alice, "bob": bob}
    if setup is not None:
        verb, actor, other = setup
        act(verb, users[actor], users[other])
    before = (FriendRequest.objects.count(), Friendship.objects.count(), OutboxEvent.objects.count())
    with pytest.raises(error):
        services.friend_request_send(from_user=alice, to_user=bob if setup else alice)
    assert (FriendRequest.objects.count(), Friendship.objects.count(), OutboxEvent.objects.count()) == before


def test_only_the_receiver_can_accept_or_decline_and_only_the_sender_can_cancel(db, alice, bob, carol):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    for call, user, refusal in [
        (services.friend_request_accept, carol, NotFound),  # an outsider: as if it did not exist
        (services.friend_request_decline, carol, NotFound),
        (services.friend_request_accept, alice, Forbidden),  # the other party knows it exists: told why
        (services.friend_request_cancel, bob, Forbidden),
    ]:
        with pytest.raises(refusal):
            call(request_id=request.pk, user=user)
    request.refresh_from_db()
    assert request.state == FriendRequest.State.PENDING
    assert not Friendship.objects.exists()


def test_declined_request_cannot_then_be_accepted(db, alice, bob):
    request = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_decline(request_id=request.pk, user=bob)
    with pytest.raises(Conflict):
        services.friend_request_accept(request_id=request.pk, user=bob)
    assert not Friendship.objects.exists()


def test_block_removes_friendship_and_pending_requests_and_prevents_new_ones(db, alice, bob, carol):
    services.friendship_create(user=alice, friend=bob)
    services.friend_request_send(from_user=carol, to_user=alice)
    services.block_create(blocker=alice, blocked=bob)
    services.block_create(blocker=alice, blocked=carol)
    assert not Friendship.objects.exists()
    assert not FriendRequest.objects.filter(state=FriendRequest.State.PENDING).exists()
    assert {"friendship.removed", "block.created", "friend_request.cancelled"} <= set(event_names())
    with pytest.raises(NotFound, match="No user named 'alice'"):
        services.friend_request_send(from_user=bob, to_user=alice)
    services.block_remove(blocker=alice, blocked=bob)
    services.friend_request_send(from_user=bob, to_user=alice)
    assert Block.objects.count() == 1


def test_unfriend_removes_both_rows_and_unknown_pair_is_not_found(db, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    services.friendship_remove(user=bob, friend=alice)
    assert not Friendship.objects.exists()
    with pytest.raises(NotFound):
        services.friendship_remove(user=bob, friend=alice)
    assert event_names().count("friendship.removed") == 1


def test_sign_up_rejects_taken_names_and_weak_passwords(db, alice):
    with pytest.raises(ServiceError, match="taken"):
        user_sign_up(username="ALICE", password="a-good-long-password-9")
    with pytest.raises(ServiceError):
        user_sign_up(username="dave", password="123")
    user = user_sign_up(username="dave", password="a-good-long-password-9", email="d@example.com")
    assert user.check_password("a-good-long-password-9")
