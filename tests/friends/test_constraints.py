"""The database itself refuses a broken friend graph, whoever writes it (PostgreSQL)."""

import pytest
from django.db import IntegrityError, connection, transaction

from friends.models import Block, FriendRequest, Friendship
from tests.support.factories import befriend

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="constraints under test are PostgreSQL's")


def _commit(fn):
    """Run `fn` in a savepoint and force deferred constraints to be checked, as a commit would."""
    with transaction.atomic():
        fn()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_self_friendship_is_rejected_by_the_database(db, alice):
    with pytest.raises(IntegrityError):
        _commit(lambda: Friendship.objects.create(user=alice, friend=alice))
    assert not Friendship.objects.exists()


def test_duplicate_friendship_pair_is_rejected_by_the_database(db, alice, bob):
    _commit(lambda: befriend((alice, bob)))
    with pytest.raises(IntegrityError):
        _commit(lambda: Friendship.objects.create(user=alice, friend=bob))
    assert Friendship.objects.count() == 2


def test_one_sided_friendship_cannot_commit(db, alice, bob):
    with pytest.raises(IntegrityError):
        _commit(lambda: Friendship.objects.create(user=alice, friend=bob))
    assert not Friendship.objects.exists()


def test_deleting_one_direction_only_cannot_commit(db, alice, bob):
    _commit(lambda: befriend((alice, bob)))
    with pytest.raises(IntegrityError):
        _commit(lambda: Friendship.objects.filter(user=alice, friend=bob).delete())
    assert Friendship.objects.count() == 2


def test_second_pending_request_for_a_pair_in_either_direction_is_rejected(db, alice, bob):
    FriendRequest.objects.create(from_user=alice, to_user=bob)
    with pytest.raises(IntegrityError):
        _commit(lambda: FriendRequest.objects.create(from_user=bob, to_user=alice))
    with pytest.raises(IntegrityError):
        _commit(lambda: FriendRequest.objects.create(from_user=alice, to_user=bob))
    # Closed requests do not count: history may hold many.
    FriendRequest.objects.update(state=FriendRequest.State.DECLINED)
    _commit(lambda: FriendRequest.objects.create(from_user=bob, to_user=alice))


def test_self_request_and_self_block_are_rejected(db, alice):
    with pytest.raises(IntegrityError):
        _commit(lambda: FriendRequest.objects.create(from_user=alice, to_user=alice))
    with pytest.raises(IntegrityError):
        _commit(lambda: Block.objects.create(blocker=alice, blocked=alice))
