"""Writes of accounts: sign-up. Log-in, log-out and tokens are Django's and DRF's own."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from socialsite.errors import Conflict, ServiceError

User = get_user_model()


def user_sign_up(*, username: str, password: str, email: str = "") -> AbstractBaseUser:
    """Create an account; password rules are Django's validators (AUTH_PASSWORD_VALIDATORS).

    Raises:
        ServiceError: no username (code "username"), a refused username ("invalid") or password ("password").
        Conflict: the username is taken, in any letter case (code "username").
    """
    username = (username or "").strip()
    if not username:
        raise ServiceError("A username is required.", code="username")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", code="username")
    user = User(username=username, email=(email or "").strip())
    try:
        User.username_validator(username)
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(
            " ".join(exc.messages), code="password" if "password" in str(exc).lower() else "invalid"
        ) from exc
    user.set_password(password)
    user.save()
    return user
