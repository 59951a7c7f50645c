"""Shapes of the accounts API: input serializers only parse, output serializers only render."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import tokens
from ..models import FriendListVisibility

User = get_user_model()


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": User._meta.get_field("username").max_length,
        "pattern": r"^[\w.@+-]+$",
        "description": "Letters, digits and @ . + - _ (stored NFKC-normalised; some names are reserved).",
    }
)
class UsernameField(serializers.CharField):
    """A new username: the schema states its shape; `accounts.usernames.username_check` decides."""


class SignUpInputSerializer(serializers.Serializer):
    username = UsernameField(max_length=User._meta.get_field("username").max_length)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    email = serializers.EmailField(required=False, allow_blank=True, default="")


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


class AccountSerializer(serializers.ModelSerializer):
    """The signed-up account, as its owner sees it."""

    email = serializers.CharField(read_only=True, help_text="The e-mail address given, or empty.")

    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    """Renders a `friends.selectors.Profile` of the viewer themselves."""

    id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True, help_text="The e-mail address, or empty.")
    date_joined = serializers.DateTimeField(source="user.date_joined", read_only=True)
    friend_count = serializers.IntegerField(read_only=True)
    friend_list_visibility = serializers.SerializerMethodField(
        help_text="Who sees my friend list: `everyone`, `friends` (the default) or `only_me`."
    )

    @extend_schema_field(serializers.ChoiceField(choices=FriendListVisibility.choices))
    def get_friend_list_visibility(self, profile: object) -> str:
        # The view reads the setting (accounts.selectors); the serializer only renders it.
        return self.context["friend_list_visibility"]


class MeUpdateInputSerializer(serializers.Serializer):
    """My settings. The one setting there is is required: an empty change is a client's mistake (and a
    body that does not parse into it is refused), not a silent no-op."""

    friend_list_visibility = serializers.ChoiceField(
        choices=FriendListVisibility.choices,
        help_text="Who sees my friend list and its count: `everyone`, `friends` or `only_me`.",
    )
