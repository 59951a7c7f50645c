"""API plumbing shared by every app: error format, body parsing, input validation and task status.

Pagination is DRF's `PageNumberPagination` (`socialsite.pagination`, set in `REST_FRAMEWORK`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import selectors, services
from .errors import ServiceError
from .models import SiteCounters, TaskRecord
from .parsers import RequestTooLarge
from .ratelimits import RateLimited
from .selectors import task_records_of

_LOOKUP_MISS = re.compile(r"No \w+ matches the given query\.")  # django.shortcuts.get_object_or_404


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error a view (or DRF before it: parsing, authentication, throttling) raises, as JSON.

    A refused service call is a 4xx `{"detail", "code"}`, like DRF's own errors; a spent rate limit
    (also from the password check) is DRF's 429 with `Retry-After`; Django's body-size and other
    "suspicious request" refusals are 413 / 400 rather than the site's HTML error page.
    """
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, RateLimited):
        exc = exceptions.Throttled(wait=exc.wait)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("Malformed request.")
    elif isinstance(exc, Http404):
        # A view's own message stays ("This share has no preview."); Django's look-up message names the
        # model ("No TaskRecord matches the given query."): that one says only "Not found.", as for an
        # unknown route.
        message = str(exc.args[0]) if exc.args else ""
        exc = exceptions.NotFound(None if not message or _LOOKUP_MISS.fullmatch(message) else message)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException) and set(response.data) == {"detail"}:
        # Every error body is `{"detail", "code"}` (DRF gives the code only on request): a client
        # branches on the code, never on the wording.
        code = exc.get_codes()
        if isinstance(code, str):
            response.data["code"] = code
    return response


def validated(serializer_class: type[Serializer], data: Any) -> dict:
    """Parsed, validated input, or a 400 with field errors (raised as DRF's ValidationError)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validated_query(serializer_class: type[Serializer], query: Any) -> dict:
    """Parsed, validated query parameters, or a 400. Unlike a form, a parameter sent empty (`?direction=`)
    is refused rather than taken as left out: the schema says what each one holds, and "" is none of it."""
    blank = {name: ["This parameter may not be empty."] for name in serializer_class().fields if query.get(name) == ""}
    if blank:
        raise exceptions.ValidationError(blank)
    return validated(serializer_class, query)


class JsonErrorsMixin:
    """For API views whose success is not JSON (the OpenAPI schema in YAML, the docs page in HTML):
    their errors are JSON all the same, like every other error under /api/."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class TaskRecordSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")
    progress = serializers.SerializerMethodField()
    enqueued_at = serializers.DateTimeField()

    class Meta:
        model = TaskRecord
        fields = [
            "id",
            "actor",
            "state",
            "progress",
            "result",
            "error",
            "retries",
            "enqueued_at",
            "started_at",
            "finished_at",
        ]

    def get_progress(self, obj: TaskRecord) -> dict | None:
        if not obj.progress_total:
            return None
        return {"done": obj.progress_done, "total": obj.progress_total, "message": obj.progress_message}


class TaskDetailApi(generics.RetrieveAPIView):
    """A task's state, readable by its owner only (anyone else gets 404, as if it did not exist)."""

    serializer_class = TaskRecordSerializer
    lookup_field = "id"

    def get_queryset(self):
        return task_records_of(user=self.request.user)


class SiteCountersPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = SiteCounters
        fields = ["computed_at", *SiteCounters.COUNTERS]


class StatsSerializer(serializers.Serializer):
    """The site counters. Before the first computation: `status` "computing", every figure and
    `updated_at` null, and `task_id` the computation's task for whoever first asked, who owns it and may
    read its status (null for everyone else: ask again until `status` is "ready")."""

    status = serializers.ChoiceField(choices=["ready", "computing"])
    users = serializers.IntegerField(allow_null=True)
    friendships = serializers.IntegerField(allow_null=True, help_text="Pairs of friends.")
    shares = serializers.IntegerField(allow_null=True)
    notifications = serializers.IntegerField(allow_null=True)
    friendships_last_24h = serializers.IntegerField(allow_null=True)
    active_users_last_24h = serializers.IntegerField(
        allow_null=True, help_text="Logged in, or sent/answered a request, shared, blocked or read a notification."
    )
    updated_at = serializers.DateTimeField(allow_null=True, help_text="When these counters were computed.")
    task_id = serializers.UUIDField(allow_null=True)
    history = SiteCountersPointSerializer(many=True, help_text="Oldest first; at most 200 evenly spread points.")


class StatsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=settings.SITE_COUNTERS_HISTORY_DAYS,  # the schema says so too: no valid value is refused
        default=7,
        help_text="History to include, in days (default 7).",
        error_messages={"max_value": f"History is kept {settings.SITE_COUNTERS_HISTORY_DAYS} days at most."},
    )


class StatsApi(APIView):
    """Site counters (users, friendships, shares, notifications, ...), when they were computed, and their
    history over the last `days` days."""

    @extend_schema(
        parameters=[StatsQuerySerializer],
        responses=StatsSerializer,
    )
    def get(self, request: Request) -> Response:
        days = validated_query(StatsQuerySerializer, request.query_params)["days"]
        latest = selectors.site_counters_latest()
        if latest is None:
            body = {
                "status": "computing",
                **dict.fromkeys(SiteCounters.COUNTERS),
                "updated_at": None,
                "task_id": services.site_counters_request(user=request.user),
                "history": [],
            }
        else:
            body = {
                "status": "ready",
                **latest.counts(),
                "updated_at": latest.computed_at,
                "task_id": None,
                "history": selectors.site_counters_history(days=days),
            }
        return Response(StatsSerializer(body).data)
