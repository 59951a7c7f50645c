"""Reads of the friend graph. Each is a bounded number of queries, whatever the user's degree.

Selectors only read (the database, and the Redis cache through `friends.suggestions.store`); none writes
to the database or enqueues. One keeps what it read: the database's confirmation of a pair's cached
mutual friends, beside them in the cache (`_mutual_listable_at`). Who may see whom is decided in one
place, `user_visible_to`, and every list of people shown to a viewer goes through one filter (blocks
either way: `friendships_listed_to`, `_not_to_suggest_query`, and `_mutual_listable` for mutual
friends), so a count and its list cannot disagree.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat

from accounts.models import DEFAULT_FRIEND_LIST_VISIBILITY, FriendListVisibility
from accounts.models import Profile as AccountProfile
from accounts.selectors import inactive_user_ids
from accounts.usernames import named
from socialsite.errors import Forbidden, NotFound
from socialsite.prepared import IDS_SENTINEL, NAME_SENTINEL, OTHER_SENTINEL, SENTINEL, PreparedQuery
from socialsite.redis import REDIS_DOWN

from .models import Block, FriendCount, FriendRequest, Friendship, Share, SuggestionDismissal
from .suggestions import store

User = get_user_model()
logger = logging.getLogger(__name__)


def _visible_users(viewer_id: int) -> QuerySet:
    """The users `viewer_id` may see: active, and not blocking the viewer (`user_visible_to`'s rule)."""
    blocks_viewer = Block.objects.filter(blocker=OuterRef("pk"), blocked_id=viewer_id)
    return User.objects.filter(is_active=True).exclude(Exists(blocks_viewer))


_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields)  # a whole user row, in model order
_USER_VISIBLE = PreparedQuery(
    lambda viewer_id, name: named(_visible_users(viewer_id), name).values_list(*_USER_FIELDS),
    sentinels=(SENTINEL, NAME_SENTINEL),
)


def _user_of(row: tuple) -> AbstractBaseUser:
    """A user instance from a row of `_USER_FIELDS` (the same instance a queryset would give)."""
    return User.from_db("default", _USER_FIELDS, row)


