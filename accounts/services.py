"""Writes of accounts: sign-up, the owner's settings, and an account's lifecycle (deactivate, reactivate,
delete). Log-in, log-out and tokens are Django's and knox's."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from socialsite.errors import ServiceError

from .models import FriendListVisibility, Profile
from .usernames import named, username_check, username_normalize

User = get_user_model()

TAKEN = "That username is taken."


def username_available_check(*, username: str) -> str:
    """The stored form of `username` (NFKC-normalised) if a new account may take it.

    A form calls it to say every error of a sign-up at once; `user_sign_up` checks again (the name may
    be taken in between), and the database's unique index has the last word.

    Raises:
        ServiceError: code "username": no name, a refused or reserved name, or a name taken in any letter
            case or look-alike form.
    """
    username = username_normalize(username or "")
    username_check(username)
    if named(User.objects.all(), username).exists():
        raise ServiceError(TAKEN, code="username")
    return username


def user_sign_up(*, username: str, password: str, email: str = "") -> AbstractBaseUser:
    """Create an account; password rules are Django's validators (AUTH_PASSWORD_VALIDATORS).

    The name is stored NFKC-normalised (`accounts.usernames`), so a look-alike of a taken name is taken.
    Two sign-ups of one name at once: the database's unique index on `LOWER(username)` lets one commit;
    the other gets the same "taken" refusal as if it had come second.

    Raises:
        ServiceError: code "username": no name, a refused or reserved name, or a name taken in any letter
            case or look-alike form; code "password": a password the validators refuse.
    """
    username = username_available_check(username=username)
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


# --- lifecycle: the admin's and `manage.py account`'s way to change a user's presence -------------------


@transaction.atomic
def user_deactivate(*, user: AbstractBaseUser) -> bool:
    """Deactivate an account; returns False when it already was (not an error).

    Its rows stay (friendships, requests, blocks: a reactivation brings it all back), but from the commit
    on it is treated like a deleted user everywhere: it cannot log in, it is nobody on every page and
    endpoint (`friends.selectors.user_visible_to`), its pending requests can no longer be accepted
    (`friends.services`), it is left out of every list and count, and the derived friend graph drops it
    (`user.deactivated`, emitted by `accounts.signals`; `friends.graph_cache.graph_after_user_changed`),
    so it is neither suggested nor counted as a mutual friend, nor a bridge between its friends.
    The user row is locked first, so a friend-graph service working on this user (which locks it too)
    sees either the old or the new state, never a request accepted after the deactivation committed.
    """
    return _user_set_active(user, active=False)


@transaction.atomic
def user_reactivate(*, user: AbstractBaseUser) -> bool:
    """Reactivate an account with everything it had; returns False when it was active (`user.reactivated`)."""
    return _user_set_active(user, active=True)


def _user_set_active(user: AbstractBaseUser, *, active: bool) -> bool:
    # FOR NO KEY UPDATE: it waits for (and holds off) the friend graph's services, which lock users FOR
    # UPDATE, but not a worker inserting a row that references the user (FOR KEY SHARE).
    locked = User.objects.select_for_update(no_key=True).filter(pk=user.pk)
    stored = locked.values_list("is_active", flat=True).first()
    user.is_active = active
    if stored is None or stored == active:
        return False
    user.save(update_fields=["is_active"])  # `accounts.signals` emits the event in this transaction
    return True


@transaction.atomic
def user_delete(*, user: AbstractBaseUser) -> None:
    """Delete an account and, by cascade, its friendships, requests, blocks, dismissals, shares and
    notifications, in one transaction.

    `user.deleted` is emitted in the same transaction before the cascade (`accounts.signals`), and the
    graph subscriber removes the user from the derived friend graph, so the people it linked stop seeing
    each other through it. The user row is locked first (see `user_deactivate`).
    """
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    user.delete()
