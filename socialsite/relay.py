"""The outbox relay: re-sends the events still pending after their commit, one relay at a time.

Every worker runs it every `OUTBOX_RELAY_INTERVAL` seconds (`socialsite.broker.OutboxRelay`) and cron runs
it every minute (`relay_outbox`). It hands over pending events older than `OUTBOX_RELAY_GRACE` seconds
(younger ones are left to their own after-commit publish), oldest first, in pages.

**One relay at a time: a PostgreSQL advisory lock**, not a Redis lock. Two relays at once would only cost
duplicate deliveries, which subscribers absorb, but there is no reason to pay for them. The lock used to
be a Redis lock with a fixed 300 s lifetime, never extended (issue 10): a long backlog let a second relay
in and the first one's release then raised; a worker killed mid-pass stalled relaying for five minutes;
and with Redis down the relay stopped altogether, though it needs nothing from Redis. A session-level
advisory lock (`pg_try_advisory_lock`) has none of these problems:

- it lives as long as the relay's database session, so it needs no lifetime and no renewal: it cannot
  expire under a long pass;
- it is released by `pg_advisory_unlock` at the end of the pass, which only its owner can do and which
  answers false (no exception) if the session is already gone; and PostgreSQL releases it at once when
  the holder's connection ends, so a worker killed -9 hands over to the next relay pass (2 s), not after
  a TTL;
- it depends only on the database, which the relay needs anyway: with Redis down, relaying goes on.

What it does not cover: a holder that is frozen (SIGSTOP, a suspended VM) but whose connection stays
open keeps the lock until it resumes or its connection is cut; relaying then pauses, losing nothing.
Other databases (SQLite, development) have no advisory locks: a lock per process stands in, and two
processes may relay at once (duplicates, absorbed).

**No head-of-line blocking.** A queue that refuses publishes (RabbitMQ nacks them: a full queue with
`reject-publish`, or returns them: unroutable) used to keep the same oldest events failing at the head of
every pass. Now the pass goes on past them: once a queue refused an event, every later event with a
subscriber on that queue is skipped for the rest of the pass, so each queue still receives events in
commit order (and so each aggregate's events stay in order), while events for the other queues go out.
When RabbitMQ itself is unreachable (an event fails without any queue refusing it), the pass stops.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from .models import OutboxEvent
from .publisher import Outcome, publisher_for

logger = logging.getLogger(__name__)

# pg_try_advisory_lock's key: any 64-bit number no other advisory lock of the site uses ("outbox").
RELAY_LOCK_KEY = int.from_bytes(b"outbox", "big")
PUBLISH_TIMEOUT = 30.0  # seconds to wait for one page's confirms; the publisher's own timeouts are shorter

_local_lock = threading.Lock()  # stands in for the advisory lock on databases without one


@contextlib.contextmanager
def relay_lock() -> Iterator[bool]:
    """Try to become the one relay (see the module doc); yields whether this caller holds the lock, and
    releases it on leaving. Never blocks and never raises for a lost lock."""
    if connection.vendor != "postgresql":
        held = _local_lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                _local_lock.release()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_KEY])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [RELAY_LOCK_KEY])
            except DatabaseError:  # the session is gone, and the lock with it
                logger.warning("outbox relay: the session holding the lock was lost", exc_info=True)


def relay_pending(*, batch_size: int = 500, grace: float | None = None) -> int:
    """Hand over every pending event older than `grace` seconds (default `OUTBOX_RELAY_GRACE`), oldest
    first, unless another relay is running; returns how many were published. Events for a queue that
    refuses them are skipped with every later event for that queue; a broker that is down ends the pass
    (see the module doc). Raises `DatabaseError` if the database fails."""
    grace = settings.OUTBOX_RELAY_GRACE if grace is None else grace
    with relay_lock() as held:
        if not held:
            return 0
        return _relay(batch_size=batch_size, cutoff=timezone.now() - timedelta(seconds=grace))


def _relay(*, batch_size: int, cutoff) -> int:
    from .events import subscribers_of

    pending = OutboxEvent.objects.filter(published_at__isnull=True, created_at__lte=cutoff)
    blocked: set[str] = set()  # queues that refused an event during this pass
    total = 0
    page = pending.order_by("created_at", "id")[:batch_size]
    while events := list(page):
        last = events[-1]
        page = pending.filter(Q(created_at__gt=last.created_at) | Q(created_at=last.created_at, id__gt=last.id))
        page = page.order_by("created_at", "id")[:batch_size]
        queues_of = {e.id: {a.queue_name for a in subscribers_of(e.name)} for e in events}
        sendable = [e for e in events if not queues_of[e.id] & blocked]
        if not sendable:
            continue
        outcome = _send(sendable)
        total += len(outcome.published)
        for event in sendable:
            if event.id in outcome.published:
                continue
            if refused := outcome.refused.get(event.id):
                blocked |= refused
            elif queues_of[event.id]:
                # Not refused by a queue, yet not published: RabbitMQ is unreachable or not answering. (An
                # event without subscribers stays pending with its error and blocks nothing.)
                logger.info("outbox relay: RabbitMQ unavailable; %d published in this pass", total)
                return total
        if blocked:
            logger.warning("outbox relay: queue(s) %s refuse events; later events for them wait", sorted(blocked))
    return total


def _send(events: list[OutboxEvent]) -> Outcome:
    """Publish `events` and wait for the outcome: on RabbitMQ through the publisher thread, on any other
    broker (the unit tests' StubBroker) one by one, where a failure is the broker's, never a queue's."""
    broker = dramatiq.get_broker()
    if isinstance(broker, RabbitmqBroker):
        return publisher_for(broker).publish(events, timeout=PUBLISH_TIMEOUT)
    from .events import _publish

    _publish(events)
    ids: list[uuid.UUID] = [e.id for e in events]
    published = OutboxEvent.objects.filter(id__in=ids, published_at__isnull=False).values_list("id", flat=True)
    return Outcome(published=set(published), refused={})
