"""Outbox events to RabbitMQ off the request path: one publisher thread per process, batches, confirms.

After a transaction that emitted events commits, `OutboxPublisher.submit(events)` queues them and returns
at once, so a request pays for its outbox INSERT and not for a broker round trip. The publisher's thread
owns an asynchronous pika connection (a `SelectConnection` on a channel in confirm mode). It takes every
event waiting, publishes one message per subscriber for each (Dramatiq's encoding and properties, exactly
what `RabbitmqBroker.enqueue` sends), then waits for RabbitMQ's confirms of the whole batch together —
RabbitMQ acknowledges many deliveries in one frame — marks the confirmed events published in one UPDATE,
and takes the next batch. Dramatiq's `enqueue` with `confirm_delivery` waits for each message's confirm
before sending the next one: a round trip per message.

Durability is the outbox row's, as before: until its confirms arrive an event stays pending in the
database, so if the connection, the thread or the whole process dies first, the relay (a thread in every
worker, and a cron job) sends it. Unroutable (`mandatory`) and nacked messages leave their event pending,
with the error, for the relay. Order: one thread per process publishes in hand-off order on one channel,
so the messages of one process reach each queue in commit order, oldest first, as the relay sends them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import pika
from django.db import DatabaseError, close_old_connections, connections, router
from django.db.models import F
from django.utils import timezone
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import BrokerError
from pika.adapters.select_connection import IOLoop
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from .models import OutboxEvent

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Request:
    """Events handed over together; `done` is set once each is published or left to the relay."""

    events: list[OutboxEvent]
    done: threading.Event = field(default_factory=threading.Event)
    published: set[uuid.UUID] = field(default_factory=set)
    refused: dict[uuid.UUID, set[str]] = field(default_factory=dict)  # event id -> queues that refused it


@dataclass
class Outcome:
    """What became of events handed over with `OutboxPublisher.publish`.

    `published`: ids of the events every subscriber's queue confirmed. `refused`: event id -> the queues
    that refused one of its messages (nacked, e.g. a full queue with `reject-publish`, or unroutable).
    Any other event is still pending for another reason: RabbitMQ unreachable or not answering, no
    subscriber, or the wait ran out.
    """

    published: set[uuid.UUID]
    refused: dict[uuid.UUID, set[str]]


class OutboxPublisher:
    """Publishes outbox events for one `RabbitmqBroker` from a background thread (see the module doc).

    `submit()` is thread-safe and never blocks on the broker unless asked to wait. Build one per process
    with `publisher_for()`.
    """

    def __init__(
        self,
        broker: RabbitmqBroker,
        *,
        max_batch_messages: int = 1000,
        confirm_timeout: float = 10.0,
        reconnect_delay: float = 1.0,
        idle_release: float = 1.0,
    ) -> None:
        self.broker = broker
        params = broker.parameters
        self.parameters = params[0] if isinstance(params, list) else params
        self.max_batch_messages = max_batch_messages
        self.confirm_timeout = confirm_timeout
        self.reconnect_delay = reconnect_delay
        self.idle_release = idle_release
        self.pid = os.getpid()

        self._waiting: deque[_Request] = deque()
        self._lock = threading.Lock()
        self._ioloop = IOLoop()
        self._closed = False
        # Everything below belongs to the publisher thread.
        self._state = "idle"  # idle -> connecting -> ready; backoff after a failure
        self._connection: pika.SelectConnection | None = None
        self._channel: Any = None
        self._tag = 0  # delivery tag of the last message published on the current channel
        self._low = 1  # lowest delivery tag not confirmed yet
        self._declared: set[str] = set()  # queues this publisher made sure exist
        self._batch: list[_Request] = []
        self._tags: dict[int, tuple[uuid.UUID, dramatiq.Message]] = {}  # unconfirmed deliveries
        self._outstanding: dict[uuid.UUID, int] = {}  # event id -> unconfirmed messages
        self._errors: dict[uuid.UUID, str] = {}
        self._refused: dict[uuid.UUID, set[str]] = {}  # event id -> queues that nacked or returned a message
        self._timer: Any = None
        self._release_timer: Any = None  # gives the database connection back once no batch follows
        self._last_recorded = 0.0  # monotonic time of the last database write
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)
        self._thread.start()

    # --- any thread -----------------------------------------------------------------------------------

    def submit(self, events: Iterable[OutboxEvent], *, wait: bool = False, timeout: float = 30.0) -> int | None:
        """Queue committed events for publishing; with `wait`, block until done and return how many were
        published (the rest stay pending for the relay). Without it, return None at once."""
        request = self._queue(events)
        if not wait:
            return None
        request.done.wait(timeout)
        return len(request.published)

    def publish(self, events: Iterable[OutboxEvent], *, timeout: float = 30.0) -> Outcome:
        """Publish committed events and wait (at most `timeout` seconds) for the outcome of each (see
        `Outcome`); what is not published stays pending. The relay uses it to tell a queue that refuses
        from a broker that is down."""
        request = self._queue(events)
        if not request.done.wait(timeout):
            return Outcome(published=set(), refused={})
        return Outcome(published=set(request.published), refused=dict(request.refused))

    def _queue(self, events: Iterable[OutboxEvent]) -> _Request:
        request = _Request(list(events))
        with self._lock:
            if self._closed:
                raise RuntimeError("outbox publisher is closed")
            # Requests already waiting have woken the loop, and the loop takes every waiting request
            # when it pumps (each state change pumps): one wake-up per burst, not one write to the
            # loop's pipe per event.
            wake = not self._waiting
            self._waiting.append(request)
        if wake:
            self._ioloop.add_callback_threadsafe(self._pump)
        return request

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far is published or given up; True if it finished in time."""
        request = _Request([])
        with self._lock:
            if self._closed:
                return True
            self._waiting.append(request)
        self._ioloop.add_callback_threadsafe(self._pump)
        return request.done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is queued (up to `timeout`), then close the connection and end the thread."""
        if self._closed:
            return
        self.flush(timeout)
        with self._lock:
            self._closed = True
        self._ioloop.add_callback_threadsafe(self._shutdown)
        self._thread.join(timeout)

    # --- the publisher thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self._ioloop.start()
                return  # stopped by _shutdown
            except Exception:  # a bug in a callback must not end publishing for the process
                logger.exception("outbox publisher loop failed; reconnecting")
                self._drop_connection("publisher loop failed")

    def _pump(self) -> None:
        """Start the next batch if none is in flight; connect first if needed."""
        if self._batch or self._state == "connecting":
            return
        if self._state == "idle":
            if self._waiting:
                self._connect()
            return
        if self._state == "backoff":
            # The broker is unreachable: leave these to the relay now rather than hold them in memory.
            self._give_up(self._take_all(), "broker unreachable")
            return
        batch, count = [], 0
        with self._lock:
            while self._waiting and count < self.max_batch_messages:
                request = self._waiting.popleft()
                batch.append(request)
                count += sum(len(_actors_of(e) or ()) for e in request.events)
        if batch:
            self._publish(batch)

    def _take_all(self) -> list[_Request]:
        with self._lock:
            taken = list(self._waiting)
            self._waiting.clear()
        return taken

    def _connect(self) -> None:
        self._state = "connecting"
        self._connection = pika.SelectConnection(
            parameters=self.parameters,
            on_open_callback=lambda conn: conn.channel(on_open_callback=self._on_channel_open),
            on_open_error_callback=lambda conn, error: self._on_connection_lost(conn, repr(error)),
            on_close_callback=lambda conn, reason: self._on_connection_lost(conn, repr(reason)),
            custom_ioloop=self._ioloop,
        )

    def _on_channel_open(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: Any) -> None:
        self._state, self._tag, self._low = "ready", 0, 1
        self._pump()

    def _on_channel_closed(self, channel: Any, reason: Any) -> None:
        if channel is self._channel:  # closed by the broker (a channel error): start afresh
            self._drop_connection(repr(reason))

    def _on_connection_lost(self, connection: Any, reason: str) -> None:
        if connection is not self._connection:
            return  # an old connection, already given up
        if self._state == "closing":
            self._ioloop.stop()
            return
        logger.warning("outbox publisher lost RabbitMQ (%s); pending events stay for the relay", reason)
        self._drop_connection(reason)

    def _drop_connection(self, reason: str) -> None:
        """Give up the connection and what is in flight; try again after `reconnect_delay`."""
        connection, self._connection, self._channel = self._connection, None, None
        self._fail_batch(reason)
        self._give_up(self._take_all(), reason)
        self._state = "backoff"
        self._ioloop.call_later(self.reconnect_delay, self._end_backoff)
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:
                logger.debug("closing a failed connection", exc_info=True)

    def _end_backoff(self) -> None:
        if self._state == "backoff":
            self._state = "idle"
            self._pump()

    def _shutdown(self) -> None:
        self._give_up(self._take_all(), "publisher closed")
        self._fail_batch("publisher closed")
        close_old_connections()
        if self._connection is not None and self._connection.is_open:
            self._state = "closing"
            self._connection.close()  # _on_connection_lost stops the loop
        else:
            self._ioloop.stop()

    def _publish(self, batch: list[_Request]) -> None:
        self._batch = batch
        broker = self.broker
        messages: list[tuple[uuid.UUID, dramatiq.Message]] = []
        for request in batch:
            for event in request.events:
                actors = _actors_of(event)
                if actors is None:
                    self._errors[event.id] = "no subscriber"
                    logger.error("event %s %s has no subscriber; left pending", event.name, event.id)
                    continue
                self._outstanding[event.id] = len(actors)
                messages.extend((event.id, _message(event, actor)) for actor in actors)
        try:
            new_queues = {m.queue_name for _, m in messages} - self._declared
            for queue_name in new_queues:
                broker.declare_queue(queue_name, ensure=True)
            if new_queues:
                self._declared |= new_queues
                del broker.connection  # the blocking connection that declared them is not needed any more
            for event_id, message in messages:
                broker.emit_before("enqueue", message, None)
                self._tag += 1
                self._tags[self._tag] = (event_id, message)
                self._channel.basic_publish(
                    exchange="",
                    routing_key=message.queue_name,
                    body=message.encode(),
                    properties=pika.BasicProperties(delivery_mode=2, priority=message.options.get("broker_priority")),
                    mandatory=True,
                )
        except (pika.exceptions.AMQPError, AMQPConnectorException, BrokerError, DatabaseError, OSError) as exc:
            # Left to the relay. AMQPConnectorException: declaring a queue met a RabbitMQ that does not answer.
            logger.warning("outbox publisher could not publish a batch: %r", exc)
            self._drop_connection(repr(exc))
            return
        if not self._tags:
            self._complete()
        else:
            self._timer = self._ioloop.call_later(self.confirm_timeout, self._on_confirm_timeout)

    def _on_return(self, _channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        """A `mandatory` message no queue took (the queue was deleted): its event is not published."""
        message = dramatiq.Message.decode(body)
        event_id = uuid.UUID(message.options["event_id"])
        self._errors[event_id] = f"unroutable to {method.routing_key!r}: {method.reply_text}"
        self._refused.setdefault(event_id, set()).add(message.queue_name)
        # Declare it again before the next publish to it.
        self._declared.discard(message.queue_name)
        self.broker.queues_pending.add(message.queue_name)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        # `multiple`: every delivery up to this tag.
        tags = range(self._low, method.delivery_tag + 1) if method.multiple else (method.delivery_tag,)
        nacked = isinstance(method, pika.spec.Basic.Nack)
        for tag in tags:
            entry = self._tags.pop(tag, None)
            if entry is None:
                continue
            event_id, message = entry
            if nacked:
                self._errors[event_id] = f"nacked by RabbitMQ on queue {message.queue_name!r}"
                self._refused.setdefault(event_id, set()).add(message.queue_name)
            else:
                self.broker.emit_after("enqueue", message, None)
            self._outstanding[event_id] -= 1
        while self._low <= self._tag and self._low not in self._tags:
            self._low += 1
        if not self._tags:
            self._complete()

    def _on_confirm_timeout(self) -> None:
        self._timer = None
        logger.warning("outbox publisher: no confirm within %.1fs; reconnecting", self.confirm_timeout)
        self._drop_connection("confirm timeout")

    def _complete(self) -> None:
        """Every message of the batch is confirmed (or refused): record the outcome, start the next one."""
        if self._timer is not None:
            self._ioloop.remove_timeout(self._timer)
            self._timer = None
        self._finish(self._batch, reason=None)
        self._batch = []
        self._pump()

    def _schedule_release(self) -> None:
        """Give the pooled database connection back once `idle_release` seconds pass without a batch.

        While events flow the thread keeps it: borrowing one per batch cost a pool health check (a round
        trip) and the pool's locking on every batch, which the request threads of this process felt as
        GIL contention. One timer, re-armed only when it fires early, so a batch costs no timer work."""
        self._last_recorded = time.monotonic()
        if self._release_timer is None:
            self._release_timer = self._ioloop.call_later(self.idle_release, self._release_connection)

    def _release_connection(self) -> None:
        self._release_timer = None
        idle = time.monotonic() - self._last_recorded
        if self._batch or idle < self.idle_release:
            delay = self.idle_release if self._batch else self.idle_release - idle
            self._release_timer = self._ioloop.call_later(delay, self._release_connection)
            return
        close_old_connections()

    def _fail_batch(self, reason: str) -> None:
        if self._timer is not None:
            self._ioloop.remove_timeout(self._timer)
            self._timer = None
        if self._batch:
            self._finish(self._batch, reason=reason)
            self._batch = []

    def _finish(self, batch: list[_Request], *, reason: str | None) -> None:
        """Mark fully confirmed events published; record why the others are still pending."""
        published: list[uuid.UUID] = []
        failed: dict[uuid.UUID, str] = {}
        for request in batch:
            for event in request.events:
                error = self._errors.pop(event.id, None)
                unconfirmed = self._outstanding.pop(event.id, 0)
                if refused := self._refused.pop(event.id, None):
                    request.refused[event.id] = refused
                if error is None and unconfirmed:
                    error = reason or "not confirmed"
                if error is None:
                    published.append(event.id)
                    request.published.add(event.id)
                else:
                    failed[event.id] = error
        self._tags.clear()
        _record(published, failed)
        self._schedule_release()
        for request in batch:
            request.done.set()

    def _give_up(self, requests: list[_Request], reason: str) -> None:
        _record([], {e.id: reason for r in requests for e in r.events})
        self._schedule_release()
        for request in requests:
            request.done.set()


def _actors_of(event: OutboxEvent) -> list[dramatiq.Actor] | None:
    """The event's subscribers; None when it has none and was not declared so (left pending)."""
    from .events import EVENTS, subscribers_of

    actors = subscribers_of(event.name)
    declared = EVENTS.get(event.name)
    if not actors and (declared is None or not declared.without_subscribers):
        return None
    return actors


