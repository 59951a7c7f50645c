"""Reads of accounts: a user's settings (defaults when they never changed one)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from .models import DEFAULT_FRIEND_LIST_VISIBILITY, Profile


def friend_list_visibility_of(*, user: AbstractBaseUser) -> str:
    """Who may see `user`'s friend list: a `FriendListVisibility` value (one query)."""
    found = Profile.objects.filter(user_id=user.pk).values_list("friend_list_visibility", flat=True).first()
    return found or DEFAULT_FRIEND_LIST_VISIBILITY
