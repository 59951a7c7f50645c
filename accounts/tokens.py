"""API tokens (django-rest-knox): issue, list, revoke one, revoke all ("log out everywhere").

Knox keeps several tokens per user, stores only their SHA-512 digest and honours an expiry
(`REST_KNOX["TOKEN_TTL"]`, from `API_TOKEN_TTL_HOURS`). Clients still send `Authorization: Token <token>`.
A token is named in the API by `token_id`: the first 16 hex digits of its digest, which tells
nothing about the token itself (unlike its first characters, which knox uses as a lookup key).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from knox.models import AuthToken
from rest_framework import exceptions

from socialsite.errors import NotFound

TOKEN_ID_LENGTH = 16


class TokenAuthentication(knox_auth.TokenAuthentication):
    """Knox's token check in one query, with a header that is not UTF-8 answered 401 (not knox's 500)."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        try:
            token.decode("utf-8")
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        """Refuse (and delete) this token if expired. Knox also sweeps the user's other tokens here, one
        more query on every request; `token_create` does that sweep instead, once per log-in."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of the class above: `Authorization: Token <token>`, named as before."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


def token_id(token: AuthToken) -> str:
    return token.digest[:TOKEN_ID_LENGTH]


def token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """Issue a new token; returns the stored row and the token string, which is shown only this once.

    The user's expired tokens are deleted on the way (knox would do it on every request).
    """
    AuthToken.objects.filter(user_id=user.pk, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def tokens_of(*, user: AbstractBaseUser) -> QuerySet[AuthToken]:
    """The user's live tokens, newest first (expired ones are not listed; knox deletes them on use)."""
    now = timezone.now()
    return (
        AuthToken.objects.filter(user_id=user.pk)
        .exclude(expiry__lt=now)
        .only("digest", "created", "expiry", "user_id")
        .order_by("-created", "digest")
    )


def token_revoke(*, user: AbstractBaseUser, token_id: str) -> None:
    """Revoke one of the user's tokens. Anyone else's token, or no token, is a 404 (NotFound)."""
    if len(token_id) != TOKEN_ID_LENGTH or not all(c in "0123456789abcdef" for c in token_id):
        raise NotFound("No such token.")
    deleted, _ = AuthToken.objects.filter(user_id=user.pk, digest__startswith=token_id).delete()
    if not deleted:
        raise NotFound("No such token.")


def tokens_revoke_all(*, user: AbstractBaseUser) -> int:
    """Revoke every token of the user ("log out everywhere"); returns how many there were."""
    deleted, _ = AuthToken.objects.filter(user_id=user.pk).delete()
    return deleted
