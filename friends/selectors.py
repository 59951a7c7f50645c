"""Reads of the friend graph. Each is a bounded number of queries, whatever the user's degree.

Selectors only read (the database, and the Redis cache through `friends.suggestions.store`); none writes
or enqueues. Who may see whom is decided in one place, `user_visible_to`, and every list of people shown
to a viewer goes through one filter (`_blocked_either_way_ids`, and `_mutual_ids_listable` for mutual
friends), so a count and its list cannot disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts import people
from accounts.models import FriendListVisibility
from accounts.selectors import friend_list_visibility_of
from socialsite.errors import Forbidden, NotFound
from socialsite.prepared import PreparedQuery
from socialsite.redis import REDIS_DOWN

from .models import Block, FriendRequest, Friendship, SuggestionDismissal
from .suggestions import store

User = get_user_model()
logger = logging.getLogger(__name__)


def user_visible_to(*, viewer: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """The user named `username`, as `viewer` may see them: the one visibility rule (one query).

    An unknown name, an inactive user and a user who blocks the viewer all raise the same NotFound with
    the same message, so a block is never revealed. A user the viewer blocks stays visible (to unblock).
    Every page and endpoint that names another user goes through this.

    Raises:
        NotFound: nobody by that name is visible to `viewer`.
    """
    user = None
    if "\x00" not in username:  # a name the database cannot even hold is simply nobody's
        blocks_viewer = Block.objects.filter(blocker=OuterRef("pk"), blocked_id=viewer.pk)
        user = User.objects.filter(username=username, is_active=True).exclude(Exists(blocks_viewer)).first()
    if user is None:
        raise not_visible(username)
    return user


def not_visible(username: str) -> NotFound:
    """The one refusal for a user the viewer may not see, whoever raises it (selector or service)."""
    return NotFound(f"No user named {username!r}.")


# Read on every page that lists people: compiled once per process (`socialsite.prepared`).
_BLOCKS_EITHER_WAY = PreparedQuery(
    lambda uid: Block.objects.filter(Q(blocker_id=uid) | Q(blocked_id=uid)).values_list("blocker_id", "blocked_id")
)
_PENDING_EITHER_WAY = PreparedQuery(
    lambda uid: FriendRequest.objects.filter(
        Q(from_user_id=uid) | Q(to_user_id=uid), state=FriendRequest.State.PENDING
    ).values_list("from_user_id", "to_user_id")
)
_DISMISSED = PreparedQuery(lambda uid: SuggestionDismissal.objects.filter(user_id=uid).values_list("dismissed_id"))


def _blocked_either_way_ids(viewer: AbstractBaseUser) -> set[int]:
    """Everyone the viewer blocks or is blocked by: never listed to the viewer (one query)."""
    return {b if a == viewer.pk else a for a, b in _BLOCKS_EITHER_WAY.rows(viewer.pk)}


def _mutual_ids_listable(viewer: AbstractBaseUser, other: AbstractBaseUser, ids: list[int]) -> list[int]:
    """The cached mutual friends (order kept) that the viewer's list shows and counts: still an active
    friend of both (the table decides, so a mutual friend unfriended, deactivated or deleted since the
    computation is never shown nor counted), and not blocked either way with the viewer. The one filter
    of both `mutual_friends_get` and `mutual_friend_count_get`, so a profile's count equals its list's,
    and a list's `count` equals what it holds (every id left is a user it can show).

    Two queries: the viewer's blocks, and the check of the cached ids against the table (an indexed
    look-up per id: a few milliseconds for a hub pair's hundreds of mutual friends).
    """
    if not ids:
        return []
    hidden = _blocked_either_way_ids(viewer)
    of_other = Friendship.objects.filter(user_id=other.pk, friend_id=OuterRef("friend_id"))
    still = Friendship.objects.filter(user_id=viewer.pk, friend_id__in=ids, friend__is_active=True)
    mutual = set(still.filter(Exists(of_other)).values_list("friend_id", flat=True))
    return [uid for uid in ids if uid in mutual and uid not in hidden]


def _users_by_id(ids: list[int], *, friend_flag_of: AbstractBaseUser | None = None) -> dict[int, AbstractBaseUser]:
    """Active users by id, with their names: only what a list shows (one query). With `friend_flag_of`,
    each also carries `is_friend_now`: whether they are that user's friend in the table (same query)."""
    users = User.objects.filter(pk__in=ids, is_active=True).only(*people.NAME_FIELDS)
    if friend_flag_of is not None:
        users = users.annotate(
            is_friend_now=Exists(Friendship.objects.filter(user_id=friend_flag_of.pk, friend_id=OuterRef("pk")))
        )
    return {u.pk: u for u in users}