def _message(event: OutboxEvent, actor: dramatiq.Actor) -> dramatiq.Message:
    from .events import subscriber_message

    return subscriber_message(event, actor)


def _record(published: list[uuid.UUID], failed: dict[uuid.UUID, str]) -> None:
    """One UPDATE for the published events, one per distinct error for the others."""
    try:
        if published:
            _mark_published(published)
        by_error: dict[str, list[uuid.UUID]] = {}
        for event_id, error in failed.items():
            by_error.setdefault(error, []).append(event_id)
        for error, ids in by_error.items():
            OutboxEvent.objects.filter(id__in=ids).update(attempts=F("attempts") + 1, last_error=error[:2000])
    except DatabaseError:
        # Published but not marked: the relay sends them again, and subscribers absorb duplicates.
        logger.exception("outbox publisher could not record %d published event(s)", len(published))
        close_old_connections()  # a broken connection is replaced before the next batch


def _mark_published(ids: list[uuid.UUID]) -> None:
    """`published_at = now()` for these events (those not already marked): one UPDATE.

    On PostgreSQL one fixed statement with the ids as one array parameter: it is prepared once per
    connection, where the ORM's `filter(id__in=...).update()` built and compiled a new statement for every
    batch (~0.2 ms of CPU each, mostly batches of one event when events come one by one), taken from the
    request threads of the process through the GIL. Elsewhere (SQLite: no arrays) the ORM's."""
    connection = connections[router.db_for_write(OutboxEvent)]
    if connection.vendor != "postgresql":
        OutboxEvent.objects.filter(id__in=ids, published_at__isnull=True).update(published_at=timezone.now())
        return
    with connection.cursor() as cursor:
        cursor.execute(_MARK_PUBLISHED_SQL, [timezone.now(), ids])


