"""`GET /healthz`: database, Redis and RabbitMQ each checked; 503 names whichever is down."""

from __future__ import annotations

import pika
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .redis import get_redis


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    get_redis().ping()


def _check_rabbitmq() -> None:
    params = pika.URLParameters(settings.RABBITMQ_URL)
    params.socket_timeout = params.blocked_connection_timeout = 2
    params.connection_attempts = 1
    pika.BlockingConnection(params).close()


CHECKS = {"database": _check_database, "redis": _check_redis, "rabbitmq": _check_rabbitmq}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say which
            report[name] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in report.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **report}, status=200 if healthy else 503)
