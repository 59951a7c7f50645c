"""Reads of the friend graph. Each is a bounded number of queries, whatever the user's degree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from socialsite.errors import NotFound

from .models import Block, FriendRequest, Friendship

User = get_user_model()


def user_get(*, username: str) -> AbstractBaseUser:
    """An active user by name; a name the database cannot even hold (NUL) is simply nobody's."""
    user = None if "\x00" in username else User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def friendships_of(*, user: AbstractBaseUser) -> QuerySet[Friendship]:
    """The user's friends, newest first, with the friend loaded in the same query."""
    return Friendship.objects.filter(user=user).select_related("friend").order_by("-is_friend_since", "friend_id")


def friend_count(*, user: AbstractBaseUser) -> int:
    return Friendship.objects.filter(user=user).count()


def friend_requests_of(*, user: AbstractBaseUser, direction: str = "incoming", state: str | None = "pending"):
    """Requests the user received (`incoming`) or sent (`outgoing`); nobody else's."""
    field = "to_user" if direction == "incoming" else "from_user"
    qs = FriendRequest.objects.filter(**{field: user}).select_related("from_user", "to_user")
    return qs.filter(state=state) if state else qs


def blocks_of(*, user: AbstractBaseUser) -> QuerySet[Block]:
    return Block.objects.filter(blocker=user).select_related("blocked")


def is_blocked_either_way(*, a: AbstractBaseUser, b: AbstractBaseUser) -> bool:
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


@dataclass(frozen=True)
class Relationship:
    """What `viewer` and `other` are to each other, for profile buttons and the API."""

    is_self: bool
    friend_since: datetime | None
    incoming_request_id: int | None  # other -> viewer, pending
    outgoing_request_id: int | None  # viewer -> other, pending
    blocks_other: bool
    blocked_by_other: bool

    @property
    def is_friend(self) -> bool:
        return self.friend_since is not None


def relationship(*, viewer: AbstractBaseUser, other: AbstractBaseUser) -> Relationship:
    """Three queries, whatever either user's degree."""
    if viewer.pk == other.pk:
        return Relationship(True, None, None, None, False, False)
    since = Friendship.objects.filter(user=viewer, friend=other).values_list("is_friend_since", flat=True).first()
    incoming = outgoing = None
    for req_id, from_id in FriendRequest.objects.filter(
        Q(from_user=viewer, to_user=other) | Q(from_user=other, to_user=viewer), state=FriendRequest.State.PENDING
    ).values_list("id", "from_user_id"):
        if from_id == viewer.pk:
            outgoing = req_id
        else:
            incoming = req_id
    blockers = set(
        Block.objects.filter(Q(blocker=viewer, blocked=other) | Q(blocker=other, blocked=viewer)).values_list(
            "blocker_id", flat=True
        )
    )
    return Relationship(False, since, incoming, outgoing, viewer.pk in blockers, other.pk in blockers)


@dataclass(frozen=True)
class Profile:
    """A user as `viewer` may see them: the page header and the API's `users/{username}/`."""

    user: AbstractBaseUser
    friend_count: int
    relationship: Relationship


def user_profile(*, viewer: AbstractBaseUser, username: str) -> Profile:
    """Five queries, whatever either user's degree.

    A viewer the owner blocks gets the same NotFound as for an unknown name, so the block is not revealed.
    """
    user = user_get(username=username)
    rel = relationship(viewer=viewer, other=user)
    if rel.blocked_by_other:
        raise NotFound(f"No user named {username!r}.")
    return Profile(user=user, friend_count=friend_count(user=user), relationship=rel)
