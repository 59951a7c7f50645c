"""`GET /healthz`: a cheap public answer, and a detailed readiness report for operators.

Everyone gets `{"status": "ok"}` (200) or `{"status": "unavailable"}` (503) and nothing else: internals
such as queue depths or dead letters tell an attacker what to overload. Staff (session) and callers
presenting `Authorization: Bearer <HEALTHZ_TOKEN>` also get each service's state (database, Redis,
RabbitMQ), the outbox backlog, every queue's depth (ready, delayed retries, dead letters) and the count
of dead-lettered tasks.

The probe reuses one RabbitMQ connection per process (under a lock; reopened if it died) and the shared
Redis pool, and the public answer is cached for `HEALTHZ_CACHE_SECONDS`, so a load balancer polling it,
or someone hammering it, costs no new connection per hit.
"""

from __future__ import annotations

import contextlib
import hmac
import threading
import time
from typing import Any

import pika
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import queues
from .models import OutboxEvent, TaskRecord
from .redis import get_redis
from .taskstatus import task_counters


class _RabbitProbe:
    """One blocking pika connection shared by the threads of a process (pika's is not thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: pika.BlockingConnection | None = None
        self._url: str | None = None

    def _connection(self) -> pika.BlockingConnection:
        if self._conn is None or self._conn.is_closed or self._url != settings.RABBITMQ_URL:
            self.close()
            params = pika.URLParameters(settings.RABBITMQ_URL)
            params.socket_timeout = params.blocked_connection_timeout = params.stack_timeout = 2
            params.connection_attempts = 1
            params.heartbeat = 0  # nobody services heartbeats between probes; a dead link is reopened
            self._conn = pika.BlockingConnection(params)
            self._url = settings.RABBITMQ_URL
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._conn.is_open:
            # Closing a broken connection may fail in any way; it is gone either way.
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Messages per queue: ready, its delayed-retry queue (.DQ) and its dead letters (.XQ).

        Raises:
            pika.exceptions.AMQPError, OSError: RabbitMQ unreachable (after one reconnect attempt).
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._depths(self._connection())
                except (pika.exceptions.AMQPError, OSError):
                    self.close()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    @staticmethod
    def _depths(conn: pika.BlockingConnection) -> dict[str, dict[str, int]]:
        depths: dict[str, dict[str, int]] = {}
        channel = conn.channel()
        try:
            for name in queues.ALL:
                depths[name] = {}
                for suffix, label in (("", "ready"), (".DQ", "delayed"), (".XQ", "dead")):
                    try:
                        frame = channel.queue_declare(queue=name + suffix, passive=True)
                        depths[name][label] = frame.method.message_count
                    except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nothing in it
                        depths[name][label] = 0
                        channel = conn.channel()
        finally:
            if channel.is_open:
                channel.close()
        return depths


_rabbit = _RabbitProbe()


def queue_depths() -> dict[str, dict[str, int]]:
    """Messages waiting per queue (see `_RabbitProbe.queue_depths`)."""
    return _rabbit.queue_depths()


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {
        "outbox_pending": OutboxEvent.objects.filter(published_at__isnull=True).count(),
        "dead_letters": TaskRecord.objects.filter(state=TaskRecord.State.FAILED).count(),
    }


def _check_redis() -> dict[str, Any]:
    get_redis().ping()
    # Fire-and-forget tasks keep no record while they succeed: these counters are what is known of them.
    return {"task_counters": task_counters()}


def _check_rabbitmq() -> dict[str, Any]:
    return {"queues": queue_depths()}


CHECKS = {"database": _check_database, "redis": _check_redis, "rabbitmq": _check_rabbitmq}


def readiness_report() -> tuple[bool, dict[str, Any]]:
    """Run every check; returns (healthy, report). The report names each service "ok" or "down: <Error>"."""
    report: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            details.update(check())
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say which
            report[name] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in report.values())
    return healthy, {**report, **details}


_public_cache: dict[str, Any] = {"at": float("-inf"), "healthy": True}
_public_lock = threading.Lock()


def _public_health() -> bool:
    """The last readiness verdict, recomputed at most once per `HEALTHZ_CACHE_SECONDS` per process."""
    with _public_lock:
        if time.monotonic() - _public_cache["at"] >= settings.HEALTHZ_CACHE_SECONDS:
            _public_cache["healthy"], _ = readiness_report()
            _public_cache["at"] = time.monotonic()
        return _public_cache["healthy"]


def _may_see_details(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    header = request.headers.get("Authorization", "")
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:], token)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Public: status only. Staff or the configured token: every service, the outbox and the queues."""
    if _may_see_details(request):
        healthy, report = readiness_report()
        body = {"status": "ok" if healthy else "unavailable", **report}
    else:
        healthy = _public_health()
        body = {"status": "ok" if healthy else "unavailable"}
    return JsonResponse(body, status=200 if healthy else 503)
