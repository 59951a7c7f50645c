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


@pytest.mark.parametrize(
    ("existing", "write"),
    [
        (False, lambda a, b: Friendship.objects.create(user=a, friend=a)),
        (False, lambda a, b: Friendship.objects.create(user=a, friend=b)),
        (True, lambda a, b: Friendship.objects.create(user=a, friend=b)),
        (True, lambda a, b: Friendship.objects.filter(user=a, friend=b).delete()),
    ],
    ids=["self_friendship", "one_sided_friendship", "duplicate_pair", "deleting_one_direction_only"],
)
def test_a_broken_friendship_cannot_commit_and_what_was_there_stays(db, alice, bob, existing, write):
    if existing:
        _commit(lambda: befriend((alice, bob)))
    rows = set(Friendship.objects.values_list("user_id", "friend_id"))
    with pytest.raises(IntegrityError):
        _commit(lambda: write(alice, bob))
    assert set(Friendship.objects.values_list("user_id", "friend_id")) == rows


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
