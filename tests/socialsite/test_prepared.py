"""`PreparedQuery` runs the SQL its queryset compiles to, for whichever user it is given, and sees the
current data (nothing is cached but the SQL); the session's user and the unread badge use it."""

import pytest
from django.contrib.auth import get_user_model

from friends.models import Friendship
from socialsite.backends import RateLimitedModelBackend
from socialsite.prepared import PreparedQuery
from tests.support.factories import befriend


def test_a_prepared_query_gives_what_its_queryset_gives_for_each_user(alice, bob, carol):
    friends_of = PreparedQuery(lambda uid: Friendship.objects.filter(user_id=uid).values_list("friend_id"))
    assert friends_of.rows(alice.pk) == []
    befriend((alice, bob), (alice, carol))
    assert sorted(friends_of.rows(alice.pk)) == sorted(Friendship.objects.filter(user=alice).values_list("friend_id"))
    assert friends_of.rows(bob.pk) == [(alice.pk,)]


def test_the_session_user_is_loaded_like_model_backend_loads_it(alice, bob):
    backend = RateLimitedModelBackend()
    loaded = backend.get_user(str(alice.pk))
    assert (loaded.pk, loaded.username, loaded.password, loaded.is_active) == (
        alice.pk,
        "alice",
        alice.password,
        True,
    )
    bob.is_active = False
    bob.save()
    assert backend.get_user(bob.pk) is None
    assert backend.get_user(10**9) is None
    assert backend.get_user("not-a-number") is None
    assert get_user_model().objects.count() == 2


def test_outer_sql_joins_after_the_querysets_limit_and_must_say_where_it_goes(alice, bob, carol):
    """`outer` wraps the compiled SQL: here names are joined to the first friend only (the LIMIT stays
    the queryset's); an `outer` without `{inner}` is refused on first use, not silently ignored."""
    table = get_user_model()._meta.db_table
    first_friend = PreparedQuery(
        lambda uid: Friendship.objects.filter(user_id=uid).order_by("friend_id").values_list("friend_id")[:1],
        outer=f'SELECT u."username" FROM ({{inner}}) f JOIN "{table}" u ON u."id" = f."friend_id"',
    )
    befriend((alice, bob), (alice, carol))
    assert first_friend.rows(alice.pk) == [(min((bob, carol), key=lambda u: u.pk).username,)]
    assert first_friend.rows(bob.pk) == [("alice",)]
    broken = PreparedQuery(
        lambda uid: Friendship.objects.filter(user_id=uid).values_list("friend_id"), outer="SELECT 1"
    )
    with pytest.raises(ValueError, match="inner"):
        broken.rows(alice.pk)


def test_outers_own_parameters_come_as_a_tail_and_must_all_be_given(alice, bob, carol):
    """A page's LIMIT and OFFSET as `outer`'s parameters: one statement for every page; a call that does
    not give them all is refused before it reaches the database."""
    befriend((alice, bob), (alice, carol))
    paged = PreparedQuery(
        lambda uid: Friendship.objects.filter(user_id=uid).values_list("friend_id"),
        outer='SELECT * FROM ({inner}) f ORDER BY "friend_id" LIMIT %s OFFSET %s',
    )
    assert paged.rows(alice.pk, tail=(1, 1)) == [(max(bob.pk, carol.pk),)]
    assert paged.rows(alice.pk, tail=(5, 0)) == [(min(bob.pk, carol.pk),), (max(bob.pk, carol.pk),)]
    with pytest.raises(ValueError, match="2 parameter"):
        paged.rows(alice.pk)
