"""Real threads on the real database: races end with exactly one friendship and no error."""

import functools
import threading

import pytest
from django.db import connection

from friends import services
from friends.models import FriendRequest, Friendship

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(*calls, rounds: int = 1):
    """Start every call in its own thread behind a barrier, so they hit the database together."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts there were none
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_threads_accepting_the_same_request_make_exactly_one_friendship(make_user):
    for _ in range(5):
        a, b = make_user(), make_user()
        request = services.friend_request_send(from_user=a, to_user=b)
        accept = functools.partial(services.friend_request_accept, request_id=request.pk, user=b)
        results = run_at_once(accept, accept)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert Friendship.objects.filter(user__in=[a, b]).count() == 2


def test_crossing_requests_at_the_same_moment_make_exactly_one_friendship(make_user):
    for _ in range(5):
        a, b = make_user(), make_user()
        results = run_at_once(
            functools.partial(services.friend_request_send, from_user=a, to_user=b),
            functools.partial(services.friend_request_send, from_user=b, to_user=a),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert Friendship.objects.filter(user__in=[a, b]).count() == 2
        assert not FriendRequest.objects.filter(from_user__in=[a, b], state="pending").exists()


def test_deactivations_of_users_with_friends_in_common_at_once_neither_deadlock_nor_miscount(make_user):
    """A (de)activation changes the stored count of each of the user's friends (migration
    friends/0008). Two at once, of users with 40 friends in common (their rows written in opposite
    orders), and a friendship made among those friends at the same time, all change the same counts: no
    error, and the counts then equal the table's. (The triggers also lock those counts in user id order;
    here PostgreSQL's plan happens to read them in table order either way, so this does not show a
    deadlock the ordering prevents.)"""
    from accounts import services as accounts_services
    from tests.friends.test_friend_count import _agree
    from tests.support.factories import befriend

    x, y = make_user(), make_user()
    common = [make_user() for _ in range(40)]
    befriend(*[(x, c) for c in common])
    befriend(*[(y, c) for c in reversed(common)])
    for round_ in range(4):
        a, b = common[2 * round_], common[2 * round_ + 1]
        for change in (accounts_services.user_deactivate, accounts_services.user_reactivate):
            results = run_at_once(
                functools.partial(change, user=x),
                functools.partial(change, user=y),
                functools.partial(services.friendship_create, user=a, friend=b),
            )
            assert not [r for r in results if isinstance(r, Exception)], results
            x.refresh_from_db()
            y.refresh_from_db()
        _agree(f"round {round_}")
