"""API plumbing shared by every app: error format and pagination."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ServiceError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A refused service call is a 4xx `{"detail", "code"}`, like DRF's own errors."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, (ValueError, TypeError)):
        return Response({"detail": "Malformed request."}, status=status.HTTP_400_BAD_REQUEST)
    return response
