"""REST API v1 of the friend graph. Views parse input and call services (writes) or selectors (reads).

A refused service call raises `ServiceError`; `socialsite.api.exception_handler` renders it as a 4xx
`{"detail", "code"}`. Lists are paginated by the project's default paginator (`count/next/previous/results`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from socialsite.errors import NotFound, ServiceError

from .. import selectors, services, suggestions
from . import serializers as s

REQUEST_ID = OpenApiParameter("request_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Friend request id.")


def _request_id(value: str) -> int:
    """Ids are routed as strings so a non-integer id gets the API's JSON 404, not the site's HTML one."""
    if not (value.isascii() and value.isdigit()):
        raise NotFound("No such friend request.")
    return int(value)


def _valid(serializer_class: type[Serializer], data: Any) -> dict:
    """Parsed, validated input, or a 400 with field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refuse_malformed_body(request: Request) -> None:
    """Parse the body even where nothing in it is needed: a malformed one is a 400, never silently ignored."""
    request.data  # noqa: B018 - accessing it parses it; a ParseError becomes a 400


# --- accounts ------------------------------------------------------------------------------------


# `auth/token/` and the other token endpoints are in socialsite/api.py (django-rest-knox tokens).


class UserSignUpApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scopes = {"POST": "sign_up"}  # per client address (socialsite.throttles.ScopedThrottle)

    @extend_schema(tags=["accounts"], request=s.SignUpInputSerializer, responses={201: s.AccountSerializer})
    def post(self, request: Request) -> Response:
        """Create an account (no authentication needed); then obtain a token from `auth/token/`."""
        data = _valid(s.SignUpInputSerializer, request.data)
        user = services.user_sign_up(**data)
        return Response(s.AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(tags=["accounts"], responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        """The authenticated account."""
        profile = selectors.user_profile(viewer=request.user, username=request.user.get_username())
        return Response(s.MeSerializer(profile).data)


class UserDetailApi(APIView):
    @extend_schema(tags=["users"], responses=s.ProfileSerializer)
    def get(self, request: Request, username: str) -> Response:
        """A user's profile and what they are to me (friend since, pending request ids, whether I block them).

        A user I am blocked by answers 404, exactly like one that does not exist.
        """
        profile = selectors.user_profile(viewer=request.user, username=username)
        context = {"mutual_friend_count": _mutual_friend_count_cached(request.user, profile)}
        return Response(s.ProfileSerializer(profile, context=context).data)


def _mutual_friend_count_cached(viewer: Any, profile: selectors.Profile) -> int | None:
    """What the cache knows, or None: a profile read never enqueues work (`mutual-friends/` does)."""
    if profile.relationship.is_self:
        return None
    found = suggestions.mutual_cached(viewer.pk, profile.user.pk)
    return None if found is None else len(found[1])


# --- friends -------------------------------------------------------------------------------------


@extend_schema(tags=["friends"])
class FriendListApi(generics.ListAPIView):
    """My friends, newest friendship first, each with `since`."""

    serializer_class = s.FriendSerializer

    def get_queryset(self):
        return selectors.friendships_of(user=self.request.user)


class FriendDeleteApi(APIView):
    @extend_schema(tags=["friends"], responses={204: None})
    def delete(self, request: Request, username: str) -> Response:
        """Unfriend: both directions of the friendship go."""
        services.friendship_remove(user=request.user, friend=selectors.user_get(username=username))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- friend requests -----------------------------------------------------------------------------


class FriendRequestListCreateApi(generics.GenericAPIView):
    serializer_class = s.FriendRequestSerializer
    throttle_scopes = {"POST": "friend_requests"}  # per user, shared with the page's "Add friend"

    @extend_schema(
        tags=["friend requests"],
        parameters=[s.FriendRequestListParamsSerializer],
        responses=s.FriendRequestSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """My pending requests: received (`incoming`, the default) or sent (`outgoing`). Nobody else's."""
        params = _valid(s.FriendRequestListParamsSerializer, request.query_params)
        requests = selectors.friend_requests_of(user=request.user, direction=params["direction"])
        page = self.paginate_queryset(requests)
        return self.get_paginated_response(s.FriendRequestSerializer(page, many=True).data)

    @extend_schema(
        tags=["friend requests"],
        request=s.FriendRequestCreateInputSerializer,
        responses={201: s.FriendRequestSerializer},
    )
    def post(self, request: Request) -> Response:
        """Send a friend request. If they had already asked me, theirs is accepted and comes back `accepted`."""
        data = _valid(s.FriendRequestCreateInputSerializer, request.data)
        to_user = selectors.user_get(username=data["to_user"])
        friend_request = services.friend_request_send(from_user=request.user, to_user=to_user)
        return Response(s.FriendRequestSerializer(friend_request).data, status=status.HTTP_201_CREATED)


class FriendRequestAcceptApi(APIView):
    @extend_schema(tags=["friend requests"], parameters=[REQUEST_ID], request=None, responses=s.FriendRequestSerializer)
    def post(self, request: Request, request_id: str) -> Response:
        """Accept a request sent to me; we become friends. Accepting twice is not an error."""
        _refuse_malformed_body(request)
        friend_request = services.friend_request_accept(request_id=_request_id(request_id), user=request.user)
        return Response(s.FriendRequestSerializer(friend_request).data)


class FriendRequestDeclineApi(APIView):
    @extend_schema(tags=["friend requests"], parameters=[REQUEST_ID], request=None, responses=s.FriendRequestSerializer)
    def post(self, request: Request, request_id: str) -> Response:
        """Decline a request sent to me."""
        _refuse_malformed_body(request)
        friend_request = services.friend_request_decline(request_id=_request_id(request_id), user=request.user)
        return Response(s.FriendRequestSerializer(friend_request).data)


class FriendRequestCancelApi(APIView):
    @extend_schema(tags=["friend requests"], parameters=[REQUEST_ID], responses={204: None})
    def delete(self, request: Request, request_id: str) -> Response:
        """Cancel a request I sent (the sender only; anyone else gets 404)."""
        services.friend_request_cancel(request_id=_request_id(request_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- blocks --------------------------------------------------------------------------------------


class BlockListCreateApi(generics.GenericAPIView):
    serializer_class = s.BlockSerializer

    @extend_schema(tags=["blocks"], responses=s.BlockSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The users I block, newest first."""
        page = self.paginate_queryset(selectors.blocks_of(user=request.user))
        return self.get_paginated_response(s.BlockSerializer(page, many=True).data)

    @extend_schema(tags=["blocks"], request=s.UsernameInputSerializer, responses={201: s.BlockSerializer})
    def post(self, request: Request) -> Response:
        """Block a user: ends our friendship and closes pending requests either way."""
        data = _valid(s.UsernameInputSerializer, request.data)
        block = services.block_create(blocker=request.user, blocked=selectors.user_get(username=data["username"]))
        return Response(s.BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDeleteApi(APIView):
    @extend_schema(tags=["blocks"], responses={204: None})
    def delete(self, request: Request, username: str) -> Response:
        """Unblock a user."""
        services.block_remove(blocker=request.user, blocked=selectors.user_get(username=username))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- mutual friends and suggestions --------------------------------------------------------------


def _someone_else_visible(viewer: Any, username: str) -> Any:
    """Another user the viewer may compare graphs with.

    Myself is a 400; a user who blocks me is a 404 exactly like an unknown name, so the block is not
    revealed (as `users/{username}/` does).
    """
    other = selectors.user_get(username=username)
    if other.pk == viewer.pk:
        raise ServiceError("Mutual friends are between you and someone else.", code="self")
    if selectors.relationship(viewer=viewer, other=other).blocked_by_other:
        raise NotFound(f"No user named {username!r}.")
    return other


class MutualFriendListApi(APIView):
    # A cold look-up enqueues a computation: per user, shared with the profile pages of others.
    throttle_scopes = {"GET": "mutual_friends"}

    @extend_schema(tags=["users"], responses=s.MutualFriendsSerializer)
    def get(self, request: Request, username: str) -> Response:
        """Friends I share with `username` (the first 50, and the `count` of all), from the cache.

        Privacy: the pair is always me and `username`; nobody can list the mutual friends of two other
        people. Users blocked either way with me are left out. When nothing fresh is cached the answer is
        `computing` with a `task_id` to poll; the computation is never done inside the request.
        """
        other = _someone_else_visible(request.user, username)
        return Response(s.MutualFriendsSerializer(selectors.mutual_friends_get(viewer=request.user, other=other)).data)


class SuggestionListApi(APIView):
    @extend_schema(tags=["suggestions"], responses=s.SuggestionsSerializer)
    def get(self, request: Request) -> Response:
        """People I may know: friends of my friends, most mutual friends first (at most 10), from the cache.

        Never people I am friends with, have a pending request with, have blocked or am blocked by, or have
        dismissed. When nothing fresh is cached the answer is `computing` with a `task_id` to poll.
        """
        return Response(s.SuggestionsSerializer(selectors.suggestions_get(user=request.user)).data)


class SuggestionDismissApi(APIView):
    @extend_schema(tags=["suggestions"], request=None, responses={204: None})
    def post(self, request: Request, username: str) -> Response:
        """Never suggest this user to me again. Dismissing twice is not an error; myself is a 400."""
        _refuse_malformed_body(request)
        services.suggestion_dismiss(user=request.user, dismissed=selectors.user_get(username=username))
        return Response(status=status.HTTP_204_NO_CONTENT)
