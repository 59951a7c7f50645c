"""Dramatiq middleware with Socialsite's defaults, referenced by path from `DRAMATIQ_BROKER`."""

import logging
import threading

from dramatiq import middleware

logger = logging.getLogger(__name__)


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
    (or when a web process died between commit and publish) go out within seconds of it coming back."""

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

        from .events import relay_pending

        while not self.stop.wait(self.interval):
            try:
                close_old_connections()
                if count := relay_pending():
                    logger.info("outbox relay published %d pending event(s)", count)
            except Exception:
                logger.exception("outbox relay pass failed; next pass in %.1fs", self.interval)
