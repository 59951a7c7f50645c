"""Task status, in proportion: a full `TaskRecord` lifecycle for tracked tasks, failures for the rest.

A task is *tracked* when someone may watch it: its actor says `track=True` (jobs with progress), or the
message carries an `owner_id` (a user-visible computation, see `send_tracked`) or `track=True` (a dead
letter an admin re-enqueued). A tracked message's record moves enqueued -> running -> retrying ->
done/failed, with progress, result and owner: three writes per message, which its owner reads at
`GET /api/v1/tasks/{id}/`.

Everything else (subscriber messages, drains, cron plumbing) is fire-and-forget: no write while it goes
well, only a Redis counter per actor and outcome (`task_counters()`). Its first failure writes a record
(state, error and the message itself), so the admin sees every retrying task and every dead letter and
can re-enqueue it; if a retry then succeeds, that record is marked done.
"""

from __future__ import annotations

import logging
import re
import traceback
from datetime import UTC, datetime
from typing import Any

import dramatiq
from django.db import close_old_connections
from django.utils import timezone
from dramatiq.errors import ActorNotFound, BrokerError
from dramatiq.middleware import CurrentMessage, Middleware
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

COUNTERS_KEY = "task-counters"  # Redis hash: "<actor>:<outcome>" -> count


class State:
    """Mirrors `TaskRecord.State`; this module is imported before models are ready (broker set-up)."""

    ENQUEUED, RUNNING, RETRYING, DONE, FAILED = "enqueued", "running", "retrying", "done", "failed"


def is_tracked(broker: dramatiq.Broker, message: dramatiq.Message) -> bool:
    """Whether this message gets the full record lifecycle (see the module doc)."""
    if message.options.get("owner_id") or message.options.get("track"):
        return True
    try:
        return bool(broker.get_actor(message.actor_name).options.get("track"))
    except ActorNotFound:
        return False


class TaskStatusMiddleware(Middleware):
    """Keeps `TaskRecord` rows for tracked messages and for every failure, counters for the rest.

    Listed before `Retries` in settings, so its `after_process_message` runs after Retries has decided
    (Dramatiq calls `after_*` hooks in reverse order) and can tell a retry from a dead letter.
    """

    @property
    def actor_options(self) -> set[str]:
        return {"track"}

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int | None) -> None:
        # Before, not after: once published, a fast worker may finish the task before `after_enqueue`
        # runs, and "enqueued" would overwrite "done". If publishing then fails, the outbox relay (or the
        # caller) sends the same message id again.
        if not is_tracked(broker, message):
            return  # an untracked retry already has its record (written by the failure)
        retries = message.options.get("retries", 0)
        fields: dict[str, Any] = {"state": State.RETRYING if retries else State.ENQUEUED, "retries": retries}
        if not retries:
            fields.update(enqueued_at=timezone.now(), started_at=None, finished_at=None, error="", traceback="")
        _upsert(message, **fields)

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        close_old_connections()
        if is_tracked(broker, message):
            _update(message, state=State.RUNNING, started_at=timezone.now())

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        tracked = is_tracked(broker, message)
        if exception is None:
            _count(message, "processed")
            if tracked:
                _update(message, state=State.DONE, result=_jsonable(result), finished_at=timezone.now(), error="")
            elif message.options.get("retries"):
                # An earlier attempt failed and wrote a record: it must not stay "retrying" forever.
                _update(message, state=State.DONE, finished_at=timezone.now(), error="")
            return
        error = short_error(exception)
        # The full traceback (paths, hosts, ports) is for admins and logs only; owners see `error`.
        trace = message.options.get("traceback") or "".join(traceback.format_exception(exception))
        write = _update if tracked else _upsert  # an untracked message has no record before it fails
        if message.failed:
            _count(message, "dead_lettered")
            logger.error(
                "task %s %s dead-lettered after %s retries: %s",
                message.actor_name,
                message.message_id,
                message.options.get("retries", 0),
                error,
            )
            write(
                message,
                state=State.FAILED,
                error=error,
                traceback=trace,
                finished_at=timezone.now(),
                # Retries counts failed attempts; the first attempt was not a retry.
                retries=max(message.options.get("retries", 1) - 1, 0),
            )
        else:
            _count(message, "failed")
            logger.warning(
                "task %s %s attempt %s failed, will retry: %s",
                message.actor_name,
                message.message_id,
                message.options.get("retries", 0),
                error,
            )
            write(
                message, state=State.RETRYING, error=error, traceback=trace, retries=message.options.get("retries", 0)
            )

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        _count(message, "dead_lettered")
        _upsert(message, state=State.FAILED, error="skipped (message too old)", finished_at=timezone.now())


def _upsert(message: dramatiq.Message, **fields: Any) -> None:
    """Create or update the message's record in one statement (INSERT … ON CONFLICT UPDATE)."""
    from .models import TaskRecord

    defaults: dict[str, Any] = {
        "actor_name": message.actor_name,
        "queue_name": message.queue_name.removesuffix(".DQ"),
        "message": message.asdict(),
        **fields,
    }
    defaults.setdefault("enqueued_at", datetime.fromtimestamp(message.message_timestamp / 1000, tz=UTC))
    if owner_id := message.options.get("owner_id"):
        defaults["owner_id"] = owner_id
    TaskRecord.objects.bulk_create(
        [TaskRecord(id=message.message_id, **defaults)],
        update_conflicts=True,
        unique_fields=["id"],
        # The first enqueue time and the owner stay as first written.
        update_fields=[f for f in defaults if f not in ("owner_id", "enqueued_at") or f in fields] + ["updated_at"],
    )