def user_visible_to(*, viewer: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """The user named `username`, as `viewer` may see them: the one visibility rule (one query).

    An unknown name, an inactive user and a user who blocks the viewer all raise the same NotFound with
    the same message, so a block is never revealed. A user the viewer blocks stays visible (to unblock).
    Every page and endpoint that names another user goes through this.

    Raises:
        NotFound: nobody by that name is visible to `viewer`.
    """
    found = _USER_VISIBLE.rows(viewer.pk, username) if "\x00" not in username else []
    if not found:  # a name the database cannot even hold (NUL) is simply nobody's
        raise not_visible(username)
    return _user_of(found[0])


def not_visible(username: str) -> NotFound:
    """The one refusal for a user the viewer may not see, whoever raises it (selector or service)."""
    return NotFound(f"No user named {username!r}.")


def _any_of(column: str, ids: list[int]) -> Func:
    """`column IN (the ids)` (a condition to filter on): the ids as one array parameter, so one prepared
    query takes any number of ids (`IDS_SENTINEL`), where `__in` would compile one placeholder per id.

    On PostgreSQL a semi-join on `unnest(ids)`, not `column = ANY(ids)`: in a prepared (generic) plan the
    array is a parameter, which PostgreSQL does not hash, and where `column` is not an index's first
    column it filtered every row of the index range with a linear search of the array: the mutual
    friends of a user with 1,602 friends, 199 cached ids, cost 1,602 x 199 comparisons (~1.2 ms). The
    semi-join probes the index once per id. SQLite (the demo's default database) has no arrays: there the
    ids are one JSON text read by `json_each` (`socialsite.prepared` binds lists as JSON there)."""
    if connection.vendor == "postgresql":
        template, joiner, value = "(%(expressions)s::bigint[])))", " IN (SELECT unnest(", Value(ids)
    else:
        template, joiner, value = "(%(expressions)s)))", " IN (SELECT value FROM json_each(", Value(json.dumps(ids))
    return Func(F(column), value, template=template, arg_joiner=joiner, output_field=BooleanField())


def _not_to_suggest_query(uid: int) -> QuerySet:
    """(other id, blocked either way) of everyone `uid` blocks or is blocked by, has a request pending
    with either way, or dismissed: the users never suggested now (`suggestions_get`), as one UNION ALL of
    three indexed reads."""
    blocks = Block.objects.filter(Q(blocker_id=uid) | Q(blocked_id=uid)).order_by()
    pending = FriendRequest.objects.filter(Q(from_user_id=uid) | Q(to_user_id=uid), state=FriendRequest.State.PENDING)
    dismissed = SuggestionDismissal.objects.filter(user_id=uid).order_by()
    return dismissed.values_list("dismissed_id", Value(False)).union(
        _other_of(blocks, uid, "blocker_id", "blocked_id", blocked=True),
        _other_of(pending.order_by(), uid, "from_user_id", "to_user_id", blocked=False),
        all=True,
    )


def _other_of(pairs: QuerySet, uid: int, first: str, second: str, *, blocked: bool) -> QuerySet:
    """(the other user's id, `blocked`) of each row of `pairs` naming `uid` in `first` or `second`."""
    other = Case(When(**{first: uid}, then=second), default=first, output_field=BigIntegerField())
    return pairs.values_list(other, Value(blocked))


_NOT_TO_SUGGEST = PreparedQuery(_not_to_suggest_query)

MUTUAL_PAGE = 50  # mutual friends a page of `mutual-friends/` lists (the API's one page: the first 50)
MUTUAL_PREVIEW = 12  # mutual friends a profile lists (the first of the same list); the rest are on their own page


def _mutual_still(viewer_id: int, other_id: int, ids: list[int]) -> QuerySet[Friendship]:
    """The viewer's friendships with those of `ids` who are still active friends of both users and not
    blocked either way with the viewer: the one rule of a listable mutual friend."""
    return (
        Friendship.objects.filter(_any_of("friend_id", ids), user_id=viewer_id)
        .filter(Exists(Friendship.objects.filter(user_id=other_id, friend_id=OuterRef("friend_id"))))
        .exclude(friend_id__in=inactive_user_ids())  # as `friendships_listed_to`: sets read once
        .exclude(friend_id__in=_blocked_either_way_ids(viewer_id))
    )


# (friend id, username, first name, last name, how many in all) of a page (LIMIT and OFFSET: parameters
# after the ids) of the ids (an array parameter), smallest first, that are still active friends of both
# users and not blocked either way with the viewer: the table's word on a cached list of mutual friends
# (`_mutual_listable`). The queryset checks every id against the indexes alone and counts them (a window
# over all, before the LIMIT); only the page it keeps is joined to the user table for names: a hub's 199
# mutual friends read a page of user rows, not 199.
_MUTUAL_STILL = PreparedQuery(
    lambda viewer_id, other_id, ids: (
        _mutual_still(viewer_id, other_id, ids).annotate(total=Window(Count("*"))).values_list("friend_id", "total")
    ),
    sentinels=(SENTINEL, OTHER_SENTINEL, IDS_SENTINEL),
    outer=(
        'SELECT page."friend_id", u."username", u."first_name", u."last_name", page."total" '
        'FROM (SELECT * FROM ({inner}) checked ORDER BY "friend_id" LIMIT %s OFFSET %s) page '
        f'JOIN "{User._meta.db_table}" u ON u."id" = page."friend_id" '
        'ORDER BY page."friend_id"'
    ),
)
# PostgreSQL only (`_mutual_listable_at`): the same check, giving every confirmed id (an array, in each
# row) to keep in the cache, with the names of a page of them (LIMIT and OFFSET: parameters after the ids).
# One row at least: a page past the end, or nobody confirmed, is one row with no friend.
_MUTUAL_CONFIRMED = PreparedQuery(
    lambda viewer_id, other_id, ids: _mutual_still(viewer_id, other_id, ids).values_list("friend_id"),
    sentinels=(SENTINEL, OTHER_SENTINEL, IDS_SENTINEL),
    outer=(
        'SELECT page."friend_id", u."username", u."first_name", u."last_name", confirmed."ids" '
        'FROM (SELECT array_agg("friend_id" ORDER BY "friend_id") AS "ids" FROM ({inner}) still) confirmed '
        'LEFT JOIN LATERAL (SELECT "friend_id" FROM unnest(confirmed."ids") AS one("friend_id") '
        'ORDER BY "friend_id" LIMIT %s OFFSET %s) page ON true '
        f'LEFT JOIN "{User._meta.db_table}" u ON u."id" = page."friend_id" '
        'ORDER BY page."friend_id"'
    ),
)
# (id, username, first name, last name), smallest id first, of the ids that are active users not blocked
# either way with the viewer: the names of a page of confirmed mutual friends (`_mutual_listable_at`).
# Whether they are still friends of both is what the version the confirmation was kept at answers.
_PEOPLE_LISTABLE = PreparedQuery(
    lambda viewer_id, ids: (
        User.objects.filter(_any_of("id", ids), is_active=True)
        .exclude(id__in=_blocked_either_way_ids(viewer_id))
        .order_by("id")
        .values_list("id", "username", "first_name", "last_name")
    ),
    sentinels=(SENTINEL, IDS_SENTINEL),
)
# (id, username, first name, last name, is the user's friend now) of the active users among the ids.
# The flag is a scalar subquery (one index probe per person), not `Exists`: PostgreSQL may run an EXISTS
# in the select list as a hashed subplan, and in the prepared (generic) plan it did, reading all of the
# user's friends to answer for a dozen people: fb0's 1,602 on the 40k-user graph, 350 µs of PostgreSQL
# CPU per suggestions page against 120 on ego-Facebook.
_PEOPLE_WITH_FRIEND_FLAG = PreparedQuery(
    lambda uid, ids: (
        User.objects.filter(_any_of("id", ids), is_active=True)
        .annotate(
            is_friend_now=Coalesce(
                Subquery(
                    Friendship.objects.filter(user_id=uid, friend_id=OuterRef("pk"))
                    .order_by()
                    .values(flag=Value(True, output_field=BooleanField()))[:1]
                ),
                Value(False),
            )
        )
        .order_by()
        .values_list("pk", "username", "first_name", "last_name", "is_friend_now")
    ),
    sentinels=(SENTINEL, IDS_SENTINEL),
)


@dataclass(frozen=True, slots=True)
class Person:
    """A listed user: what a row needs to name and link them (`accounts.people` takes it as a user, the
    API's `UserSerializer` reads `id` and `username`). Lists read these columns, not whole users."""

    pk: int
    username: str
    first_name: str
    last_name: str

    @property
    def id(self) -> int:
        return self.pk

    def get_username(self) -> str:
        return self.username


def _mutual_listable(
    viewer: AbstractBaseUser, other: AbstractBaseUser, ids: list[int], *, limit: int = MUTUAL_PAGE, offset: int = 0
) -> tuple[list[Person], int]:
    """`limit` of the cached mutual friends (ascending ids, as cached) that the viewer's list shows, from
    the `offset`-th on, and how many it shows in all. Shown means still an active friend of both (the
    table decides, so a mutual friend unfriended, deactivated or deleted since the computation is never
    shown nor counted) and not blocked either way with the viewer. The one filter of both
    `mutual_friends_get` and `mutual_friend_count_get`, so a profile's count equals its list's, and a
    list's `count` equals what the whole list holds (every one counted is a user it can show).

    One prepared query (`_MUTUAL_STILL`): indexed look-ups for the cached ids, given as one array. A page
    past the end has no rows to carry the count: then a second query reads the first row for it.
    """
    if not ids:
        return [], 0
    rows = _MUTUAL_STILL.rows(viewer.pk, other.pk, sorted(ids), tail=(limit, offset))
    if not rows and offset:
        return [], _mutual_listable(viewer, other, ids, limit=1)[1]
    return [Person(*row[:4]) for row in rows], (rows[0][4] if rows else 0)


def _mutual_listable_at(
    viewer: AbstractBaseUser,
    other: AbstractBaseUser,
    entry: store.MutualEntry,
    version: str,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Person], int]:
    """`_mutual_listable`'s page and count, for a caller that read `version`, the two users' friendships'
    version (`Profile.friendships_version`), before this. The first reader at a version runs the check
    (`_MUTUAL_CONFIRMED`: every cached id probed in both users' friendships) and keeps the confirmed ids
    beside the cached ones (`store.mutual_checked_write`); until either user's friends change, a page
    then costs the names of its own people only (12 primary-key look-ups on a profile). Measured on one
    connection, the whole look-up (Redis read included) for fb0 and fb56 on ego-Facebook (77 ids) and
    fb0 and fb20 on the 40k-user graph (199 ids): the check on every view 368 and 696 µs; the first view
    at a version 524 and 919 µs (the confirmed ids are aggregated and written to Redis); later views 246
    and 266 µs. The statement alone, over `SELECT 1`: check +158 and +562 µs, names +32 and +37 µs.

    Why the version suffices: the triggers of migration 0008 write a user's `FriendCount` row, so its
    version moves (`_friendships_version`), on every friendship added or removed with an active friend
    and on every (de)activation of a friend; a block ends the friendship. Read before the check, the
    version is never newer than what the check saw: a change in between makes the version the next
    reader sees differ from the one kept, so that reader checks again. The names' statement still
    leaves out inactive users and blocks either way, whatever the version says.
    """
    confirmed = entry.checked_at(version)
    if confirmed is None:
        rows = _MUTUAL_CONFIRMED.rows(viewer.pk, other.pk, entry.ids, tail=(limit, offset))
        confirmed = list(rows[0][4] or [])
        try:
            store.mutual_checked_write(entry, version=version, checked=confirmed)
        except REDIS_DOWN as exc:  # kept another time: this page has what it needs
            logger.warning("mutual friends' check not kept: Redis unavailable (%s)", type(exc).__name__)
        return [Person(*row[:4]) for row in rows if row[0] is not None], len(confirmed)
    page = confirmed[offset : offset + limit]
    return [Person(*row) for row in _PEOPLE_LISTABLE.rows(viewer.pk, page)] if page else [], len(confirmed)


