"""Dramatiq's broker and middleware with Socialsite's defaults, referenced by path from `DRAMATIQ_BROKER`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
from dramatiq import middleware
from dramatiq.brokers import rabbitmq
from dramatiq.errors import BrokerError, ConnectionFailed
from pika.adapters.utils.connection_workflow import AMQPConnectorException

logger = logging.getLogger(__name__)


# The loggers that report a connection found dead while it is being closed (pika's transport, its
# connection, and Dramatiq's "exception while closing Channel").
_CLOSE_LOGGERS = (
    "pika.adapters.utils.io_services_utils",
    "pika.adapters.base_connection",
    "pika.adapters.blocking_connection",
    "pika.channel",
    "dramatiq.broker.RabbitmqBroker",
)
_closing = threading.local()


class _ClosingThreadFilter(logging.Filter):
    """Drops the records of a thread inside `_quiet_close`; every other thread's pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_closing, "active", False)


_CLOSING_FILTER = _ClosingThreadFilter()
for _name in _CLOSE_LOGGERS:
    logging.getLogger(_name).addFilter(_CLOSING_FILTER)


@contextlib.contextmanager
def _quiet_close() -> Iterator[None]:
    """While inside, this thread's records on `_CLOSE_LOGGERS` are dropped (closing a connection that
    RabbitMQ may already have closed)."""
    _closing.active = True
    try:
        yield
    finally:
        _closing.active = False


