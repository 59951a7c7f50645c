"""Domain events: Django signals recorded in a transactional outbox and fanned out to subscribers.

Flow: a service calls `SOME_EVENT.emit(...)` inside its transaction -> an `OutboxEvent` row is written
with the change -> after commit the event is handed to this process's publisher thread and the request
goes on (socialsite/publisher.py: batches, publisher confirms), one message per subscriber actor, each on
its own queue -> the relay re-sends whatever is still pending, oldest first.
A rolled-back change leaves no row and sends nothing. Delivery is at-least-once, so subscribers are
idempotent; every subscriber message of one event has a stable id derived from the event id.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.sql import InsertQuery
from django.dispatch import Signal
from django.utils import timezone
from dramatiq import Message
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import BrokerError
from dramatiq.middleware import CurrentMessage

from .models import OutboxEvent
from .publisher import publisher_for

logger = logging.getLogger(__name__)

_SUBSCRIBERS: dict[str, list[dramatiq.Actor]] = defaultdict(list)
EVENTS: dict[str, DomainEvent] = {}


class EventContractError(ImproperlyConfigured):
    """The event map is inconsistent: raised at import or start-up, never in production traffic."""


class DomainEvent(Signal):
    """A past-tense domain event (`friendship.created`): a Django signal that also goes to the outbox.

    Each event declares its payload: `fields` maps every field name to its JSON type (`int`, `str`,
    `bool`, `float`), and `emit()` refuses a payload with a missing, extra or mistyped field, so a
    payload's shape lives here and not at its call sites. `without_subscribers=True` says on purpose
    that nothing consumes it out of process (yet); otherwise start-up fails when no subscriber exists.

    In-process receivers connect to it like any signal; out-of-process subscribers are actors
    registered with `subscriber()`. Emitting code knows neither.

    Raises:
        EventContractError: a second event with the same name, or a field type that is not JSON.
    """

    def __init__(self, name: str, *, fields: dict[str, type], without_subscribers: bool = False, doc: str = "") -> None:
        super().__init__()
        if name in EVENTS:
            raise EventContractError(f"Domain event {name!r} is declared twice.")
        bad = {k: t for k, t in fields.items() if t not in _JSON_TYPES}
        if bad:
            raise EventContractError(f"Event {name!r}: payload fields must be JSON scalars, got {bad!r}.")
        self.name = name
        self.fields = dict(fields)
        self.without_subscribers = without_subscribers
        self.doc = doc
        EVENTS[name] = self

    def __repr__(self) -> str:
        return f"<DomainEvent {self.name}>"

    def validate(self, payload: dict[str, Any]) -> None:
        """Check a payload against the declaration.

        Raises:
            TypeError: a field is missing, unknown, or of the wrong type (bool is not an int here).
        """
        missing = sorted(self.fields.keys() - payload.keys())
        extra = sorted(payload.keys() - self.fields.keys())
        if missing or extra:
            raise TypeError(
                f"{self.name}.emit(): missing field(s) {missing}, unexpected field(s) {extra}; "
                f"declared: {sorted(self.fields)}"
            )
        for key, expected in self.fields.items():
            value = payload[key]
            if type(value) is not expected and not (expected is float and type(value) is int):
                raise TypeError(f"{self.name}.emit(): {key}={value!r} is not {expected.__name__}")

    def emit(self, **payload: Any) -> OutboxEvent:
        """Record the event in the caller's transaction; it leaves the process only if that commits.

        Raises:
            TypeError: the payload does not match the declared fields (see `validate`).
        """
        self.validate(payload)
        event = OutboxEvent(name=self.name, payload=payload)
        _insert(event)
        self.send(sender=DomainEvent, event=event)
        # The row itself is handed over (no query to find it again), and the request does not wait for
        # the broker: the publisher thread publishes it; the relay covers a process that dies first.
        # `robust`: a failing hand-off is logged, never turned into an error for a request that committed.
        transaction.on_commit(lambda: hand_off([event]), robust=True)
        return event


_JSON_TYPES = (int, str, bool, float)
_INSERT_SQL: dict[str, str] = {}  # database alias -> the outbox row's INSERT, as Django's compiler writes it


def _insert(event: OutboxEvent) -> None:
    """INSERT one new outbox row, with the statement Django's compiler writes for it, built once.

    Why not `save()`: for an append-only row it spent more time than the INSERT itself (the
    insert-or-update decision, pre/post-save signals, compiling the statement anew), about 0.13 ms of
    CPU per event (bench.bench_emit), paid by the request and, through the GIL, by the process's other
    threads. The values go through each field's `get_db_prep_save`, as in `save()`, so every database
    backend gets what it expects; the model has no save() override nor save signals to skip.
    """
    alias = router.db_for_write(OutboxEvent)
    connection = connections[alias]
    fields = OutboxEvent._meta.concrete_fields
    sql = _INSERT_SQL.get(alias)
    if sql is None:
        query = InsertQuery(OutboxEvent)
        query.insert_values(fields, [event])
        [(sql, _params)] = query.get_compiler(using=alias).as_sql()
        _INSERT_SQL[alias] = sql
    params = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    event._state.adding = False
    event._state.db = alias


def subscriber(
    *events: DomainEvent, queue_name: str = "default", owner_field: str | None = None, **actor_options: Any
) -> Callable:
    """Declare an actor that receives every event of the given `DomainEvent` objects (publish / subscribe).

    The actor is called with the event's JSON (`id`, `name`, `payload`, `created_at`). Naming events by
    object, not by string, makes a typo an import error. `owner_field` names an int payload field holding
    the user whose task this is: that user may then read its status (`GET /api/v1/tasks/{id}/`), as
    for `send_tracked`.

    Raises:
        EventContractError: an argument is not a declared `DomainEvent` (for example a string), or
            `owner_field` is not an int field of every event.
    """
    for event in events:
        if not isinstance(event, DomainEvent) or EVENTS.get(event.name) is not event:
            raise EventContractError(
                f"subscriber() takes declared DomainEvent objects, got {event!r}; declare the event in the "
                f"app's events.py and pass the object. Declared: {sorted(EVENTS)}"
            )
        if owner_field is not None and event.fields.get(owner_field) is not int:
            raise EventContractError(f"owner_field={owner_field!r} is not an int field of {event.name!r}.")
    if not events:
        raise EventContractError("subscriber() needs at least one event.")

    def decorator(fn: Callable) -> dramatiq.Actor:
        @functools.wraps(fn)
        def handle(event: dict) -> Any:
            message = CurrentMessage.get_current_message()
            attempt = message.options.get("retries", 0) + 1 if message else 1
            logger.info("event %s %s -> %s (attempt %d)", event["name"], event["id"], fn.__name__, attempt)
            return fn(event)

        actor = dramatiq.actor(handle, queue_name=queue_name, **actor_options)
        for event in events:
            _SUBSCRIBERS[event.name].append(actor)
        actor.subscribes_to = tuple(events)
        actor.owner_field = owner_field
        return actor

    return decorator


def check_event_contract() -> list[str]:
    """Every problem with the event map, as sentences (empty when it is consistent).

    An event without subscribers that does not say so on purpose would be published to nobody and
    marked done: every such event is lost, so this is a start-up error (see `socialsite.checks`).
    """
    problems = []
    for name, event in sorted(EVENTS.items()):
        if not _SUBSCRIBERS.get(name) and not event.without_subscribers:
            problems.append(
                f"Domain event {name!r} has no subscriber. Add a @subscriber for it, or declare it with "
                f"without_subscribers=True if nothing consumes it yet."
            )
    for name in sorted(set(_SUBSCRIBERS) - set(EVENTS)):
        problems.append(f"Subscribers are registered for {name!r}, which is not a declared domain event.")
    return problems


def event_map() -> list[dict[str, Any]]:
    """The whole event map: one dict per event, sorted by name.

    Shape: ``{"event": str, "payload": {field: type name}, "subscribers": [{"actor": str, "queue": str}],
    "doc": str}``. Used by `manage.py events` and the README test.
    """
    return [
        {
            "event": name,
            "payload": {k: t.__name__ for k, t in event.fields.items()},
            "subscribers": [{"actor": a.actor_name, "queue": a.queue_name} for a in _SUBSCRIBERS.get(name, ())],
            "doc": event.doc,
        }
        for name, event in sorted(EVENTS.items())
    ]


def event_map_markdown() -> str:
    """The event map as the Markdown table the README carries (a test keeps the two equal)."""
    lines = ["| event | payload | subscriber → queue | meaning |", "|---|---|---|---|"]
    for row in event_map():
        payload = ", ".join(f"`{k}`" for k in row["payload"])
        subs = "<br>".join(f"`{s['actor']}` → `{s['queue']}`" for s in row["subscribers"]) or "(none, on purpose)"
        lines.append(f"| `{row['event']}` | {payload} | {subs} | {row['doc']} |")
    return "\n".join(lines)


def subscribers_of(name: str) -> list[dramatiq.Actor]:
    return list(_SUBSCRIBERS.get(name, ()))


def subscriber_message_id(event: OutboxEvent, actor: dramatiq.Actor) -> uuid.UUID:
    """The id of the message `actor` gets for `event` (and of its task record), known before it is sent."""
    return uuid.uuid5(event.id, actor.actor_name)


def subscriber_message(event: OutboxEvent, actor: dramatiq.Actor) -> Message:
    """The message one subscriber gets for one event; its id is stable across re-sends."""
    options: dict[str, Any] = {"event_id": str(event.id)}
    if owner_field := getattr(actor, "owner_field", None):
        options["owner_id"] = event.payload[owner_field]
    return Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=(event.as_message(),),
        kwargs={},
        options=options,
        message_id=str(subscriber_message_id(event, actor)),
    )


def hand_off(events: list[OutboxEvent], *, wait: bool = False) -> int | None:
    """Publish committed events: on RabbitMQ through this process's publisher thread (without `wait`,
    returns None at once); on any other broker (the unit tests' StubBroker) right here, one by one.
    With `wait`, returns how many were published; the others stay pending for the relay."""
    broker = dramatiq.get_broker()
    if isinstance(broker, RabbitmqBroker):
        return publisher_for(broker).submit(events, wait=wait, timeout=60)
    return _publish(events)


def publish_events(event_ids: Iterable[uuid.UUID]) -> int:
    """Hand the given events to RabbitMQ now and wait (the admin's action); failures stay for the relay."""
    pending = OutboxEvent.objects.filter(id__in=list(event_ids), published_at__isnull=True).order_by("created_at")
    return hand_off(list(pending), wait=True) or 0


def relay_pending(*, batch_size: int = 500, grace: float | None = None) -> int:
    """Hand over pending events (the relay); see `socialsite.relay.relay_pending`."""
    from .relay import relay_pending as relay

    return relay(batch_size=batch_size, grace=grace)


def _publish(events) -> int:
    """Publish each event to every subscriber through `broker.enqueue`, oldest first, stopping at the
    first broker failure (brokers other than RabbitMQ; RabbitMQ goes through socialsite.publisher).

    Runs outside any transaction on purpose: no row lock is held while waiting for the broker. Marking an
    event published is a conditional update, so two publishers at worst deliver it twice.
    """
    published = 0
    broker = dramatiq.get_broker()
    for event in events:
        actors = subscribers_of(event.name)
        declared = EVENTS.get(event.name)
        if not actors and (declared is None or not declared.without_subscribers):
            # Start-up refuses this map (check_event_contract); if it happens anyway, keep the event
            # pending rather than mark it published to nobody.
            logger.error("event %s %s has no subscriber; left pending", event.name, event.id)
            OutboxEvent.objects.filter(id=event.id).update(attempts=F("attempts") + 1, last_error="no subscriber")
            continue
        try:
            for actor in actors:
                broker.enqueue(subscriber_message(event, actor))
                logger.info("event %s %s -> %s", event.name, event.id, actor.actor_name)
        except (BrokerError, OSError) as exc:
            logger.warning("event %s %s not published, left for the relay: %r", event.name, event.id, exc)
            OutboxEvent.objects.filter(id=event.id).update(attempts=F("attempts") + 1, last_error=repr(exc))
            break
        OutboxEvent.objects.filter(id=event.id, published_at__isnull=True).update(published_at=timezone.now())
        published += 1
    return published