def friendships_of(*, user: AbstractBaseUser) -> QuerySet[Friendship]:
    """The user's friends, newest first, with the friend loaded in the same query (every row: for
    services and admin; a list shown to someone goes through `friendships_listed_to`)."""
    return Friendship.objects.filter(user=user).select_related("friend").order_by("-is_friend_since", "friend_id")


def friendships_listed_to(*, viewer: AbstractBaseUser, owner: AbstractBaseUser) -> QuerySet[Friendship]:
    """`owner`'s friends as `viewer` is shown them (the viewer's own list too): never an inactive user nor
    anyone blocked either way with the viewer, so a blocker is not listed, with a link, in a mutual
    contact's friend list. Whether the viewer may see the list at all is `user_profile`'s `friends_visible`.
    One query for a page, one for its count, whatever the owner's degree."""
    # Both filters are `NOT IN` a small set read once per query (PostgreSQL hashes it), not a probe per
    # friend: a count then reads only the friendship index, however many friends the owner has.
    return (
        friendships_of(user=owner)
        .exclude(friend_id__in=inactive_user_ids())
        .exclude(friend_id__in=_blocked_either_way_ids(viewer.pk))
    )


def _blocks_either_way(viewer_id: int) -> QuerySet:
    """The blocks between `viewer_id` and anyone, either way, each with `other_id`: the other user."""
    return Block.objects.filter(Q(blocker_id=viewer_id) | Q(blocked_id=viewer_id)).annotate(
        other_id=Case(When(blocker_id=viewer_id, then=F("blocked_id")), default=F("blocker_id"))
    )


