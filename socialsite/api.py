"""API plumbing shared by every app: error format, body parsing, task status and API tokens."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import tokens
from .errors import ServiceError
from .models import TaskRecord
from .parsers import RequestTooLarge
from .ratelimits import RateLimited
from .selectors import task_records_of


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
    return drf_exception_handler(exc, context)


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


# --- API tokens ------------------------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown only once.")
    token_id = serializers.CharField(help_text="Names this token in `auth/tokens/` (not the token itself).")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When it stops working; null: never.")


class TokenInfoSerializer(serializers.Serializer):
    token_id = serializers.SerializerMethodField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(help_text="The token this request was made with.")

    def get_token_id(self, obj: Any) -> str:
        return tokens.token_id(obj)

    def get_current(self, obj: Any) -> bool:
        auth = self.context["request"].auth
        return getattr(auth, "digest", None) == obj.digest


@extend_schema(tags=["accounts"], request=AuthTokenSerializer, responses=TokenSerializer)
class TokenObtainApi(APIView):
    """Exchange a username and password for a new token; every call issues another one.

    Password checks are limited per account and per client address (429 with `Retry-After`).
    """

    # No authentication: a stale token header must not stop anyone from logging in again.
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        instance, token = tokens.token_create(user=serializer.validated_data["user"])
        return Response({"token": token, "token_id": tokens.token_id(instance), "expiry": instance.expiry})


@extend_schema(tags=["accounts"])
class TokenListApi(generics.ListAPIView):
    """My live API tokens, newest first (never anyone else's, never the token strings)."""

    serializer_class = TokenInfoSerializer

    def get_queryset(self):
        return tokens.tokens_of(user=self.request.user)


class TokenRevokeApi(APIView):
    @extend_schema(tags=["accounts"], responses={204: None})
    def delete(self, request: Request, token_id: str) -> Response:
        """Revoke one of my tokens (it stops working at once); someone else's token id is a 404."""
        tokens.token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    @extend_schema(
        tags=["accounts"],
        request=None,
        responses=inline_serializer("LogoutAll", fields={"revoked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        """Log out everywhere: revoke every one of my API tokens, the one this request used included."""
        request.data  # noqa: B018 - parsed although unused: a malformed body is refused (4xx), not ignored
        return Response({"revoked": tokens.tokens_revoke_all(user=request.user)})
