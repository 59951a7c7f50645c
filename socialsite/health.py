"""`GET /healthz`: database, Redis and RabbitMQ each checked; 503 names whichever is down.

It also reports what an operator watches: events waiting in the outbox, each queue's depth (ready
messages, delayed retries, dead letters) and the number of dead-lettered tasks.
"""

from __future__ import annotations

from typing import Any

import pika
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import queues
from .models import OutboxEvent, TaskRecord
from .redis import get_redis
from .taskstatus import task_counters


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


def queue_depths() -> dict[str, dict[str, int]]:
    """Messages waiting per queue, its delayed-retry queue (.DQ) and its dead letters (.XQ)."""
    params = pika.URLParameters(settings.RABBITMQ_URL)
    params.socket_timeout = params.blocked_connection_timeout = 2
    params.connection_attempts = 1
    depths: dict[str, dict[str, int]] = {}
    conn = pika.BlockingConnection(params)
    try:
        for name in queues.ALL:
            depths[name] = {}
            for suffix, label in (("", "ready"), (".DQ", "delayed"), (".XQ", "dead")):
                channel = conn.channel()
                try:
                    frame = channel.queue_declare(queue=name + suffix, passive=True)
                    depths[name][label] = frame.method.message_count
                    channel.close()
                except pika.exceptions.ChannelClosedByBroker:  # not declared yet: nothing in it
                    depths[name][label] = 0
    finally:
        conn.close()
    return depths


def _check_rabbitmq() -> dict[str, Any]:
    return {"queues": queue_depths()}


CHECKS = {"database": _check_database, "redis": _check_redis, "rabbitmq": _check_rabbitmq}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            details.update(check())
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say which
            report[name] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **report, **details}, status=200 if healthy else 503
    )
