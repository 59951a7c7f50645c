"""API plumbing shared by every app: the error format, input validation and the task status endpoint.

Pagination is DRF's `PageNumberPagination`, configured in settings (`REST_FRAMEWORK`), not here.
"""

from __future__ import annotations

from typing import Any

from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ServiceError
from .models import TaskRecord
from .selectors import task_records_of


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A refused service call is a 4xx `{"detail", "code"}`, like DRF's own errors."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    return drf_exception_handler(exc, context)


def validated(serializer_class: type[Serializer], data: Any) -> dict:
    """Parsed, validated input, or a 400 with field errors (raised as DRF's ValidationError)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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
