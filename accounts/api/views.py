"""REST API of accounts: sign-up, tokens (obtain, list, revoke, log out everywhere), `me`.

Views parse input and call a service or a selector.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from friends import selectors as friend_selectors
from socialsite.api import validated

from .. import selectors, services, tokens
from . import serializers as s


class UserSignUpApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scopes = {"POST": "sign_up"}  # per client address (socialsite.throttles.ScopedThrottle)

    @extend_schema(tags=["accounts"], request=s.SignUpInputSerializer, responses={201: s.AccountSerializer})
    def post(self, request: Request) -> Response:
        """Create an account (no authentication needed); then obtain a token from `auth/token/`."""
        user = services.user_sign_up(**validated(s.SignUpInputSerializer, request.data))
        return Response(s.AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(tags=["accounts"], responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        """The authenticated account, with its friend count and settings."""
        return self._me(request)

    @extend_schema(tags=["accounts"], request=s.MeUpdateInputSerializer, responses=s.MeSerializer)
    def patch(self, request: Request) -> Response:
        """Change my settings (`friend_list_visibility`). A field that is not a setting (`username`,
        `is_staff` …) is a 400 naming it, not silently ignored: the client would believe it changed."""
        if isinstance(request.data, dict):
            settable = s.MeUpdateInputSerializer().fields
            unknown = sorted(name for name in request.data if name not in settable)
            if unknown:
                refusal = f"Not a setting that can be changed here; the settings are: {', '.join(settable)}."
                raise exceptions.ValidationError({name: [refusal] for name in unknown})
        data = validated(s.MeUpdateInputSerializer, request.data)
        services.profile_settings_update(user=request.user, friend_list_visibility=data["friend_list_visibility"])
        return self._me(request)

    @staticmethod
    def _me(request: Request) -> Response:
        profile = friend_selectors.user_profile(viewer=request.user, username=request.user.get_username())
        visibility = selectors.friend_list_visibility_of(user=request.user)
        return Response(s.MeSerializer(profile, context={"friend_list_visibility": visibility}).data)


# --- API tokens (django-rest-knox: several per user, hashed, revocable; see accounts/tokens.py) -------


@extend_schema(tags=["accounts"], request=AuthTokenSerializer, responses=s.TokenSerializer)
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

    serializer_class = s.TokenInfoSerializer

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
