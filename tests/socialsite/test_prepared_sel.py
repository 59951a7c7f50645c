"""`PreparedQuery` with several kinds of parameters: two user ids, a name, and a list of ids bound as one
array (any length, the same SQL); a queryset that does not use a sentinel is refused."""

import pytest
from django.contrib.auth import get_user_model

from friends import selectors
from friends.models import Friendship
from socialsite.prepared import IDS_SENTINEL, NAME_SENTINEL, OTHER_SENTINEL, SENTINEL, PreparedQuery
from tests.support.factories import befriend

User = get_user_model()


def test_two_ids_a_name_and_a_list_of_ids_are_bound_where_their_sentinels_were(alice, bob, carol):
    befriend((alice, bob), (alice, carol))
    friends_named = PreparedQuery(
        lambda uid, name: Friendship.objects.filter(user_id=uid, friend__username=name).values_list("friend_id"),
        sentinels=(SENTINEL, NAME_SENTINEL),
    )
    assert friends_named.rows(alice.pk, "carol") == [(carol.pk,)]
    assert friends_named.rows(bob.pk, "carol") == []

    def among(uid: int, other: int, ids: list[int]):
        any_of = selectors._any_of("friend_id", ids)  # the selectors' `= ANY(array)` condition
        return Friendship.objects.filter(any_of, user_id__in=[uid, other]).values_list("user_id", "friend_id")

    pairs = PreparedQuery(among, sentinels=(SENTINEL, OTHER_SENTINEL, IDS_SENTINEL))
    assert sorted(pairs.rows(alice.pk, bob.pk, [bob.pk, carol.pk])) == [(alice.pk, bob.pk), (alice.pk, carol.pk)]
    assert pairs.rows(alice.pk, bob.pk, [alice.pk]) == [(bob.pk, alice.pk)]
    assert pairs.rows(alice.pk, bob.pk, []) == []


def test_a_queryset_without_the_sentinel_is_refused(alice):
    fixed = PreparedQuery(
        lambda name: User.objects.filter(username="alice").values_list("pk"), sentinels=(NAME_SENTINEL,)
    )
    with pytest.raises(ValueError):
        fixed.rows("alice")


def test_the_profile_query_sees_each_change_at_once(alice, bob, carol):
    """Compiled once, the one-statement profile still reads the current table (friendship, count, block)."""
    first = selectors.user_profile(viewer=alice, username="bob")
    assert (first.relationship.is_friend, first.relationship.blocks_other) == (False, False)
    befriend((alice, bob), (bob, carol))
    second = selectors.user_profile(viewer=alice, username="bob")
    assert second.relationship.is_friend and second.friend_count == 2
    assert selectors.user_profile(viewer=bob, username="bob").relationship.is_self