def _blocked_either_way_ids(viewer_id: int) -> QuerySet:
    """The ids of the users `viewer_id` blocks or is blocked by (one column, for `NOT IN`)."""
    return _blocks_either_way(viewer_id).values("other_id")


def _friend_list_shown(setting: str, *, is_self: bool, is_friend: bool) -> bool:
    """The owner's choice (`accounts.models.FriendListVisibility`: everyone, their friends, only
    themselves) applied to a viewer: the one rule of `user_profile` (and so of every friend list shown)."""
    if is_self or setting == FriendListVisibility.EVERYONE:
        return True
    return setting == FriendListVisibility.FRIENDS and is_friend


@dataclass(frozen=True)
class FriendList:
    """A friend list as a viewer may see it: its rows (`friendships_listed_to`: newest first, the friend
    loaded) and their number (the stored count, `listed_friend_count`), for a paginator that need not
    count the rows."""

    friendships: QuerySet[Friendship]
    count: int


def friend_list_of(*, viewer: AbstractBaseUser, username: str) -> FriendList:
    """The friend list of the user named `username` as `viewer` may see it (API
    `users/{username}/friends/`): one query (`user_profile`: who it is, whether the viewer may see the
    list, its count), then the rows of a page.

    Raises:
        NotFound: the user is not visible to the viewer (`user_visible_to`).
        Forbidden: code "friend_list_hidden": the owner shows it to their friends only, or to nobody.
    """
    shown = user_profile(viewer=viewer, username=username)
    if shown.friend_count is None:
        raise Forbidden(f"{shown.user.username} does not show their friend list to you.", code="friend_list_hidden")
    return FriendList(friendships_listed_to(viewer=viewer, owner=shown.user), shown.friend_count)


