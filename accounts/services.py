"""Writes of accounts: sign-up and the owner's settings. Log-in, log-out and tokens are Django's and knox's."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from socialsite.errors import ServiceError

from .models import FriendListVisibility, Profile
from .usernames import username_check, username_normalize

User = get_user_model()

TAKEN = "That username is taken."


def user_sign_up(*, username: str, password: str, email: str = "") -> AbstractBaseUser:
    """Create an account; password rules are Django's validators (AUTH_PASSWORD_VALIDATORS).

    The name is stored NFKC-normalised (`accounts.usernames`), so a look-alike of a taken name is taken.
    Two sign-ups of one name at once: the database's unique index on `LOWER(username)` lets one commit;
    the other gets the same "taken" refusal as if it had come second.

    Raises:
        ServiceError: code "username": no name, a refused or reserved name, or a name taken in any letter
            case or look-alike form; code "password": a password the validators refuse.
    """
    username = username_normalize(username or "")
    username_check(username)
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(TAKEN, code="username")
    user = User(username=username, email=(email or "").strip())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), code="password") from exc
    user.set_password(password)
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives the refusal
            user.save()
    except IntegrityError as exc:  # lost the race for the name (accounts_user_username_lower_uniq)
        raise ServiceError(TAKEN, code="username") from exc
    return user


def profile_settings_update(*, user: AbstractBaseUser, friend_list_visibility: str) -> Profile:
    """Change who may see `user`'s friend list: "everyone", "friends" or "only_me" (`FriendListVisibility`).

    Raises:
        ServiceError: code "friend_list_visibility": not one of those values.
    """
    if friend_list_visibility not in FriendListVisibility.values:
        choices = ", ".join(FriendListVisibility.values)
        raise ServiceError(f"Friend-list visibility is one of: {choices}.", code="friend_list_visibility")
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"friend_list_visibility": friend_list_visibility}
    )
    return profile