def friendships_of(*, user: AbstractBaseUser) -> QuerySet[Friendship]:
    """The user's friends, newest first, with the friend loaded in the same query (every row: for
    services and admin; a list shown to someone goes through `friendships_listed_to`)."""
    return Friendship.objects.filter(user=user).select_related("friend").order_by("-is_friend_since", "friend_id")


def friendships_listed_to(*, viewer: AbstractBaseUser, owner: AbstractBaseUser) -> QuerySet[Friendship]:
    """`owner`'s friends as `viewer` is shown them (the viewer's own list too): never an inactive user nor
    anyone blocked either way with the viewer, so a blocker is not listed, with a link, in a mutual
    contact's friend list. Whether the viewer may see the list at all is `friend_list_visible_to`.
    One query for a page, one for its count, whatever the owner's degree."""
    blocked_either_way = Block.objects.filter(
        Q(blocker=OuterRef("friend"), blocked_id=viewer.pk) | Q(blocker_id=viewer.pk, blocked=OuterRef("friend"))
    )
    return friendships_of(user=owner).filter(friend__is_active=True).exclude(Exists(blocked_either_way))


def friend_list_visible_to(*, viewer: AbstractBaseUser, owner: AbstractBaseUser, is_friend: bool | None = None) -> bool:
    """Whether `viewer` may see `owner`'s friend list and its count: the owner's choice
    (`accounts.models.FriendListVisibility`: everyone, their friends, only themselves). One query, two for
    "friends" unless the caller already knows whether they are friends (`is_friend`)."""
    if viewer.pk == owner.pk:
        return True
    setting = friend_list_visibility_of(user=owner)
    if setting == FriendListVisibility.EVERYONE:
        return True
    if setting == FriendListVisibility.FRIENDS:
        if is_friend is None:
            is_friend = Friendship.objects.filter(user_id=owner.pk, friend_id=viewer.pk).exists()
        return is_friend
    return False


def friend_list_of(*, viewer: AbstractBaseUser, owner: AbstractBaseUser) -> QuerySet[Friendship]:
    """`owner`'s friend list as `viewer` may see it (API `users/{username}/friends/`).

    Raises:
        Forbidden: code "friend_list_hidden": the owner shows it to their friends only, or to nobody.
    """
    if not friend_list_visible_to(viewer=viewer, owner=owner):
        raise Forbidden(f"{owner.username} does not show their friend list to you.", code="friend_list_hidden")
    return friendships_listed_to(viewer=viewer, owner=owner)


def friend_count(*, user: AbstractBaseUser) -> int:
    """How many active friends the user has (a deactivated friend counts nowhere)."""
    return Friendship.objects.filter(user=user, friend__is_active=True).count()


def friend_requests_of(*, user: AbstractBaseUser, direction: str = "incoming", state: str | None = "pending"):
    """Requests the user received (`incoming`) or sent (`outgoing`); nobody else's, and none with an
    inactive user (blocks close pending requests either way, so no pending one involves a block)."""
    field, other = ("to_user", "from_user") if direction == "incoming" else ("from_user", "to_user")
    qs = FriendRequest.objects.filter(**{field: user, f"{other}__is_active": True})
    qs = qs.select_related("from_user", "to_user")
    return qs.filter(state=state) if state else qs


