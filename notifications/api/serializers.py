"""Shapes of the notifications API: input serializers only parse, output serializers only render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Notification

# --- input ---------------------------------------------------------------------------------------


class NotificationListParamsSerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Only unread notifications.")


# --- output --------------------------------------------------------------------------------------


class TargetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["share", "friend_request"], read_only=True)
    id = serializers.IntegerField(read_only=True)


class NotificationSerializer(serializers.ModelSerializer):
    """One notification as its recipient sees it; `target` says what it is about."""

    actor = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    unread = serializers.BooleanField(source="is_unread", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "actor", "target", "unread", "created_at", "read_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of who caused it."))
    def get_actor(self, obj: Notification) -> str | None:
        return obj.actor.username if obj.actor is not None else None

    @extend_schema_field(TargetSerializer(allow_null=True))
    def get_target(self, obj: Notification) -> dict | None:
        return obj.target


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(read_only=True)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many were unread and are now read.")
