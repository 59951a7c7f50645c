"""What a task's owner may read about its failure (`taskstatus.short_error`), and dead-letter re-enqueueing."""

from __future__ import annotations

import uuid

import pytest

from socialsite.errors import ServiceError
from socialsite.models import TaskRecord
from socialsite.taskstatus import dead_letter_requeue, send_tracked, short_error
from tests.support.tasks import always_fails


class ProbeError(Exception):
    pass


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (ProbeError("no friend 42"), "ProbeError: no friend 42"),
        (ProbeError(), "ProbeError"),
        (
            ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
            "ConnectionError: Error 111 connecting to <host>. Connection refused.",
        ),
        (OSError("cannot open /var/lib/socialsite/media/x.png"), "OSError: cannot open <path>"),
        (ProbeError("amqp://guest:guest@rabbit.internal:5672/%2F is down"), "ProbeError: <url> is down"),
        (ProbeError("pg at db-1.internal:5432 and [::1]:6379"), "ProbeError: pg at <host> and <host>"),
        (ProbeError("line one\n  line two"), "ProbeError: line one line two"),
    ],
)
def test_short_error_is_the_class_and_message_without_hosts_ports_urls_or_paths(exception, expected):
    assert short_error(exception) == expected


def test_short_error_is_one_line_of_at_most_200_characters():
    text = short_error(ProbeError("x" * 1000 + "\n" + "y"))
    assert len(text) == 200 and "\n" not in text and text.endswith("…")


def make_record(state: str) -> TaskRecord:
    message = send_tracked(always_fails, "x")
    TaskRecord.objects.filter(id=message.message_id).update(state=state)
    return TaskRecord.objects.get(id=message.message_id)


@pytest.mark.parametrize("state", ["enqueued", "running", "retrying", "done"])
def test_only_dead_letters_can_be_re_enqueued(db, stub_broker, state):
    record = make_record(state)
    stub_broker.flush_all()
    with pytest.raises(ServiceError, match="only dead letters"):
        dead_letter_requeue(record_id=record.id)
    assert stub_broker.queues["default"].qsize() == 0
    record.refresh_from_db()
    assert record.state == state


def test_a_dead_letter_is_re_enqueued_once_as_the_same_message(db, stub_broker):
    record = make_record("failed")
    stub_broker.flush_all()
    message = dead_letter_requeue(record_id=record.id)
    assert message.message_id == str(record.id)
    assert stub_broker.queues["default"].qsize() == 1
    record.refresh_from_db()
    assert record.state == "enqueued"
    with pytest.raises(ServiceError):  # a second click finds it enqueued, not dead
        dead_letter_requeue(record_id=record.id)
    assert stub_broker.queues["default"].qsize() == 1


def test_re_enqueueing_an_unknown_task_is_not_found(db):
    from socialsite.errors import NotFound

    with pytest.raises(NotFound):
        dead_letter_requeue(record_id=uuid.uuid4())