class RabbitmqBroker(rabbitmq.RabbitmqBroker):
    """Dramatiq's RabbitMQ broker whose `enqueue` fails within a bounded time, always as a `BrokerError`.

    Dramatiq's `enqueue` tries up to six times, and a try under a resource alarm lasts the whole
    `blocked_connection_timeout`; a RabbitMQ that accepts TCP and never answers makes pika raise a plain
    `AMQPConnectorException` (the handshake's `stack_timeout`), which no caller expects (issue 10: a 500).
    Here no new try starts after `RABBITMQ_ENQUEUE_DEADLINE` seconds, and every connection failure is a
    `ConnectionFailed`, so callers catch `BrokerError` alone. Each try is bounded by the connection
    parameters (`RABBITMQ_TIMEOUTS` in settings: connect, handshake, blocked connection).
    """

    def __init__(self, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(**kwargs)
        self.enqueue_deadline = getattr(settings, "RABBITMQ_ENQUEUE_DEADLINE", 2.0)
        self.idle_close = getattr(settings, "RABBITMQ_IDLE_CLOSE", 30.0)

    @property
    def connection(self):
        """This thread's connection, opened on demand; refused once the current enqueue's deadline passed."""
        deadline = getattr(self.state, "deadline", None)
        if getattr(self.state, "connection", None) is None and deadline is not None and time.monotonic() > deadline:
            raise ConnectionFailed("RabbitMQ did not take the message in time")
        return rabbitmq.RabbitmqBroker.connection.fget(self)

    @connection.deleter
    def connection(self) -> None:
        rabbitmq.RabbitmqBroker.connection.fdel(self)

    @property
    def channel(self):
        """This thread's channel (Dramatiq's), on a connection closed and opened afresh when it has been idle
        for `idle_close` seconds (`RABBITMQ_IDLE_CLOSE`).

        A `BlockingConnection` answers RabbitMQ's heartbeats only while it is used, so a publishing
        connection left idle (a web thread between two cold reads, a worker thread between two enqueues)
        is closed by RabbitMQ after two missed heartbeats (60 s each by default): the next publish then
        failed on a reset socket, with pika's ERROR tracebacks in the log, before Dramatiq's retry opened
        a new one. Here the first use after a quiet spell longer than `idle_close` (kept under the
        heartbeat) closes the old connection, whether or not RabbitMQ dropped it meanwhile, and opens a
        new one: one handshake, nothing logged. (Consumers have their own connections, which stay busy.)
        """
        used_at = getattr(self.state, "used_at", None)
        now = time.monotonic()
        if used_at is not None and self.idle_close is not None and now - used_at > self.idle_close:
            # RabbitMQ may have dropped it already (a spell longer than its patience): closing a dead
            # connection logs the same tracebacks, expected here, so this thread's are left out meanwhile.
            with _quiet_close():
                del self.connection
        self.state.used_at = now
        return rabbitmq.RabbitmqBroker.channel.fget(self)

    @channel.deleter
    def channel(self) -> None:
        rabbitmq.RabbitmqBroker.channel.fdel(self)

    def close(self) -> None:
        """Dramatiq's: close every thread's channel and connection (a worker shutting down). Idle publishing
        connections may be long dead (see `channel`), and closing them logged pika's ERROR tracebacks on
        every clean shutdown: this thread's are left out meanwhile, as Dramatiq leaves out some of them."""
        with _quiet_close():
            super().close()

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        """Publish `message` (with confirms); raises `ConnectionFailed` (a `BrokerError`) when RabbitMQ
        refuses, does not answer or keeps the connection blocked, within a bounded time (see the class)."""
        self.state.deadline = time.monotonic() + self.enqueue_deadline
        try:
            return super().enqueue(message, delay=delay)
        except AMQPConnectorException as exc:  # the handshake timed out: not an AMQPError
            del self.connection
            raise ConnectionFailed(repr(exc)) from exc
        finally:
            self.state.deadline = None


# RabbitMQ's consumer timeout (its default, `consumer_timeout` = 30 min): a delivery not acknowledged within
# it closes the channel and the message is delivered again. A worker acknowledges a message after running
# it, and holds a retry's delayed message unacknowledged until it is due, so every time limit and every
# backoff must stay well under it (tests/socialsite/test_rabbit_broker.py holds every actor to half).
RABBITMQ_CONSUMER_TIMEOUT_MS = 1_800_000
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 300_000  # a sixth of the consumer timeout


class Retries(middleware.Retries):
    """Exponential backoff from 1 s, capped at 5 min (well under RabbitMQ's 30-min consumer timeout),
    then the message is dead-lettered. Actors override `max_retries` where it makes sense; the default,
    8 retries, waits 4 to 8.5 minutes in all (`retry_window`)."""

    def __init__(self) -> None:
        super().__init__(max_retries=8, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        """As Dramatiq's, except when the retry cannot be enqueued (RabbitMQ refuses, does not answer or
        blocks this worker's publishing connection under an alarm, while its consuming connection still
        works): the message is then failed, so RabbitMQ dead-letters it and an admin can re-enqueue it,
        instead of acknowledged and lost."""
        try:
            super().after_process_message(broker, message, result=result, exception=exception)
        except BrokerError as exc:
            logger.warning("retry of %s not enqueued (%r); dead-lettered instead", message.message_id, exc)
            message.fail()


def retry_window(max_retries: int, *, min_backoff: int = MIN_BACKOFF_MS, max_backoff: int = MAX_BACKOFF_MS) -> tuple:
    """The shortest and longest total wait, in seconds, between a message's first attempt and its last
    retry: how long an outage it rides out before it is dead-lettered.

    Dramatiq's backoff before retry n (0-based) is `min_backoff * 2**n` times a jitter in [1, 2), and once
    that exceeds `max_backoff`, `max_backoff` times a jitter in [0.5, 1) (`dramatiq.common.compute_backoff`,
    dramatiq 2.x), so each wait is bounded below and above; this sums the bounds.
    """
    low = high = 0.0
    for n in range(max_retries):
        base = min_backoff * 2**n
        if 2 * base <= max_backoff:  # never capped
            low, high = low + base, high + 2 * base
        else:  # may be capped: as low as half the cap, at most the cap
            low, high = low + min(base, max_backoff / 2), high + max_backoff
    return low / 1000, high / 1000


class TimeLimit(middleware.TimeLimit):
    """No task may run longer than 10 minutes unless its actor says so (and none longer than 15: half of
    RabbitMQ's consumer timeout, so a message is never delivered again while it still runs)."""

    def __init__(self) -> None:
        super().__init__(time_limit=600_000)


class OutboxRelay(middleware.Middleware):
    """Runs the outbox relay in every worker process, so events left pending while RabbitMQ was down
    (or when a web process died between commit and publish) go out within seconds of it coming back.
    One relay runs at a time across processes (`socialsite.relay`: a PostgreSQL advisory lock)."""

    def __init__(self) -> None:
        from django.conf import settings

        self.interval = getattr(settings, "OUTBOX_RELAY_INTERVAL", 2.0)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def after_process_boot(self, broker) -> None:
        # A worker must not start consuming with an event map that loses events (see socialsite.checks).
        from .events import EventContractError, check_event_contract

        if problems := check_event_contract():
            raise EventContractError("\n".join(problems))

    def after_worker_boot(self, broker, worker) -> None:
        self.thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self.thread.start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self.stop.set()

    def _run(self) -> None:
        from django.db import close_old_connections

        from .relay import relay_pending

        while not self.stop.wait(self.interval):
            try:
                close_old_connections()
                if count := relay_pending():
                    logger.info("outbox relay published %d pending event(s)", count)
            except Exception:
                logger.exception("outbox relay pass failed; next pass in %.1fs", self.interval)
