"""Reads of the friend graph. Each is a bounded number of queries, whatever the user's degree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from socialsite.errors import NotFound

from . import suggestions
from .models import Block, FriendRequest, Friendship, SuggestionDismissal
from .suggestions import Cached

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


def _users_by_id(ids: Iterable[int]) -> dict[int, AbstractBaseUser]:
    return {u.pk: u for u in User.objects.filter(pk__in=set(ids), is_active=True).only("id", "username")}


def _blocked_either_way_ids(user: AbstractBaseUser) -> set[int]:
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    return {b if a == user.pk else a for a, b in pairs}


def _not_to_suggest_now(user: AbstractBaseUser) -> set[int]:
    """People excluded since the cached list was computed (the worker has not caught up yet): blocked,
    dismissed, or with a request pending either way. Three small queries, independent of the degree."""
    pending = FriendRequest.objects.filter(
        Q(from_user=user) | Q(to_user=user), state=FriendRequest.State.PENDING
    ).values_list("from_user_id", "to_user_id")
    dismissed = SuggestionDismissal.objects.filter(user=user).values_list("dismissed_id", flat=True)
    return _blocked_either_way_ids(user) | {b if a == user.pk else a for a, b in pending} | set(dismissed)


@dataclass(frozen=True)
class SuggestionView:
    user: AbstractBaseUser
    mutual_count: int
    mutual_sample: list[AbstractBaseUser]


def suggestions_get(*, user: AbstractBaseUser) -> Cached:
    """The user's cached suggestions, or "computing" with the task to poll.

    Reads only the cache (two queries to show names, whatever the degree). On a miss it asks for the
    computation, once however many readers miss at the same time: it never computes inline.
    """
    from . import tasks

    found = suggestions.suggestions_cached(user.pk)
    if found is None:
        task_id = suggestions.request_computation(
            f"pending:sugg:{user.pk}", tasks.compute_suggestions, user.pk, owner_id=user.pk
        )
        return Cached(status="computing", task_id=task_id)
    computed_at, rows = found
    hidden = _not_to_suggest_now(user)
    people = _users_by_id(uid for row in rows for uid in [row[0], *row[2]])
    results = [
        SuggestionView(people[uid], count, [people[m] for m in sample if m in people])
        for uid, count, sample in rows
        if uid in people and uid not in hidden
    ]
    return Cached(status="ready", computed_at=computed_at, results=results)


def mutual_friends_get(*, viewer: AbstractBaseUser, other: AbstractBaseUser, limit: int = 50) -> Cached:
    """Mutual friends of the viewer and another user (only ever the viewer's own pair).

    `results` holds up to `limit` users, smallest ids first; `count` is in `Cached.count`. Users blocked
    either way with the viewer never appear.
    """
    from . import tasks

    found = suggestions.mutual_cached(viewer.pk, other.pk)
    if found is None:
        lo, hi = sorted((viewer.pk, other.pk))
        task_id = suggestions.request_computation(
            f"pending:mutual:{lo}:{hi}:{viewer.pk}", tasks.compute_mutual_friends, lo, hi, owner_id=viewer.pk
        )
        return Cached(status="computing", task_id=task_id)
    computed_at, ids = found
    hidden = _blocked_either_way_ids(viewer)
    visible = [uid for uid in ids if uid not in hidden]
    people = _users_by_id(visible[:limit])
    return Cached(
        status="ready",
        computed_at=computed_at,
        results=[people[uid] for uid in visible[:limit] if uid in people],
        count=len(visible),
    )