def friend_list_count_query(viewer_id: int, owner_id: int) -> QuerySet:
    """One row, (the count,) of `owner_id`'s friend list as `viewer_id` is shown it (`listed_friend_count`):
    the API's `friends/` and the pages' counts (`pages_queries.FRIENDS`) compile it once each."""
    return User.objects.filter(pk=owner_id).annotate(n=listed_friend_count(viewer_id, owner_id)).values_list("n")


_FRIEND_LIST_COUNT = PreparedQuery(friend_list_count_query, sentinels=(SENTINEL, OTHER_SENTINEL))


def my_friend_list(*, user: AbstractBaseUser) -> FriendList:
    """The user's own friend list (API `friends/`), with its stored count: one query before the rows."""
    rows = _FRIEND_LIST_COUNT.rows(user.pk, user.pk)
    return FriendList(friendships_listed_to(viewer=user, owner=user), rows[0][0] if rows else 0)


def listed_friend_count(viewer_id: int, owner: int | OuterRef) -> Expression:
    """How many rows `friendships_listed_to(viewer, owner)` holds, as an expression: `owner`'s active
    friends (`FriendCount`, kept by triggers) less those blocked either way with the viewer (an active
    friend of the owner among the viewer's few blocks, each probed in the friendship index).

    Whatever the owner's degree, it reads one counter row and a probe per block of the viewer's: a
    hub's 3,083 friendships are no longer counted on every profile and `/friends/` page. `owner` is an
    id, or `OuterRef("pk")` in a query of users.
    """
    inner_owner = OuterRef(owner) if isinstance(owner, OuterRef) else owner
    stored = FriendCount.objects.filter(user_id=owner).values("friends")[:1]
    # Driven by the viewer's block rows (the only table of its FROM, so no plan can start elsewhere), each
    # checked by a scalar subquery (LIMIT 1: never made a join): one probe per block. As a semi-join, the
    # generic plan hashed all of the owner's friendships, or probed every active user.
    owners_active_friend = Friendship.objects.filter(
        user_id=inner_owner, friend_id=OuterRef("other_id"), friend__is_active=True
    ).order_by()
    hidden = (
        _blocks_either_way(viewer_id)
        .annotate(
            is_owners_friend=Subquery(owners_active_friend.values(flag=Value(1, output_field=IntegerField()))[:1]),
            one_group=Value(1, output_field=IntegerField()),
        )
        .filter(is_owners_friend__isnull=False)
        .order_by()
        .values("one_group")  # a constant, which Django leaves out of GROUP BY: always one row
        .annotate(n=Count("other_id", distinct=True))  # blocked both ways: two rows, one person
        .values("n")
    )
    return Coalesce(Subquery(stored), 0, output_field=IntegerField()) - Coalesce(Subquery(hidden), 0)


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