def blocks_of(*, user: AbstractBaseUser) -> QuerySet[Block]:
    """The users `user` blocks (active ones: an inactive user is nobody, and cannot be named to unblock)."""
    return Block.objects.filter(blocker=user, blocked__is_active=True).select_related("blocked")


@dataclass(frozen=True)
class Relationship:
    """What `viewer` and `other` are to each other, for profile buttons and the API.

    Whether `other` blocks the viewer is not here: then the viewer never sees `other` (`user_visible_to`).
    """

    is_self: bool
    friend_since: datetime | None
    incoming_request_id: int | None  # other -> viewer, pending
    outgoing_request_id: int | None  # viewer -> other, pending
    blocks_other: bool

    @property
    def is_friend(self) -> bool:
        return self.friend_since is not None


def relationship(*, viewer: AbstractBaseUser, other: AbstractBaseUser) -> Relationship:
    """Three queries, whatever either user's degree."""
    if viewer.pk == other.pk:
        return Relationship(True, None, None, None, False)
    since = Friendship.objects.filter(user=viewer, friend=other).values_list("is_friend_since", flat=True).first()
    incoming = outgoing = None
    for req_id, from_id in FriendRequest.objects.filter(
        Q(from_user=viewer, to_user=other) | Q(from_user=other, to_user=viewer), state=FriendRequest.State.PENDING
    ).values_list("id", "from_user_id"):
        if from_id == viewer.pk:
            outgoing = req_id
        else:
            incoming = req_id
    blocks_other = Block.objects.filter(blocker=viewer, blocked=other).exists()
    return Relationship(False, since, incoming, outgoing, blocks_other)


@dataclass(frozen=True)
class Profile:
    """A user as `viewer` may see them: the page header and the API's `users/{username}/`."""

    user: AbstractBaseUser
    friend_count: int | None  # None: the owner does not show their friend list to the viewer
    relationship: Relationship

    @property
    def friends_visible(self) -> bool:
        return self.friend_count is not None


def user_profile(*, viewer: AbstractBaseUser, username: str) -> Profile:
    """Seven queries at most, whatever either user's degree. `friend_count` counts the list the viewer
    would be shown (`friendships_listed_to`), or is None when the owner hides it from the viewer.

    Raises:
        NotFound: the user is not visible to the viewer (`user_visible_to`).
    """
    user = user_visible_to(viewer=viewer, username=username)
    rel = relationship(viewer=viewer, other=user)
    count = None
    if friend_list_visible_to(viewer=viewer, owner=user, is_friend=rel.is_friend):
        count = friendships_listed_to(viewer=viewer, owner=user).count()
    return Profile(user=user, friend_count=count, relationship=rel)


def _not_to_suggest_now(user: AbstractBaseUser) -> set[int]:
    """People excluded since the cached list was computed (the worker has not caught up yet): dismissed,
    or with a request pending either way (blocks: `_blocked_either_way_ids`). Two small queries,
    independent of the degree."""
    pending = _PENDING_EITHER_WAY.rows(user.pk)
    return {b if a == user.pk else a for a, b in pending} | {d for (d,) in _DISMISSED.rows(user.pk)}


@dataclass
class Cached:
    """What a page or endpoint shows of a cached result: "ready" with it, or "computing" with the task
    to poll (`task_id` None when the broker could not take the task: ask again later)."""

    status: str  # "ready" | "computing"
    task_id: str | None = None
    computed_at: datetime | None = None
    results: list = field(default_factory=list)
    count: int | None = None


