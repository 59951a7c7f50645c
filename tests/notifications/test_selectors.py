"""Notification reads: the visibility rule, the badge's count and ETag, grouping for display."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from friends.models import Block
from notifications import selectors, services
from notifications.models import Notification

from .conftest import note

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def test_only_my_own_notifications_are_visible(alice, bob):
    mine, theirs = note(alice, bob), note(bob, alice)
    assert list(selectors.notifications_visible_to(user=alice)) == [mine]
    assert list(selectors.notifications_visible_to(user=bob)) == [theirs]


def test_notifications_about_someone_who_blocks_me_or_whom_i_block_or_inactive_are_hidden(alice, bob, carol, make_user):
    dave, erin = make_user("dave"), make_user("erin")
    from_bob, from_carol, from_dave, from_erin = (
        note(alice, bob),
        note(alice, carol),
        note(alice, dave),
        note(alice, erin),
    )
    Block.objects.create(blocker=bob, blocked=alice)
    Block.objects.create(blocker=alice, blocked=carol)
    dave.is_active = False
    dave.save()
    assert list(selectors.notifications_visible_to(user=alice)) == [from_erin]
    assert selectors.unread_state(user=alice).count == 1
    assert {from_bob.pk, from_carol.pk, from_dave.pk}.isdisjoint(
        selectors.notifications_list(user=alice).values_list("id", flat=True)
    )


def test_unread_only_filter(alice, bob):
    unread, _read = note(alice, bob), note(alice, bob, read=True)
    assert list(selectors.notifications_list(user=alice, unread_only=True)) == [unread]
    assert selectors.notifications_list(user=alice).count() == 2


def test_unread_state_etag_changes_when_a_notification_arrives_or_is_read(alice, bob, django_assert_num_queries):
    with django_assert_num_queries(1):
        empty = selectors.unread_state(user=alice)
    assert empty.count == 0
    first = note(alice, bob)
    one = selectors.unread_state(user=alice)
    assert one.count == 1 and one.etag != empty.etag
    assert selectors.unread_state(user=alice).etag == one.etag  # stable while nothing changes
    first.read_at = timezone.now()
    first.save()
    note(alice, bob)  # one read, one new: the count is 1 again, the ETag is not the same
    again = selectors.unread_state(user=alice)
    assert again.count == 1 and again.etag != one.etag
    assert selectors.unread_state(user=bob).etag != empty.etag  # per user


def test_the_count_read_with_the_session_user_is_the_badges_query_and_costs_none(
    alice, bob, carol, make_user, django_assert_num_queries
):
    """`socialsite.backends` reads the badge's count with the user's row: the same visibility rule (a
    blocker's and an inactive actor's notifications do not count) and the same ETag as the badge's own
    query, and then the badge costs no query."""
    from socialsite.backends import RateLimitedModelBackend

    dave = make_user("dave")
    note(alice, bob), note(alice, bob, read=True), note(alice, carol), note(alice, dave), note(bob, alice)
    Block.objects.create(blocker=carol, blocked=alice)
    dave.is_active = False
    dave.save()
    backend = RateLimitedModelBackend()
    backend.get_user(alice.pk)  # compiled once per process (SQLite asks once whether it has JSON)
    for user in (alice, bob, carol):
        with django_assert_num_queries(1):
            loaded = backend.get_user(user.pk)
        with django_assert_num_queries(0):
            preloaded = selectors.unread_state(user=loaded)
        assert preloaded == selectors.unread_state(user=user)  # `user`: a fresh object, so the query
    assert [selectors.unread_state(user=u).count for u in (alice, bob, carol)] == [1, 1, 0]


@pytest.mark.parametrize(
    "mark",
    [
        lambda user, n: services.notification_mark_read(user=user, notification_id=n.pk),
        lambda user, n: services.notifications_mark_read(user=user, notification_ids=[n.pk]),
        lambda user, n: services.notifications_mark_read_about_share(user=user, share_id=n.share_id),
        lambda user, n: services.notifications_mark_all_read(user=user),
    ],
    ids=["one", "several", "about-a-share", "all"],
)
def test_marking_read_in_a_request_drops_the_count_read_with_the_user(alice, bob, mark):
    """A page that marks notifications read and then draws the badge (a share's page) counts them out:
    every service that marks the user's notifications read forgets the count that came with the user."""
    from socialsite.backends import RateLimitedModelBackend

    shared = note(alice, bob, kind=Kind.SHARE_CREATED)
    loaded = RateLimitedModelBackend().get_user(alice.pk)
    assert selectors.unread_state(user=loaded).count == 1
    mark(loaded, shared)
    assert selectors.unread_state(user=loaded).count == 0


# --- grouping --------------------------------------------------------------------------------------


def test_several_shares_close_together_are_one_row_naming_the_newest_actor(alice, bob, carol, make_user):
    friends = [make_user(name) for name in ("ana", "ben", "cid", "dee")]
    for i, friend in enumerate(friends):  # ana's is the newest
        note(alice, friend, Kind.SHARE_CREATED, ago=timedelta(minutes=10 * i), text=f"{friend.username} shared a file")
    [group] = selectors.group_notifications(list(selectors.notifications_list(user=alice)))
    assert group.headline == "ana and 3 others shared files or links"
    assert [n.actor.username for n in group.items] == ["ana", "ben", "cid", "dee"]
    assert [n.url for n in group.items] == [f"/shares/{n.share_id}/" for n in group.items]  # each keeps its link
    assert group.unread_count == 4 and len(group.unread_ids) == 4


def test_grouping_window_kind_and_single_rows(alice, bob, carol):
    note(alice, bob, Kind.SHARE_CREATED, text="bob shared a file")
    note(alice, carol, Kind.FRIEND_REQUEST_ACCEPTED, ago=timedelta(minutes=5), text="carol accepted")
    note(alice, carol, Kind.SHARE_CREATED, ago=timedelta(minutes=30), text="carol shared a link")
    note(alice, bob, Kind.SHARE_CREATED, ago=timedelta(hours=3), text="bob shared a link")  # outside the window
    groups = selectors.group_notifications(list(selectors.notifications_list(user=alice)))
    assert [g.headline for g in groups] == [
        "bob and 1 other shared files or links",
        "carol accepted",
        "bob shared a link",
    ]
    assert [len(g.items) for g in groups] == [2, 1, 1]
    assert not groups[1].is_grouped and groups[1].url == "/u/someone/"


def test_one_actor_several_times_and_read_state(alice, bob):
    note(alice, bob, Kind.SHARE_CREATED, read=True)
    note(alice, bob, Kind.SHARE_CREATED, ago=timedelta(minutes=1))
    [group] = selectors.group_notifications(list(selectors.notifications_list(user=alice)))
    assert group.headline == "bob shared 2 files or links"
    assert group.unread_count == 1
