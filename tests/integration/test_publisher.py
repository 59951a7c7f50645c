"""The publisher thread: events leave the request at commit, in order, in batches with confirms."""

import dramatiq
import pytest
from django.db import transaction

from socialsite import queues
from socialsite.events import relay_pending
from socialsite.models import OutboxEvent
from socialsite.publisher import OutboxPublisher, publisher_for
from socialsite.redis import get_redis
from tests.integration.conftest import wait_for
from tests.support.tasks import probe_pinged, probe_receipts_key

pytestmark = pytest.mark.integration


def receipts(run: str) -> dict[int, float]:
    return {int(k): float(v) for k, v in get_redis().hgetall(probe_receipts_key(run)).items()}


def test_events_of_separate_commits_reach_a_subscriber_in_commit_order(start_worker):
    start_worker(queue_names=(queues.DEFAULT,), threads=1)  # one consumer thread: arrival order is visible
    for seq in range(60):
        with transaction.atomic():
            probe_pinged.emit(run="order", seq=seq)
    got = wait_for(lambda: len(receipts("order")) == 60 and receipts("order"), what="every event received")
    assert sorted(got, key=got.get) == list(range(60))
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="all marked published")


def test_a_batch_handed_over_at_once_is_published_and_marked_in_one_go(start_worker):
    events = [
        OutboxEvent.objects.create(name=probe_pinged.name, payload={"run": "batch", "seq": i}) for i in range(300)
    ]
    assert publisher_for(dramatiq.get_broker()).submit(events, wait=True, timeout=30) == 300
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
    start_worker(queue_names=(queues.DEFAULT,), threads=4)
    wait_for(lambda: len(receipts("batch")) == 300, what="every event received")


def test_an_unroutable_event_stays_pending_with_the_reason_and_the_relay_delivers_it(start_worker):
    broker = dramatiq.get_broker()
    with transaction.atomic():
        probe_pinged.emit(run="warm", seq=0)  # the publisher has declared the queue
    wait_for(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), what="first event out")
    broker.channel.queue_delete(queues.DEFAULT)  # as if an operator deleted it

    with transaction.atomic():
        event = probe_pinged.emit(run="lost", seq=1)
    wait_for(
        lambda: "unroutable" in OutboxEvent.objects.get(id=event.id).last_error, what="the return noted on the event"
    )
    assert OutboxEvent.objects.get(id=event.id).published_at is None

    assert relay_pending(grace=0) == 1  # declares the queue again, then publishes
    start_worker(queue_names=(queues.DEFAULT,), threads=1)
    wait_for(lambda: receipts("lost") != {}, what="the relayed event received")


def test_the_publisher_keeps_one_database_connection_while_events_flow_and_gives_it_back_when_idle(transactional_db):
    """Borrowing a pooled connection per batch cost a health-check round trip each time (and the request
    threads felt it through the GIL); an idle publisher must still not sit on a connection."""
    from django.db import connection

    pool = connection.pool
    publisher = OutboxPublisher(dramatiq.get_broker(), idle_release=0.5)
    try:
        events = [
            OutboxEvent.objects.create(name=probe_pinged.name, payload={"run": "idle", "seq": i}) for i in range(5)
        ]
        assert publisher.submit(events[:1], wait=True, timeout=30) == 1
        borrowed, stats = pool.get_stats().get("requests_num", 0), pool.get_stats()
        lent = stats["pool_size"] - stats["pool_available"]
        for event in events[1:]:
            assert publisher.submit([event], wait=True, timeout=30) == 1
        assert pool.get_stats().get("requests_num", 0) == borrowed  # four more batches, no new borrowing

        def returned() -> bool:
            stats = pool.get_stats()
            return stats["pool_size"] - stats["pool_available"] == lent - 1

        wait_for(returned, what="the idle publisher's connection back in the pool", timeout=5)
        assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
    finally:
        publisher.close()