def _cache_unavailable(what: str, exc: BaseException) -> Cached:
    """What a reader gets while Redis is unreachable: "computing" with no task (ask again later), never a
    500. The database still answers everything else on the page."""
    logger.warning("%s not read: Redis unavailable (%s)", what, type(exc).__name__)
    return Cached(status="computing", task_id=None)


@dataclass(frozen=True)
class SuggestionView:
    user: AbstractBaseUser
    mutual_count: int
    mutual_sample: list[AbstractBaseUser]


def suggestions_get(*, user: AbstractBaseUser) -> Cached | None:
    """The user's fresh cached suggestions, best first, or None when nothing fresh is cached; "computing"
    with no task while Redis is unreachable.

    Reads only the cache and four queries to show names, whatever the degree; it never computes nor
    enqueues (on None, the caller asks `suggestions.enqueue.suggestions_request_computation_rollback_unsafe`).
    The table has the last word over a result computed before a change reached the worker: people
    excluded since (dismissed, a request pending either way), friends made since, inactive users and
    anyone blocked either way are never suggested; a sample never shows a blocker, an inactive user, or
    someone who is no longer the user's friend — such a one is no longer a mutual friend, so it leaves the
    count too, and a suggestion left with no mutual friend is dropped.
    """
    try:
        found = store.suggestions_cached(user.pk)
    except REDIS_DOWN as exc:
        return _cache_unavailable("suggestions", exc)
    if found is None:
        return None
    computed_at, rows = found
    blocked = _blocked_either_way_ids(user)
    hidden = _not_to_suggest_now(user)
    mentioned = [uid for row in rows for uid in [row[0], *row[2]] if uid not in blocked]
    people = _users_by_id(mentioned, friend_flag_of=user)
    results = []
    for uid, count, sample in rows:
        if uid not in people or uid in hidden or people[uid].is_friend_now:
            continue
        # Gone from the sample and the count: deleted, deactivated, unfriended or blocked either way since
        # (a block ends the friendship): no longer a mutual friend.
        gone = [m for m in sample if not (m in people and people[m].is_friend_now)]
        count -= len(gone)
        shown = [people[m] for m in sample if m in people and people[m].is_friend_now]
        if count > 0:
            results.append(SuggestionView(people[uid], count, shown))
    return Cached(status="ready", computed_at=computed_at, results=results)


def mutual_friends_get(*, viewer: AbstractBaseUser, other: AbstractBaseUser, limit: int = 50) -> Cached | None:
    """Mutual friends of the viewer and another user (only ever the viewer's own pair), or None when
    nothing fresh is cached (the caller then asks
    `suggestions.enqueue.mutual_friends_request_computation_rollback_unsafe`).

    `results` holds up to `limit` users, smallest ids first; `count` counts them all. Only people
    listable to the viewer appear or count (`_mutual_ids_listable`), as in `mutual_friend_count_get`, so
    `count` equals the number of people the whole list holds. Three queries.
    """
    try:
        found = store.mutual_cached(viewer.pk, other.pk)
    except REDIS_DOWN as exc:
        return _cache_unavailable("mutual friends", exc)
    if found is None:
        return None
    computed_at, ids = found
    listable = _mutual_ids_listable(viewer, other, ids)  # ascending, as cached
    people = _users_by_id(listable[:limit])
    return Cached(
        status="ready",
        computed_at=computed_at,
        results=[people[uid] for uid in listable[:limit] if uid in people],
        count=len(listable),
    )


def mutual_friend_count_get(*, viewer: AbstractBaseUser, other: AbstractBaseUser) -> int | None:
    """How many mutual friends `mutual_friends_get` would list (the same filter), or None when nothing
    fresh is cached; never enqueues. Two queries on a hit."""
    try:
        found = store.mutual_cached(viewer.pk, other.pk)
    except REDIS_DOWN as exc:
        logger.warning("mutual friend count not read: Redis unavailable (%s)", type(exc).__name__)
        return None
    return None if found is None else len(_mutual_ids_listable(viewer, other, found[1]))
