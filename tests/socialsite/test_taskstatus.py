"""Task records in proportion: the whole lifecycle for tracked tasks, failures and counters for the rest."""

import dramatiq
import pytest

from socialsite.models import TaskRecord
from socialsite.taskstatus import dead_letter_requeue, send_tracked, task_counters
from tests.support.tasks import always_fails, count_steps, fails_once, probe_ping_received, probe_receipts_key


@pytest.fixture
def run_worker(stub_broker, transactional_db):
    """A Dramatiq worker on the unit tier's StubBroker; `run()` waits until every queue is drained."""
    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=2)
    worker.start()

    def run() -> None:
        for name in list(stub_broker.queues):
            stub_broker.join(name, fail_fast=False)
        worker.join()

    yield run
    worker.stop()


def test_a_fire_and_forget_message_that_succeeds_writes_no_record_and_is_counted(run_worker):
    from socialsite.redis import get_redis

    for seq in range(3):
        probe_ping_received.send("r1", seq)
    run_worker()
    assert get_redis().hlen(probe_receipts_key("r1")) == 3
    assert not TaskRecord.objects.exists()
    assert task_counters()["probe_ping_received"] == {"processed": 3}


def test_an_untracked_failure_is_recorded_and_marked_done_when_its_retry_succeeds(run_worker):
    message = fails_once.send("once-1")
    run_worker()
    record = TaskRecord.objects.get(id=message.message_id)
    assert record.state == "done" and record.actor_name == "fails_once"
    assert task_counters()["fails_once"] == {"failed": 1, "processed": 1}


def test_an_untracked_dead_letter_is_recorded_with_its_message_and_can_be_requeued(run_worker):
    message = always_fails.send("dl-unit")
    run_worker()
    record = TaskRecord.objects.get(id=message.message_id)
    assert record.state == "failed" and "probe dl-unit failed on purpose" in record.error
    assert record.retries == 2 and record.message["args"] == ["dl-unit"]
    assert record.finished_at > record.enqueued_at
    assert task_counters()["always_fails"] == {"failed": 2, "dead_lettered": 1}

    dead_letter_requeue(record_id=record.id)  # the admin's action: from now on this message is tracked
    run_worker()
    rerun = TaskRecord.objects.get(id=message.message_id)
    assert rerun.state == "failed" and rerun.started_at > record.finished_at


def test_a_tracked_task_records_its_whole_lifecycle_and_result(run_worker, alice):
    message = send_tracked(count_steps, 2, 0.0, owner_id=alice.pk)
    assert TaskRecord.objects.get(id=message.message_id).state == "enqueued"
    run_worker()
    record = TaskRecord.objects.get(id=message.message_id)
    assert record.state == "done" and record.owner == alice and record.result == {"steps": 2}
    assert record.started_at and record.finished_at and record.progress_done == 2


def test_an_actor_declared_tracked_gets_a_record_without_an_owner(run_worker):
    message = count_steps.send(1, 0.0)
    run_worker()
    assert TaskRecord.objects.get(id=message.message_id).state == "done"
