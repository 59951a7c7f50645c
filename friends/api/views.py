"""REST API v1 of the friend graph. Views parse input and call services (writes) or selectors (reads).

A refused service call raises `ServiceError`; `socialsite.api.exception_handler` renders it as a 4xx
`{"detail", "code"}`. Lists are paginated by the project's default paginator (`count/next/previous/results`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from socialsite.api import validated, validated_query
from socialsite.errors import NotFound, ServiceError

from .. import selectors, services
from ..pages_queries import Listed
from ..suggestions import enqueue
from . import serializers as s

REQUEST_ID = OpenApiParameter("request_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Friend request id.")


def _request_id(value: str) -> int:
    """Ids are routed as strings so a non-integer id gets the API's JSON 404, not the site's HTML one."""
    if not (value.isascii() and value.isdigit()):
        raise NotFound("No such friend request.")
    return int(value)


def _visible(request: Request, username: str) -> AbstractBaseUser:
    """The user named in the URL or body, as the viewer may see them: unknown, inactive and "blocks me"
    are the same 404 (`selectors.user_visible_to`)."""
    return selectors.user_visible_to(viewer=request.user, username=username)


def _refuse_malformed_body(request: Request) -> None:
    """Parse the body even where nothing in it is needed: a malformed one is a 400, never silently ignored."""
    request.data  # noqa: B018 - accessing it parses it; a ParseError becomes a 400


# --- users ------------------------------------------------------------------------------------------


class UserDetailApi(APIView):
    @extend_schema(tags=["users"], responses=s.ProfileSerializer)
    def get(self, request: Request, username: str) -> Response:
        """A user's profile and what they are to me (friend since, pending request ids, whether I block them).

        A user who blocks me, or is inactive, answers 404 exactly like a name nobody has.
        """
        profile = selectors.user_profile(viewer=request.user, username=username)
        # What the cache knows, through the same filter as `mutual-friends/`; a profile read never enqueues.
        count = None
        if not profile.relationship.is_self:
            count = selectors.mutual_friend_count_get(
                viewer=request.user, other=profile.user, version=profile.friendships_version
            )
        return Response(s.ProfileSerializer(profile, context={"mutual_friend_count": count}).data)


# --- friends -------------------------------------------------------------------------------------


@extend_schema(tags=["friends"])
class FriendListApi(generics.ListAPIView):
    """My friends, newest friendship first, each with `since`."""

    serializer_class = s.FriendSerializer

    def get_queryset(self):
        listed = selectors.my_friend_list(user=self.request.user)
        return Listed.queryset(lambda: listed.friendships, listed.count)


@extend_schema(tags=["users"])
class UserFriendListApi(generics.ListAPIView):
    """Someone's friends, newest friendship first, if they show their friend list to me (their setting:
    everyone, friends, only me; 403 `friend_list_hidden` otherwise). Inactive users and anyone blocked
    either way with me are left out."""

    serializer_class = s.FriendSerializer

    def get_queryset(self):
        listed = selectors.friend_list_of(viewer=self.request.user, username=self.kwargs["username"])
        return Listed.queryset(lambda: listed.friendships, listed.count)


class FriendDeleteApi(APIView):
    @extend_schema(tags=["friends"], responses={204: None})
    def delete(self, request: Request, username: str) -> Response:
        """Unfriend: both directions of the friendship go."""
        services.friendship_remove(user=request.user, friend=_visible(request, username))
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
        params = validated_query(s.FriendRequestListParamsSerializer, request.query_params)
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
        data = validated(s.FriendRequestCreateInputSerializer, request.data)
        to_user = _visible(request, data["to_user"])
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
        data = validated(s.UsernameInputSerializer, request.data)
        block = services.block_create(blocker=request.user, blocked=_visible(request, data["username"]))
        return Response(s.BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDeleteApi(APIView):
    @extend_schema(tags=["blocks"], responses={204: None})
    def delete(self, request: Request, username: str) -> Response:
        """Unblock a user."""
        services.block_remove(blocker=request.user, blocked=_visible(request, username))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- mutual friends and suggestions --------------------------------------------------------------


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
        # The profile's statement (the same 404s as `_visible`) also reads the two users' friendships'
        # version, so a confirmation of the cached list kept at it stands for the check.
        shown = selectors.user_profile(viewer=request.user, username=username)
        other = shown.user
        if shown.relationship.is_self:
            raise ServiceError("Mutual friends are between you and someone else.", code="self")
        found = selectors.mutual_friends_get(
            viewer=request.user, other=other, version=shown.friendships_version
        ) or enqueue.mutual_friends_request_computation_rollback_unsafe(viewer=request.user, other=other)
        return Response(s.MutualFriendsSerializer(found).data)


class SuggestionListApi(APIView):
    @extend_schema(tags=["suggestions"], responses=s.SuggestionsSerializer)
    def get(self, request: Request) -> Response:
        """People I may know: friends of my friends, most mutual friends first (at most 10), from the cache.

        Never people I am friends with, have a pending request with, have blocked or am blocked by, or have
        dismissed. When nothing fresh is cached the answer is `computing` with a `task_id` to poll.
        """
        me = request.user
        found = selectors.suggestions_get(user=me) or enqueue.suggestions_request_computation_rollback_unsafe(user=me)
        return Response(s.suggestions_data(found))


class SuggestionDismissApi(APIView):
    @extend_schema(tags=["suggestions"], request=None, responses={204: None})
    def post(self, request: Request, username: str) -> Response:
        """Never suggest this user to me again. Dismissing twice is not an error; myself is a 400, a friend a 409."""
        _refuse_malformed_body(request)
        services.suggestion_dismiss(user=request.user, dismissed=_visible(request, username))
        return Response(status=status.HTTP_204_NO_CONTENT)