def _profile_query(viewer_id: int, username: str) -> QuerySet:
    """The user named `username` if visible to the viewer (`_visible_users`), with what they are to the
    viewer (`Relationship`), their friend-list setting, and the size of the list the viewer would be shown
    (`friendships_listed_to`) and how many shares they have: one statement of indexed look-ups (a request
    pending either way is unique per pair, a constraint of `FriendRequest`)."""
    pending = FriendRequest.objects.filter(state=FriendRequest.State.PENDING).order_by()
    shares = Share.objects.filter(owner=OuterRef("pk")).order_by()
    return (
        named(_visible_users(viewer_id), username)
        .annotate(
            rel_since=Subquery(
                Friendship.objects.filter(user_id=viewer_id, friend=OuterRef("pk")).values("is_friend_since")[:1]
            ),
            rel_incoming=Subquery(pending.filter(from_user=OuterRef("pk"), to_user_id=viewer_id).values("id")[:1]),
            rel_outgoing=Subquery(pending.filter(from_user_id=viewer_id, to_user=OuterRef("pk")).values("id")[:1]),
            rel_blocks=Exists(Block.objects.filter(blocker_id=viewer_id, blocked=OuterRef("pk"))),
            rel_setting=Subquery(
                AccountProfile.objects.filter(user=OuterRef("pk")).values("friend_list_visibility")[:1]
            ),
            rel_count=listed_friend_count(viewer_id, OuterRef("pk")),
            # COUNT(*), not COUNT(id): the id is not in the (owner, created_at) index, so counting it read a
            # user's shares from the table instead of the index alone.
            # All their shares: `user_profile` shows the count only to whom `shares_visible_to` shows them.
            rel_shares=Coalesce(Subquery(shares.values("owner").annotate(n=Count("*")).values("n")), 0),
            rel_version=_friendships_version(viewer_id, OuterRef("pk")),
        )
        .values_list(
            *_USER_FIELDS,
            "rel_since",
            "rel_incoming",
            "rel_outgoing",
            "rel_blocks",
            "rel_setting",
            "rel_count",
            "rel_shares",
            "rel_version",
        )
    )


def _friendships_version(viewer_id: int, owner: OuterRef) -> Expression:
    """On PostgreSQL, the row versions of the two users' `FriendCount` rows, the viewer's then the owner's,
    as text (empty for a user who never had a friend): it changes whenever either user's friends change
    (`_mutual_listable_at` says why). A row version is the tuple's `xmin` (the transaction that wrote it)
    and `ctid` (where it lies): each write of a row makes a new tuple, in a new place even within one
    transaction, and a place is reused only by another transaction's write once the old tuple is dead.
    None on SQLite, which has no row versions: there every list is checked in full."""
    if connection.vendor != "postgresql":
        return Value(None, output_field=CharField())

    def row_version(user: int | OuterRef) -> Expression:
        # Unqualified, the system columns are the innermost FROM's: the counter row's, not the user row's.
        versions = FriendCount.objects.filter(user_id=user).annotate(
            version=RawSQL("xmin::text || '@' || ctid::text", ())
        )
        return Coalesce(Subquery(versions.values("version")[:1]), Value(""), output_field=CharField())

    return Concat(row_version(viewer_id), Value(":"), row_version(owner), output_field=CharField())


_PROFILE = PreparedQuery(_profile_query, sentinels=(SENTINEL, NAME_SENTINEL))


def relationship(*, viewer: AbstractBaseUser, other: AbstractBaseUser) -> Relationship:
    """What `viewer` and `other` are to each other: one query (`user_profile`'s), whatever either user's
    degree. `other` must be visible to the viewer (`user_visible_to`).

    Raises:
        NotFound: `other` is no longer visible to the viewer.
    """
    return user_profile(viewer=viewer, username=other.get_username()).relationship


@dataclass(frozen=True)
class Profile:
    """A user as `viewer` may see them: the page header and the API's `users/{username}/`."""

    user: AbstractBaseUser
    friend_count: int | None  # None: the owner does not show their friend list to the viewer
    relationship: Relationship
    share_count: int | None = None  # None: the viewer may not see the owner's shares (not a friend)
    # Changes whenever the viewer's or the owner's friends change; None on SQLite (`_friendships_version`).
    friendships_version: str | None = None

    @property
    def friends_visible(self) -> bool:
        return self.friend_count is not None


