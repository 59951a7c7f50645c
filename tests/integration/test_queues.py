"""Separate queues and workers: a backlog of heavy graph work never delays a notification."""

import time

import pytest

from friends import services
from notifications.models import Notification
from tests.support.tasks import busy_graph_work
from tests.support.waiting import wait_for


@pytest.mark.alone  # a time budget: no other test may take the CPU meanwhile (tests/support/parallel.py)
def test_notification_is_handled_within_a_second_behind_1000_queued_graph_messages(start_worker, alice, bob):
    start_worker(queue_names=("graph",), threads=2)
    start_worker(queue_names=("notifications",), threads=2)
    for _ in range(1000):
        busy_graph_work.send(50)

    started = time.monotonic()
    services.friend_request_send(from_user=alice, to_user=bob)
    wait_for(
        lambda: Notification.objects.filter(recipient=bob).exists(),
        timeout=1.0,
        interval=0.01,
        what="the notification within its 1 s budget",
    )
    elapsed = time.monotonic() - started
    assert elapsed < 1.0


def test_two_workers_on_one_queue_share_its_messages(start_worker, make_user):
    first = start_worker(queue_names=("notifications",), threads=1)
    second = start_worker(queue_names=("notifications",), threads=1)
    sender = make_user()
    for _ in range(60):
        services.friend_request_send(from_user=sender, to_user=make_user())
    wait_for(lambda: Notification.objects.count() == 60, timeout=30, what="all notifications")

    def handled(worker) -> int:
        return worker.output.count("-> notify_request_receiver (attempt 1)")

    assert handled(first) + handled(second) == 60
    assert handled(first) >= 10 and handled(second) >= 10, (handled(first), handled(second))
