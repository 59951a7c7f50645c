"""Separate queues and workers: a backlog of heavy graph work never delays a notification."""

from friends import services
from notifications.models import Notification
from socialsite import queues
from tests.support.tasks import busy_graph_work
from tests.support.waiting import wait_for

BACKLOG = 1000
GRAPH_TASK_MS = 200  # the backlog holds two graph threads for 100 s


def test_notification_overtakes_1000_queued_graph_messages(rabbitmq, start_worker, alice, bob):
    """The notification is handled while the graph backlog is still nearly all queued: measured in graph
    messages handled meanwhile, not in seconds, so a loaded machine slows both sides alike and the
    test keeps its meaning (with one shared queue it would wait behind all 1,000)."""
    start_worker(queue_names=(queues.GRAPH,), threads=2)
    start_worker(queue_names=(queues.NOTIFICATIONS,), threads=2)
    for _ in range(BACKLOG):
        busy_graph_work.send(GRAPH_TASK_MS)

    services.friend_request_send(from_user=alice, to_user=bob)
    wait_for(lambda: Notification.objects.filter(recipient=bob).exists(), timeout=60, what="the notification")
    ready, _delayed, _dead = rabbitmq.get_queue_message_counts(queues.GRAPH)
    # Two threads and their prefetch hold a few messages unacknowledged; everything else must still wait.
    assert ready >= BACKLOG - 100, f"{BACKLOG - ready} graph messages were taken before the notification"


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
