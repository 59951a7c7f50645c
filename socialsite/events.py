"""Domain events: Django signals recorded in a transactional outbox and fanned out to subscribers.

Flow: a service calls `SOME_EVENT.emit(...)` inside its transaction -> an `OutboxEvent` row is written
with the change -> after commit the event is handed to RabbitMQ (publisher confirms), one message per
subscriber actor, each on its own queue -> the relay re-sends whatever is still pending, oldest first.
A rolled-back change leaves no row and sends nothing. Delivery is at-least-once, so subscribers are
idempotent; every subscriber message of one event has a stable id derived from the event id.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from dramatiq import Message
from dramatiq.errors import BrokerError
from dramatiq.middleware import CurrentMessage

from .models import OutboxEvent
from .redis import get_redis

logger = logging.getLogger(__name__)

_SUBSCRIBERS: dict[str, list[dramatiq.Actor]] = defaultdict(list)
EVENTS: dict[str, DomainEvent] = {}


class DomainEvent(Signal):
    """A past-tense domain event (`friendship.created`): a Django signal that also goes to the outbox.

    In-process receivers connect to it like any signal; out-of-process subscribers are actors
    registered with `subscriber()`. Emitting code knows neither.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        EVENTS[name] = self

    def emit(self, **payload: Any) -> OutboxEvent:
        """Record the event in the caller's transaction; it leaves the process only if that commits."""
        event = OutboxEvent.objects.create(name=self.name, payload=payload)
        self.send(sender=DomainEvent, event=event)
        # The row itself is handed over: no query to find it again after the commit.
        transaction.on_commit(lambda: _publish([event]))
        return event


def subscriber(*event_names: str, queue_name: str = "default", **actor_options: Any) -> Callable:
    """Declare an actor that receives every event of the given names (publish / subscribe).

    The actor is called with the event's JSON (`id`, `name`, `payload`, `created_at`).
    """

    def decorator(fn: Callable) -> dramatiq.Actor:
        @functools.wraps(fn)
        def handle(event: dict) -> Any:
            message = CurrentMessage.get_current_message()
            attempt = message.options.get("retries", 0) + 1 if message else 1
            logger.info("event %s %s -> %s (attempt %d)", event["name"], event["id"], fn.__name__, attempt)
            return fn(event)

        actor = dramatiq.actor(handle, queue_name=queue_name, **actor_options)
        for name in event_names:
            _SUBSCRIBERS[name].append(actor)
        return actor

    return decorator


def subscribers_of(name: str) -> list[dramatiq.Actor]:
    return list(_SUBSCRIBERS.get(name, ()))


def subscriber_message(event: OutboxEvent, actor: dramatiq.Actor) -> Message:
    """The message one subscriber gets for one event; its id is stable across re-sends."""
    return Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=(event.as_message(),),
        kwargs={},
        options={"event_id": str(event.id)},
        message_id=str(uuid.uuid5(event.id, actor.actor_name)),
    )


def publish_events(event_ids: Iterable[uuid.UUID]) -> int:
    """Hand the given events to RabbitMQ now (called after commit); failures stay for the relay."""
    return _publish(OutboxEvent.objects.filter(id__in=list(event_ids), published_at__isnull=True))


def relay_pending(*, batch_size: int = 500, grace: float | None = None) -> int:
    """Hand over every pending event older than `grace` seconds, oldest first; returns how many.

    The grace period leaves fresh events to their own after-commit publish, and a Redis lock lets one
    relay run at a time across all processes; either race would only cost a duplicate delivery, which
    subscribers absorb, but there is no reason to pay for it.
    """
    grace = settings.OUTBOX_RELAY_GRACE if grace is None else grace
    lock = get_redis().lock("outbox:relay", timeout=300, blocking=False)
    if not lock.acquire():
        return 0
    try:
        total = 0
        while True:
            cutoff = timezone.now() - timedelta(seconds=grace)
            pending = OutboxEvent.objects.filter(published_at__isnull=True, created_at__lte=cutoff)
            published = _publish(pending.order_by("created_at")[:batch_size])
            total += published
            if published < batch_size:
                return total
    finally:
        lock.release()


def _publish(events) -> int:
    """Publish each event to every subscriber, oldest first, stopping at the first broker failure.

    Runs outside any transaction on purpose: the task records written while enqueueing must be visible
    to the worker at once, and no row lock is held while waiting for RabbitMQ's confirms. Marking an
    event published is a conditional update, so two publishers at worst deliver it twice.
    """
    published = 0
    broker = dramatiq.get_broker()
    for event in events:
        try:
            for actor in subscribers_of(event.name):
                broker.enqueue(subscriber_message(event, actor))
                logger.info("event %s %s -> %s", event.name, event.id, actor.actor_name)
        except (BrokerError, OSError) as exc:
            logger.warning("event %s %s not published, left for the relay: %r", event.name, event.id, exc)
            OutboxEvent.objects.filter(id=event.id).update(attempts=F("attempts") + 1, last_error=repr(exc))
            break
        OutboxEvent.objects.filter(id=event.id, published_at__isnull=True).update(published_at=timezone.now())
        published += 1
    return published