def user_profile(*, viewer: AbstractBaseUser, username: str) -> Profile:
    """One prepared query (`_profile_query`), whatever either user's degree. `friend_count` counts the
    list the viewer would be shown (`friendships_listed_to`), or is None when the owner hides it from the
    viewer (`_friend_list_shown`).

    Raises:
        NotFound: the user is not visible to the viewer (`user_visible_to`).
    """
    found = _PROFILE.rows(viewer.pk, username) if "\x00" not in username else []
    if not found:  # the same refusal as `user_visible_to`'s
        raise not_visible(username)
    row = found[0]
    n = len(_USER_FIELDS)
    user = _user_of(row[:n])
    since, incoming, outgoing, blocks_other, setting, count, share_count, version = row[n:]
    if user.pk == viewer.pk:
        rel = Relationship(True, None, None, None, False)
    else:
        rel = Relationship(False, since, incoming, outgoing, blocks_other)
    shown = _friend_list_shown(setting or DEFAULT_FRIEND_LIST_VISIBILITY, is_self=rel.is_self, is_friend=rel.is_friend)
    # The rule of `shares.selectors.shares_visible_to`: the owner and the owner's friends (read in this
    # same statement), the owner being active (a visible user is).
    shares_shown = rel.is_self or rel.is_friend
    return Profile(
        user=user,
        friend_count=count if shown else None,
        relationship=rel,
        share_count=share_count if shares_shown else None,
        friendships_version=version,
    )


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

    Reads only the cache and two prepared queries to show names, whatever the degree; it never computes
    nor enqueues (on None, the caller asks `suggestions.enqueue.suggestions_request_computation_rollback_unsafe`).
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
    # Blocked either way, dismissed, or a request pending either way (`_not_to_suggest_query`): a blocked
    # one is neither suggested nor named in a sample; the others may still be mutual friends in a sample.
    excluded = _NOT_TO_SUGGEST.rows(user.pk)
    hidden = {uid for uid, _ in excluded}
    blocked = {uid for uid, is_block in excluded if is_block}
    mentioned = list({uid for row in rows for uid in [row[0], *row[2]] if uid not in blocked})
    people, friends = {}, set()
    for pk, username, first_name, last_name, is_friend in _PEOPLE_WITH_FRIEND_FLAG.rows(user.pk, mentioned):
        people[pk] = Person(pk, username, first_name, last_name)
        if is_friend:
            friends.add(pk)
    results = []
    for uid, count, sample in rows:
        if uid not in people or uid in hidden or uid in friends:
            continue
        # Gone from the sample and the count: deleted, deactivated, unfriended or blocked either way since
        # (a block ends the friendship): no longer a mutual friend.
        shown = [people[m] for m in sample if m in friends]
        count -= len(sample) - len(shown)
        if count > 0:
            results.append(SuggestionView(people[uid], count, shown))
    return Cached(status="ready", computed_at=computed_at, results=results)


def mutual_friends_get(
    *,
    viewer: AbstractBaseUser,
    other: AbstractBaseUser,
    limit: int = MUTUAL_PAGE,
    offset: int = 0,
    version: str | None = None,
) -> Cached | None:
    """Mutual friends of the viewer and another user (only ever the viewer's own pair), or None when
    nothing fresh is cached (the caller then asks
    `suggestions.enqueue.mutual_friends_request_computation_rollback_unsafe`).

    `results` holds up to `limit` people (`Person`; a page of `MUTUAL_PAGE`, or a profile's
    `MUTUAL_PREVIEW`) from the `offset`-th on, smallest ids first; `count` counts them all. Only people
    listable to the viewer appear or count (`_mutual_listable`), as in `mutual_friend_count_get`, so
    `count` equals the number of people the whole list holds. One query (two for a page past the end).
    `version`, the pair's `Profile.friendships_version` when the caller read the profile first, lets a
    confirmation kept in the cache stand for the check (`_mutual_listable_at`): one cheaper query, or
    none for a page past the end.
    """
    try:
        entry = store.mutual_entry(viewer.pk, other.pk)
    except REDIS_DOWN as exc:
        return _cache_unavailable("mutual friends", exc)
    if entry is None:
        return None
    if version is None:
        listed, count = _mutual_listable(viewer, other, entry.ids, limit=limit, offset=offset)
    else:
        listed, count = _mutual_listable_at(viewer, other, entry, version, limit=limit, offset=offset)
    return Cached(status="ready", computed_at=entry.computed_at, results=listed, count=count)


def mutual_friend_count_get(
    *, viewer: AbstractBaseUser, other: AbstractBaseUser, version: str | None = None
) -> int | None:
    """How many mutual friends `mutual_friends_get` would list (the same filter), or None when nothing
    fresh is cached; never enqueues. One query on a hit (a page of one: the count is the same whatever the
    page's size); none with `version` (as `mutual_friends_get`'s) once a confirmation is kept at it."""
    try:
        entry = store.mutual_entry(viewer.pk, other.pk)
    except REDIS_DOWN as exc:
        logger.warning("mutual friend count not read: Redis unavailable (%s)", type(exc).__name__)
        return None
    if entry is None:
        return None
    if version is None:
        return _mutual_listable(viewer, other, entry.ids, limit=1)[1]
    return _mutual_listable_at(viewer, other, entry, version, limit=0, offset=0)[1]
