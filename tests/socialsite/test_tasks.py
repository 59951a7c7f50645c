"""Maintenance actors of the plumbing, called directly."""

from datetime import timedelta

from django.utils import timezone

from socialsite.models import TaskRecord
from socialsite.tasks import prune_task_records


def make_record(state: str, finished_days_ago: float | None) -> TaskRecord:
    import uuid

    finished = None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago)
    return TaskRecord.objects.create(
        id=uuid.uuid4(), actor_name="x", queue_name="default", state=state, message={}, finished_at=finished
    )


def test_prune_removes_old_finished_records_and_keeps_recent_ones_and_dead_letters(db):
    old_done = make_record("done", 8)
    recent_done = make_record("done", 1)
    old_failed = make_record("failed", 30)
    running = make_record("running", None)
    assert prune_task_records(7) == 1
    remaining = set(TaskRecord.objects.values_list("id", flat=True))
    assert old_done.id not in remaining
    assert {recent_done.id, old_failed.id, running.id} <= remaining


def test_prune_removes_task_records_left_enqueued_a_day_after_their_message_was_never_sent(db):
    orphan = make_record("enqueued", None)
    TaskRecord.objects.filter(id=orphan.id).update(enqueued_at=timezone.now() - timedelta(days=2))
    waiting = make_record("enqueued", None)  # enqueued just now: its message may be in the queue
    assert prune_task_records(7) == 1
    assert set(TaskRecord.objects.values_list("id", flat=True)) == {waiting.id}
