"""Dramatiq's broker and middleware with Socialsite's defaults, referenced by path from `DRAMATIQ_BROKER`."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
from dramatiq import middleware
from dramatiq.brokers import rabbitmq
from dramatiq.errors import ConnectionFailed
from pika.adapters.utils.connection_workflow import AMQPConnectorException

logger = logging.getLogger(__name__)


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


class Retries(middleware.Retries):
    """Exponential backoff from 1 s, capped at 5 min (well under RabbitMQ's 30-min consumer timeout),
    then the message is dead-lettered. Actors override `max_retries` where it makes sense."""

    def __init__(self) -> None:
        super().__init__(max_retries=8, min_backoff=1_000, max_backoff=300_000)


class TimeLimit(middleware.TimeLimit):
    """No task may run longer than 10 minutes unless its actor says so."""

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
