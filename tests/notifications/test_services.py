"""Notification services: fan-out in bulk, current-state checks, idempotence, marking read, pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from friends import services as friend_services
from friends.models import Block, Friendship
from notifications import services
from notifications.models import Notification
from socialsite.errors import NotFound
from socialsite.models import OutboxEvent

from .conftest import befriend, share_and_announce, with_friends

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def recipients(**filters) -> set[str]:
    return set(Notification.objects.filter(**filters).values_list("recipient__username", flat=True))


# --- share fan-out ---------------------------------------------------------------------------------


def test_each_current_friend_gets_one_unread_notification_and_nobody_else(alice, bob, carol, make_user):
    befriend(alice, bob, carol)
    stranger = make_user("stranger")
    share, event = share_and_announce(alice, url="https://example.com/a")

    assert services.notifications_create_for_share(share_id=share.pk, event_id=event["id"]) == 2

    rows = Notification.objects.filter(share=share)
    assert recipients(share=share) == {"bob", "carol"}
    assert stranger.pk not in set(rows.values_list("recipient_id", flat=True))
    for n in rows:
        assert n.kind == Kind.SHARE_CREATED and n.actor_id == alice.pk and n.read_at is None
        assert n.text == "alice shared a link" and n.url == f"/shares/{share.pk}/"
        assert n.target == {"type": "share", "id": share.pk}


def test_a_file_share_says_file(alice, bob):
    befriend(alice, bob)
    share, event = share_and_announce(alice, file="shares/0123abcd", original_name="a.pdf")
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert Notification.objects.get().text == "alice shared a file"


def test_redelivery_of_the_same_event_creates_no_second_notification(alice, bob, carol):
    befriend(alice, bob, carol)
    share, event = share_and_announce(alice)
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert Notification.objects.count() == 2


def test_a_run_cut_off_half_way_is_completed_by_the_redelivery(alice, monkeypatch):
    """A worker killed after some chunks: the redelivered event adds only the missing rows."""
    friends = with_friends(alice, 7)
    share, event = share_and_announce(alice)
    monkeypatch.setattr(services, "FAN_OUT_CHUNK", 3)
    Notification.objects.bulk_create(
        [
            Notification(recipient=f, actor=alice, kind=Kind.SHARE_CREATED, text="x", share=share, event_id=event["id"])
            for f in friends[:4]
        ]
    )
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(f.pk for f in friends)


@pytest.mark.parametrize("count", [5, 6, 7])  # chunk boundaries: below, exactly at, above a multiple
def test_chunking_reaches_every_friend_exactly_once(alice, monkeypatch, count):
    monkeypatch.setattr(services, "FAN_OUT_CHUNK", 3)
    friends = with_friends(alice, count)
    share, event = share_and_announce(alice)
    assert services.notifications_create_for_share(share_id=share.pk, event_id=event["id"]) == count
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(f.pk for f in friends)


def test_five_thousand_friends_cost_a_handful_of_queries(alice, django_assert_max_num_queries):
    with_friends(alice, 5000)
    share, event = share_and_announce(alice)
    # 1 for the share, 5 chunk reads + 5 bulk inserts of 1,000, 1 empty read at the end = 12.
    with django_assert_max_num_queries(12):
        assert services.notifications_create_for_share(share_id=share.pk, event_id=event["id"]) == 5000
    assert Notification.objects.filter(share=share, read_at__isnull=True).count() == 5000


def test_a_share_deleted_before_its_event_is_handled_notifies_nobody(alice, bob):
    befriend(alice, bob)
    share, event = share_and_announce(alice)
    share.delete()
    assert services.notifications_create_for_share(share_id=share.pk, event_id=event["id"]) == 0
    assert not Notification.objects.exists()


def test_nobody_is_notified_about_someone_who_blocks_them_even_if_still_friends(alice, bob, carol, make_user):
    """A block normally ends the friendship; rows written around the service are checked anyway."""
    befriend(alice, bob, carol, make_user("dave"))
    Block.objects.create(blocker=bob, blocked=alice)  # bob blocks the owner
    Block.objects.create(blocker=alice, blocked=carol)  # the owner blocks carol
    share, event = share_and_announce(alice)
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert recipients() == {"dave"}


@pytest.mark.parametrize(
    "change",
    [
        lambda alice, bob: friend_services.block_create(blocker=alice, blocked=bob),
        lambda alice, bob: friend_services.friendship_remove(user=alice, friend=bob),
    ],
    ids=["blocked", "unfriended"],
)
def test_a_friend_blocked_or_unfriended_through_the_service_before_handling_is_not_notified(alice, bob, carol, change):
    befriend(alice, bob, carol)
    share, event = share_and_announce(alice)
    change(alice, bob)  # after the share's commit, before its event is handled
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert recipients() == {"carol"}
    assert Friendship.objects.filter(user=alice).count() == 1  # both changes end the friendship


def test_inactive_friends_and_inactive_owners_are_skipped(alice, bob, carol):
    befriend(alice, bob, carol)
    carol.is_active = False
    carol.save()
    share, event = share_and_announce(alice)
    services.notifications_create_for_share(share_id=share.pk, event_id=event["id"])
    assert recipients() == {"bob"}

    Notification.objects.all().delete()
    alice.is_active = False
    alice.save()
    assert services.notifications_create_for_share(share_id=share.pk, event_id=event["id"]) == 0
    assert not Notification.objects.exists()


# --- friend requests: the current state decides ----------------------------------------------------


def _event(name: str) -> dict:
    return OutboxEvent.objects.filter(name=name).latest("created_at").as_message()


def _notify(event: dict) -> bool:
    return services.notifications_create_for_friend_request(
        request_id=event["payload"]["request_id"], kind=event["name"], event_id=event["id"]
    )


def test_a_pending_request_notifies_its_receiver_once(alice, bob):
    request = friend_services.friend_request_send(from_user=alice, to_user=bob)
    event = _event("friend_request.sent")
    assert _notify(event) is True
    assert _notify(event) is False
    n = Notification.objects.get()
    assert (n.recipient, n.actor, n.kind) == (bob, alice, Kind.FRIEND_REQUEST_RECEIVED)
    assert n.target == {"type": "friend_request", "id": request.pk}


@pytest.mark.parametrize("close", ["cancel", "decline", "block_by_receiver", "block_by_sender"])
def test_a_request_closed_before_its_event_is_handled_notifies_nobody(alice, bob, close):
    request = friend_services.friend_request_send(from_user=alice, to_user=bob)
    event = _event("friend_request.sent")
    if close == "cancel":
        friend_services.friend_request_cancel(request_id=request.pk, user=alice)
    elif close == "decline":
        friend_services.friend_request_decline(request_id=request.pk, user=bob)
    elif close == "block_by_receiver":
        friend_services.block_create(blocker=bob, blocked=alice)
    else:
        friend_services.block_create(blocker=alice, blocked=bob)
    assert _notify(event) is False
    assert not Notification.objects.exists()


def test_acceptance_notifies_the_sender_unless_a_block_came_first(alice, bob, carol):
    first = friend_services.friend_request_send(from_user=alice, to_user=bob)
    friend_services.friend_request_accept(request_id=first.pk, user=bob)
    assert _notify(_event("friend_request.accepted")) is True
    n = Notification.objects.get()
    assert (n.recipient, n.actor, n.kind, n.text) == (
        alice,
        bob,
        Kind.FRIEND_REQUEST_ACCEPTED,
        "bob accepted your friend request",
    )

    second = friend_services.friend_request_send(from_user=alice, to_user=carol)
    friend_services.friend_request_accept(request_id=second.pk, user=carol)
    accepted = _event("friend_request.accepted")
    friend_services.block_create(blocker=carol, blocked=alice)
    assert _notify(accepted) is False
    assert Notification.objects.count() == 1


def test_a_request_event_with_a_wrong_kind_is_a_programming_error(alice, bob):
    request = friend_services.friend_request_send(from_user=alice, to_user=bob)
    with pytest.raises(ValueError):
        services.notifications_create_for_friend_request(
            request_id=request.pk, kind=Kind.SHARE_CREATED, event_id=_event("friend_request.sent")["id"]
        )


# --- marking read ----------------------------------------------------------------------------------


def _notification(recipient, actor=None, **fields) -> Notification:
    import uuid

    fields.setdefault("kind", Kind.FRIEND_REQUEST_RECEIVED)
    fields.setdefault("text", "hello")
    return Notification.objects.create(recipient=recipient, actor=actor, event_id=uuid.uuid4(), **fields)


def test_marking_someone_elses_notification_read_is_not_found_and_changes_nothing(alice, bob):
    theirs = _notification(bob, alice)
    with pytest.raises(NotFound):
        services.notification_mark_read(user=alice, notification_id=theirs.pk)
    assert services.notifications_mark_read(user=alice, notification_ids=[theirs.pk]) == 0
    assert services.notifications_mark_all_read(user=alice) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_mark_all(alice, bob):
    a, *_ = [_notification(alice, bob) for _ in range(3)]
    assert services.notification_mark_read(user=alice, notification_id=a.pk).read_at is not None
    assert services.notifications_mark_all_read(user=alice) == 2
    assert not Notification.objects.filter(read_at__isnull=True).exists()


# --- pruning ---------------------------------------------------------------------------------------


def test_prune_deletes_only_old_read_notifications(alice, bob, settings):
    settings.NOTIFICATIONS_RETENTION_DAYS = 30
    now = timezone.now()
    old_read = _notification(alice, bob, created_at=now - timedelta(days=31), read_at=now - timedelta(days=20))
    old_unread = _notification(alice, bob, created_at=now - timedelta(days=90))
    recent_read = _notification(alice, bob, created_at=now - timedelta(days=29), read_at=now)
    assert services.notifications_prune_read() == 1
    assert set(Notification.objects.values_list("id", flat=True)) == {old_unread.pk, recent_read.pk}
    assert not Notification.objects.filter(pk=old_read.pk).exists()


def test_prune_takes_its_retention_from_the_setting_or_the_argument_and_works_in_batches(alice, bob, settings):
    now = timezone.now()
    for _ in range(5):
        _notification(alice, bob, created_at=now - timedelta(days=3), read_at=now)
    settings.NOTIFICATIONS_RETENTION_DAYS = 7
    assert services.notifications_prune_read() == 0
    settings.NOTIFICATIONS_RETENTION_DAYS = 2
    assert services.notifications_prune_read(batch_size=2) == 5
    assert not Notification.objects.exists()
    _notification(alice, bob, created_at=now - timedelta(hours=2), read_at=now)
    assert services.notifications_prune_read(older_than=timedelta(hours=1)) == 1