_MARK_PUBLISHED_SQL = (
    f'UPDATE "{OutboxEvent._meta.db_table}" SET "published_at" = %s '
    'WHERE "id" = ANY(%s::uuid[]) AND "published_at" IS NULL'
)

_publisher: OutboxPublisher | None = None
_publisher_lock = threading.Lock()


def publisher_for(broker: RabbitmqBroker) -> OutboxPublisher:
    """This process's publisher for `broker`, started on first use (after a fork, a new one)."""
    global _publisher
    current = _publisher
    if current is not None and current.broker is broker:
        return current
    with _publisher_lock:
        current = _publisher
        if current is None or current.broker is not broker:
            if current is not None:
                current.close(timeout=1.0)  # the broker was replaced (tests switch brokers)
            _publisher = current = OutboxPublisher(broker)
        return current


def _forget_after_fork() -> None:
    """A forked child (gunicorn and Dramatiq workers fork) has no publisher thread: it starts its own.

    Done at fork time rather than by comparing `os.getpid()` on every hand-off, a system call per event."""
    global _publisher, _publisher_lock
    _publisher = None
    _publisher_lock = threading.Lock()  # the parent may have held it while forking


os.register_at_fork(after_in_child=_forget_after_fork)


@atexit.register
def _flush_at_exit() -> None:
    """A process ending cleanly publishes what it handed over (the relay would, seconds later)."""
    current = _publisher
    if current is not None and current.pid == os.getpid():
        started = time.monotonic()
        current.close(timeout=3.0)
        logger.debug("outbox publisher closed in %.3fs", time.monotonic() - started)
