"""REST API of accounts: sign-up, token, `me`. Views parse input and call a service or a selector."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from friends import selectors as friend_selectors
from socialsite.api import validated

from .. import services
from . import serializers as s


@extend_schema(tags=["accounts"], request=AuthTokenSerializer, responses=s.TokenSerializer)
class AuthTokenApi(ObtainAuthToken):
    """Exchange a username and password for the token clients send as `Authorization: Token <token>`."""

    # No authentication: a stale token header must not stop anyone from logging in again.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]


class UserSignUpApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(tags=["accounts"], request=s.SignUpInputSerializer, responses={201: s.AccountSerializer})
    def post(self, request: Request) -> Response:
        """Create an account (no authentication needed); then obtain a token from `auth/token/`."""
        user = services.user_sign_up(**validated(s.SignUpInputSerializer, request.data))
        return Response(s.AccountSerializer(user).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(tags=["accounts"], responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        """The authenticated account, with its friend count."""
        profile = friend_selectors.user_profile(viewer=request.user, username=request.user.get_username())
        return Response(s.MeSerializer(profile).data)
