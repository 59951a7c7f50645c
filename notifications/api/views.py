"""REST API v1 of notifications (`/api/v1/notifications/…`): each user's own, nobody else's.

Views parse input and call selectors (reads) or services (writes); a notification that is not the
caller's answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from socialsite.api import validated_query
from socialsite.errors import NotFound

from .. import selectors, services
from . import serializers as s

NOTIFICATION_ID = OpenApiParameter("notification_id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _notification_id(value: str) -> int:
    """Ids are routed as strings so a malformed one gets the API's JSON 404, not the site's HTML one."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound("No such notification.")
    return int(value)


def _refuse_malformed_body(request: Request) -> None:
    """Nothing in the body is needed, but a malformed one is a 400, never silently ignored."""
    request.data  # noqa: B018 - accessing it parses it; a ParseError becomes a 400


@extend_schema(tags=["notifications"], parameters=[s.NotificationListParamsSerializer])
class NotificationListApi(generics.ListAPIView):
    """My notifications, newest first; `?unread=true` for unread ones only."""

    serializer_class = s.NotificationSerializer

    def get_queryset(self):
        params = validated_query(s.NotificationListParamsSerializer, self.request.query_params)
        return selectors.notifications_list(user=self.request.user, unread_only=params["unread"])


class NotificationUnreadCountApi(APIView):
    @extend_schema(
        tags=["notifications"],
        responses={200: s.UnreadCountSerializer, 304: OpenApiResponse(description="Unchanged since the ETag sent.")},
    )
    def get(self, request: Request) -> Response:
        """How many of my notifications are unread. Conditional: send the last `ETag` as `If-None-Match`
        and an unchanged count answers 304 with no body. One database query besides authentication."""
        state = selectors.unread_state(user=request.user)
        if state.etag in _if_none_match(request):
            response = Response(status=304)
        else:
            response = Response({"unread_count": state.count})
        response["ETag"] = state.etag
        response["Cache-Control"] = "private, no-cache"
        return response


def _if_none_match(request: Request) -> set[str]:
    return set(parse_etags(request.headers.get("If-None-Match", "")))


class NotificationReadApi(APIView):
    @extend_schema(
        tags=["notifications"], parameters=[NOTIFICATION_ID], request=None, responses=s.NotificationSerializer
    )
    def post(self, request: Request, notification_id: str) -> Response:
        """Mark one of my notifications read (again is fine)."""
        _refuse_malformed_body(request)
        notification = services.notification_mark_read(
            user=request.user, notification_id=_notification_id(notification_id)
        )
        return Response(s.NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    @extend_schema(tags=["notifications"], request=None, responses=s.MarkedSerializer)
    def post(self, request: Request) -> Response:
        """Mark all my notifications read."""
        _refuse_malformed_body(request)
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})
