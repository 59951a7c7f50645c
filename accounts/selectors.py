"""Reads of accounts: a user's settings (defaults when they never changed one), the inactive users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import DEFAULT_FRIEND_LIST_VISIBILITY, Profile


def friend_list_visibility_of(*, user: AbstractBaseUser) -> str:
    """Who may see `user`'s friend list: a `FriendListVisibility` value (one query)."""
    found = Profile.objects.filter(user_id=user.pk).values_list("friend_list_visibility", flat=True).first()
    return found or DEFAULT_FRIEND_LIST_VISIBILITY


def inactive_user_ids() -> QuerySet:
    """The ids of the inactive users, one column, for `NOT IN` in another query: few, and read from their
    own partial index (migration 0004). Lists and counts exclude them this way instead of joining the user
    table for `is_active`, which probed it once per row (a count of 3,000 friends cost 3,000 probes)."""
    return get_user_model().objects.filter(is_active=False).values("pk")
