"""Shapes of the friends API: input serializers only parse, output serializers only render.

No serializer writes: views hand parsed input to `friends.services` and render what comes back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Block, FriendRequest, Friendship

User = get_user_model()
USERNAME_MAX = User._meta.get_field("username").max_length


# --- input ---------------------------------------------------------------------------------------


# Names are taken exactly as sent (no trimming): " bob" names nobody, a 404, as any other unknown name.


class UsernameInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX, trim_whitespace=False)


class FriendRequestCreateInputSerializer(serializers.Serializer):
    to_user = serializers.CharField(
        max_length=USERNAME_MAX, trim_whitespace=False, help_text="Username of the person to befriend."
    )


class FriendRequestListParamsSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=["incoming", "outgoing"], default="incoming", help_text="Requests sent to me, or sent by me."
    )


# --- output --------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    """A person as shown inside other objects (a friend, a request, a block)."""

    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class ProfileSerializer(serializers.Serializer):
    """Renders a `selectors.Profile`: the user, and what they are to the viewer."""

    id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    date_joined = serializers.DateTimeField(source="user.date_joined", read_only=True)
    friend_count = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Friends I would be shown in their list; null when they do not show their friend list to me.",
    )
    is_self = serializers.BooleanField(source="relationship.is_self", read_only=True)
    is_friend = serializers.BooleanField(source="relationship.is_friend", read_only=True)
    friend_since = serializers.DateTimeField(source="relationship.friend_since", read_only=True, allow_null=True)
    incoming_request_id = serializers.IntegerField(
        source="relationship.incoming_request_id",
        read_only=True,
        allow_null=True,
        help_text="Their pending request to me, to accept or decline.",
    )
    outgoing_request_id = serializers.IntegerField(
        source="relationship.outgoing_request_id",
        read_only=True,
        allow_null=True,
        help_text="My pending request to them, to cancel.",
    )
    blocked_by_me = serializers.BooleanField(source="relationship.blocks_other", read_only=True)
    mutual_friend_count = serializers.SerializerMethodField(
        help_text="Friends we share, as last computed; null for myself or while not known "
        "(`mutual-friends/` computes it)."
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_mutual_friend_count(self, profile: object) -> int | None:
        # The view reads it from the cache (never computes it); the serializer only renders it.
        return self.context.get("mutual_friend_count")


class FriendSerializer(serializers.ModelSerializer):
    user = UserSerializer(source="friend", read_only=True)
    since = serializers.DateTimeField(source="is_friend_since", read_only=True)

    class Meta:
        model = Friendship
        fields = ["user", "since"]


class FriendRequestSerializer(serializers.ModelSerializer):
    from_user = UserSerializer(read_only=True)
    to_user = UserSerializer(read_only=True)

    class Meta:
        model = FriendRequest
        fields = ["id", "from_user", "to_user", "state", "created_at", "responded_at"]
        read_only_fields = fields


class BlockSerializer(serializers.ModelSerializer):
    user = UserSerializer(source="blocked", read_only=True)

    class Meta:
        model = Block
        fields = ["user", "created_at"]


# --- mutual friends and suggestions (cached results: "ready", or "computing" with a task to poll) ---


def _status_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=["ready", "computing"],
        read_only=True,
        help_text="`computing`: nothing fresh is cached yet; poll `tasks/{task_id}/`, then ask again.",
    )


def _task_id_field() -> serializers.UUIDField:
    return serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="The computation to poll at `tasks/{task_id}/` while `computing`; null when `ready` "
        "(or when the broker could not take the task: ask again later).",
    )


def _computed_at_field() -> serializers.DateTimeField:
    return serializers.DateTimeField(read_only=True, allow_null=True, help_text="When the result was computed.")


class SuggestionSerializer(serializers.Serializer):
    """Renders a `selectors.SuggestionView`: someone my friends know, with a few of our mutual friends."""

    user = UserSerializer(read_only=True)
    mutual_count = serializers.IntegerField(read_only=True, help_text="How many friends we have in common.")
    mutual_sample = UserSerializer(many=True, read_only=True, help_text="A few of those mutual friends.")


class SuggestionsSerializer(serializers.Serializer):
    """Renders a `selectors.Cached`: the result of `selectors.suggestions_get`, best suggestions first, or
    the "computing" answer of a miss."""

    status = _status_field()
    task_id = _task_id_field()
    computed_at = _computed_at_field()
    results = SuggestionSerializer(many=True, read_only=True)


def suggestions_data(found: Any) -> dict:
    """Exactly what ``SuggestionsSerializer(found).data`` gives, built as plain dicts: the hot list of the
    API, where the serializer machinery (a field object per value) cost more than the rest of the request.
    `SuggestionsSerializer` stays the schema; a test keeps the two equal."""

    def person(user: Any) -> dict:
        return {"id": user.pk, "username": user.username}

    computed_at = found.computed_at
    return {
        "status": found.status,
        "task_id": None if found.task_id is None else str(found.task_id),
        "computed_at": None if computed_at is None else _DATETIME.to_representation(computed_at),
        "results": [
            {
                "user": person(r.user),
                "mutual_count": r.mutual_count,
                "mutual_sample": [person(m) for m in r.mutual_sample],
            }
            for r in found.results
        ],
    }


_DATETIME = serializers.DateTimeField()


class MutualFriendsSerializer(serializers.Serializer):
    """Renders a `selectors.Cached`: the result of `selectors.mutual_friends_get`, or "computing"."""

    status = _status_field()
    task_id = _task_id_field()
    count = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="All mutual friends (results holds the first 50); null while computing.",
    )
    results = UserSerializer(many=True, read_only=True)
    computed_at = _computed_at_field()