# What must not reach a task's owner: where the site runs (addresses, URLs with credentials, ports)
# and how it is laid out on disk.
_REDACT = [
    (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+"), "<url>"),
    (re.compile(r"\[[0-9A-Fa-f:.]+\](?::\d+)?"), "<host>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<host>"),
    (re.compile(r"\b[A-Za-z0-9][\w.-]*:\d{2,5}\b"), "<host>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@~+-]+){2,}[/\\]?"), "<path>"),
]
SHORT_ERROR_LENGTH = 200


def short_error(exception: BaseException) -> str:
    """What a task's owner reads about a failure: `ExceptionClass: message`, one line.

    No traceback, and addresses, host:port pairs, URLs and file paths in the message are replaced by
    placeholders (`<host>`, `<url>`, `<path>`); at most 200 characters. Admins see the traceback.
    """
    text = " ".join(str(exception).split())
    for pattern, placeholder in _REDACT:
        text = pattern.sub(placeholder, text)
    line = f"{type(exception).__name__}: {text}" if text else type(exception).__name__
    return line if len(line) <= SHORT_ERROR_LENGTH else line[: SHORT_ERROR_LENGTH - 1] + "…"


def _update(message: dramatiq.Message, **fields: Any) -> None:
    from .models import TaskRecord

    TaskRecord.objects.filter(id=message.message_id).update(updated_at=timezone.now(), **fields)


def _count(message: dramatiq.Message, outcome: str) -> None:
    """One HINCRBY; a Redis outage loses a count, never the task."""
    from .redis import get_redis

    try:
        get_redis().hincrby(COUNTERS_KEY, f"{message.actor_name}:{outcome}", 1)
    except RedisError as exc:
        logger.warning("task counter %s:%s not counted: %r", message.actor_name, outcome, exc)


def task_counters() -> dict[str, dict[str, int]]:
    """Messages handled per actor since Redis was last emptied.

    Shape: ``{actor_name: {"processed": n, "failed": n, "dead_lettered": n}}`` (outcomes that never
    happened are absent); "failed" counts attempts that will be retried.
    """
    from .redis import get_redis

    counters: dict[str, dict[str, int]] = {}
    for key, value in get_redis().hgetall(COUNTERS_KEY).items():
        actor, _, outcome = key.rpartition(":")
        counters.setdefault(actor, {})[outcome] = int(value)
    return counters


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (dict, list, str, int, float, bool, type(None))) else repr(value)


def report_progress(done: int, total: int, text: str = "") -> None:
    """Called by an actor with steps, from inside its body, to publish `done/total` and a message."""
    message = CurrentMessage.get_current_message()
    if message is not None:
        _update(message, progress_done=done, progress_total=total, progress_message=text[:200])


def task_record_forget_unsent(message: dramatiq.Message) -> None:
    """Delete the record `before_enqueue` wrote for a message that then was not sent (RabbitMQ refused or did
    not answer), so no task stays "enqueued" forever for a message nobody will run (issue 10). Only a
    record still `enqueued` and never started goes; a lost database leaves it to `task_records_prune`."""
    from django.db import DatabaseError

    from .models import TaskRecord

    try:
        TaskRecord.objects.filter(id=message.message_id, state=State.ENQUEUED, started_at__isnull=True).delete()
    except DatabaseError:
        logger.warning("could not delete the record of unsent task %s", message.message_id, exc_info=True)


def send_tracked(actor: dramatiq.Actor, *args: Any, owner_id: int | None = None, **kwargs: Any) -> dramatiq.Message:
    """Enqueue a task with a full status record, which its owner may read (`GET /api/v1/tasks/{id}/`)."""
    return actor.send_with_options(args=args, kwargs=kwargs, owner_id=owner_id, track=True)


def dead_letter_requeue(*, record_id: Any) -> dramatiq.Message:
    """Send a dead letter's message again, as a fresh attempt with the same id; an admin is watching it,
    so it is tracked from now on.

    Only a dead letter (state `failed`: retries exhausted) can be re-enqueued; an enqueued, running,
    retrying or done task is refused with `ServiceError`, so a task never runs twice at once or again
    after it succeeded. The record is claimed by moving it out of `failed` in one conditional UPDATE, so
    two admins re-enqueueing it at once send it once. Raises `NotFound` for an unknown id, and the
    broker's `BrokerError` (the record is failed again) if RabbitMQ refuses the message.
    """
    from .errors import NotFound, ServiceError
    from .models import TaskRecord

    record = TaskRecord.objects.filter(id=record_id).first()
    if record is None:
        raise NotFound("No such task.")
    claimed = TaskRecord.objects.filter(id=record.id, state=State.FAILED).update(
        state=State.ENQUEUED, updated_at=timezone.now()
    )
    if not claimed:
        raise ServiceError(
            f"Task {record.id} is {record.state}: only dead letters (failed tasks) can be re-enqueued.",
            code="not_dead_letter",
        )
    message = dramatiq.Message(**record.message)
    options = {
        k: v for k, v in message.options.items() if k not in ("retries", "traceback", "requeue_timestamp", "eta")
    }
    options["track"] = True
    message = message.copy(queue_name=record.queue_name, options=options)
    try:
        return dramatiq.get_broker().enqueue(message)
    except BrokerError:
        TaskRecord.objects.filter(id=record.id, state=State.ENQUEUED).update(state=State.FAILED)
        raise
