"""The processing actor is a thin adapter: an outbox event in, `share_process` called, the state out."""

from __future__ import annotations

import pytest

from friends.models import Share
from friends.shares.tasks import process_share
from socialsite.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_the_share_created_event_makes_the_share_ready(alice, share_file):
    share = share_file(alice)
    event = OutboxEvent.objects.get(name="share.created")
    assert process_share(event.as_message()) == "ready"
    assert Share.objects.get(pk=share.pk).thumbnail
    assert process_share(event.as_message()) == "ready"  # redelivered: nothing more happens


def test_the_processing_subscriber_is_bound_to_share_created_and_owned_by_the_sharer():
    from friends import events

    assert process_share.subscribes_to == (events.share_created,)
    assert process_share.owner_field == "owner_id"


@pytest.mark.django_db(transaction=True)
def test_a_link_shares_processing_task_ends_with_every_step_done(alice, stub_broker):
    """A link alone is ready when made: its owner's task page says so, not "0 of 3 steps" (found by a new
    user's trial). Through a StubBroker worker, so the task record is written as in production."""
    import dramatiq

    from friends.shares import services
    from socialsite.events import subscriber_message
    from socialsite.models import TaskRecord

    share = services.share_create(owner=alice, url="https://example.com/read", caption="a link")
    event = OutboxEvent.objects.get(name="share.created")
    message = stub_broker.enqueue(subscriber_message(event, process_share))
    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        stub_broker.join(process_share.queue_name, fail_fast=True)
        worker.join()
    finally:
        worker.stop()
    record = TaskRecord.objects.get(id=message.message_id)
    assert (record.state, record.owner_id, record.progress_done, record.progress_total) == ("done", alice.pk, 3, 3)
    assert "nothing to do" in record.progress_message and Share.objects.get(pk=share.pk).state == "ready"
