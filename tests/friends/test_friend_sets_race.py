"""A friend and an unfriend of one pair handled at once by two workers (issue 10, acceptance 4).

`friend_sets_sync_pair` reads the friendship table, then writes both Redis sets. Two workers handling
`friendship.created` and `friendship.removed` of one pair at once could interleave as: the first reads
"friends" (before the unfriend committed), the second reads "not friends" and writes, the first writes
"friends" last — and Redis says "friends" for good, served as fresh. The interleaving is forced here: the
first worker's read is held (a barrier after the real read) until the unfriend is committed and the second
worker has started; the pair's lock must make the second wait, so it reads the table after the first wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from friends import friend_sets, services
from friends.subscribers import update_graph_after_friendship
from socialsite.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)  # each worker thread reads what is committed


class Worker(threading.Thread):
    """A thread standing for a worker: handles one event as the actor does, keeps what it raised."""

    def __init__(self, name: str, event: OutboxEvent, after: Callable[[], None] = lambda: None) -> None:
        super().__init__(name=name, daemon=True)
        self.event, self.after, self.error = event, after, None

    def run(self) -> None:
        try:
            update_graph_after_friendship.fn(self.event.as_message())
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            self.error = exc
        finally:
            self.after()
            connection.close()


def event(name: str) -> OutboxEvent:
    return OutboxEvent.objects.filter(name=name).latest("created_at")


@pytest.mark.parametrize("first", ["friend", "unfriend"])
def test_friend_and_unfriend_of_one_pair_in_two_workers_end_with_redis_equal_to_the_table(
    alice, bob, monkeypatch, first
):
    """`first` is the change whose worker reads the table first and is held; the other change commits and
    its worker starts meanwhile. Either way Redis must end equal to the table."""
    if first == "unfriend":  # a friendship to remove, synced
        services.friendship_create(user=alice, friend=bob)
        friend_sets.friend_sets_sync_pair(alice.pk, bob.pk)
    change = {
        "friend": (lambda: services.friendship_create(user=alice, friend=bob), "friendship.created"),
        "unfriend": (lambda: services.friendship_remove(user=alice, friend=bob), "friendship.removed"),
    }
    second = "unfriend" if first == "friend" else "friend"
    real_read = friend_sets.are_friends_in_table
    first_read, second_done = threading.Event(), threading.Event()

    def read_then_hold(a_id: int, b_id: int) -> bool:
        found = real_read(a_id, b_id)
        if threading.current_thread().name == first:
            first_read.set()
            # Unlocked, the second worker finishes meanwhile and this stale answer is written last. Locked,
            # the second cannot finish while this one holds the pair: the bounded wait runs out.
            second_done.wait(timeout=2)
        return found

    monkeypatch.setattr(friend_sets, "are_friends_in_table", read_then_hold)
    change[first][0]()
    held = Worker(first, event(change[first][1]))
    held.start()
    assert first_read.wait(timeout=10), "the first worker never read the table"
    change[second][0]()  # committed while the first worker holds what it read
    other = Worker(second, event(change[second][1]), after=second_done.set)
    other.start()
    for worker in (held, other):
        worker.join(timeout=30)
        assert not worker.is_alive() and worker.error is None, worker.error

    are_friends = real_read(alice.pk, bob.pk)
    assert are_friends == (second == "friend")
    assert friend_sets.friend_ids(alice.pk) == ({bob.pk} if are_friends else set())
    assert friend_sets.friend_ids(bob.pk) == ({alice.pk} if are_friends else set())
