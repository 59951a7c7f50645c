"""The list pages' reads, compiled to SQL once per process and run as plain rows.

Building and compiling a queryset is pure Python and costs more than running it (`socialsite.prepared`):
`/friends/` compiled eight querysets per request (four lists, each a count and a slice), and loaded 50
friendships with 50 whole user rows as model instances, to print four strings a row. Here each list is
still the selector's queryset (`friends.selectors`: the visibility rule stays written once, there), built
once for sentinel user ids and compiled; a request binds the real ids and runs the SQL: the counts of a
page in one query, and a page of rows as tuples of the few columns a row shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import QuerySet

from accounts import people

from . import selectors
from .shares import selectors as shares_selectors

User = get_user_model()

# Ids (within int4) that no other parameter of these queries equals; one per user a query names.
SENTINELS = (2_147_480_293, 2_147_480_281)


class CompiledQuery:
    """`CompiledQuery(build, columns)`: `build(*user_ids)` returns the queryset for those users (one to
    two); the query is compiled once, for sentinel ids, selecting only `columns` (`values_list` names).
    `sql(*user_ids)` gives the SQL and parameters for real ids, `count_sql` the same wrapped in a count,
    or, given `count`, the query `count(*user_ids)` returns: one row holding the number of rows (a count
    kept elsewhere, that need not read them)."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        columns: Sequence[str],
        *,
        users: int = 1,
        count: Callable[..., QuerySet] | None = None,
    ) -> None:
        self._build = build
        self._columns = tuple(columns)
        self._users = users
        self._count = count
        self._compiled: dict[bool, tuple[str, list[Any], list[tuple[int, int]]]] = {}

    def _compile(self, *, count: bool) -> tuple[str, list[Any], list[tuple[int, int]]]:
        if count not in self._compiled:
            ids = SENTINELS[: self._users]
            if count and self._count is not None:
                queryset = self._count(*ids)
            elif count:  # neither the order (PostgreSQL would sort every row) nor the columns
                queryset = self._build(*ids).order_by().values_list("pk")
            else:
                queryset = self._build(*ids).values_list(*self._columns)
            sql, params = queryset.query.get_compiler("default").as_sql()
            positions = [(i, SENTINELS.index(v)) for i, v in enumerate(params) if v in SENTINELS]
            if {which for _, which in positions} != set(range(self._users)):
                raise ValueError("the compiled queryset does not use every user id as a parameter")
            if count and self._count is None:
                sql = f"SELECT count(*) FROM ({sql}) AS listed"
            self._compiled[count] = (sql, list(params), positions)
        return self._compiled[count]

    def _bind(self, user_ids: tuple[int, ...], *, count: bool) -> tuple[str, list[Any]]:
        sql, params, positions = self._compile(count=count)
        params = list(params)
        for i, which in positions:
            params[i] = user_ids[which]
        return sql, params

    def sql(self, *user_ids: int) -> tuple[str, list[Any]]:
        """The SQL (ordered as the selector orders) and its parameters for these user ids."""
        return self._bind(user_ids, count=False)

    def count_sql(self, *user_ids: int) -> tuple[str, list[Any]]:
        """`SELECT count(*)` of the same rows, and its parameters."""
        return self._bind(user_ids, count=True)


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def counts(*lists: tuple[CompiledQuery, tuple[int, ...]]) -> list[int]:
    """The row counts of several lists (each a query and its user ids) in one query."""
    parts, params = [], []
    for query, ids in lists:
        sql, more = query.count_sql(*ids)
        parts.append(f"({sql})")
        params.extend(more)
    return list(_rows("SELECT " + ", ".join(parts), params)[0])


class Listed:
    """One list of a page as `django.core.paginator.Paginator` takes it: the count known beforehand
    (from `counts`, or a count the page already has), and a slice fetched by `fetch(offset, limit)`; an
    empty slice fetches nothing. `compiled` and `queryset` make the two kinds of fetch."""

    def __init__(self, fetch: Callable[[int, int], list], count: int) -> None:
        self._fetch = fetch
        self._count = count

    @classmethod
    def compiled(
        cls, query: CompiledQuery, user_ids: tuple[int, ...], count: int, make: Callable[..., Any] | None = None
    ) -> Listed:
        """Rows of `query` for these users (tuples of its columns, or `make(*columns)` each), one query
        with LIMIT and OFFSET."""

        def fetch(offset: int, limit: int) -> list:
            sql, params = query.sql(*user_ids)
            rows = _rows(f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset])
            return rows if make is None else [make(*row) for row in rows]

        return cls(fetch, count)

    @classmethod
    def queryset(cls, build: Callable[[], QuerySet], count: int) -> Listed:
        """Model instances of the queryset `build()` returns (its slice: one query), its count known
        beforehand. The queryset is built only when a slice is fetched: building one is pure Python that
        costs more than a small query (a millisecond for the feed's), wasted on an empty list."""
        return cls(lambda offset, limit: list(build()[offset : offset + limit]), count)

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("a list page takes a plain slice")
        start = index.start or 0
        stop = self._count if index.stop is None else min(index.stop, self._count)
        return self._fetch(start, stop - start) if stop > start else []


Person = selectors.Person  # a listed user (the selectors list the same shape)


@dataclass(frozen=True, slots=True)
class ListedFriendship:
    """A row of `FRIENDS`: the friend and since when (read like a `Friendship` with its friend loaded)."""

    friend: Person
    is_friend_since: datetime

    @property
    def friend_id(self) -> int:
        return self.friend.pk

    @classmethod
    def of(cls, pk: int, username: str, first_name: str, last_name: str, since: datetime) -> ListedFriendship:
        return cls(Person(pk, username, first_name, last_name), since)


def _user(pk: int) -> Any:
    return User(pk=pk)


_NAMES = ("username", "first_name", "last_name")  # = people.NAME_FIELDS, the columns a person's name needs
assert _NAMES == people.NAME_FIELDS

# (friend id, username, first name, last name, friends since): `owner`'s friends as `viewer` is shown
# them (`ListedFriendship.of` makes a row of them).
FRIENDS = CompiledQuery(
    lambda viewer, owner: selectors.friendships_listed_to(viewer=_user(viewer), owner=_user(owner)),
    ["friend_id", *(f"friend__{n}" for n in _NAMES), "is_friend_since"],
    users=2,
    count=selectors.friend_list_count_query,  # from the owner's stored count, not row by row
)
# (request id, username, first name, last name, sent at): requests to / from the user, still pending.
INCOMING = CompiledQuery(
    lambda uid: selectors.friend_requests_of(user=_user(uid), direction="incoming"),
    ["id", *(f"from_user__{n}" for n in _NAMES), "created_at"],
)
OUTGOING = CompiledQuery(
    lambda uid: selectors.friend_requests_of(user=_user(uid), direction="outgoing"),
    ["id", *(f"to_user__{n}" for n in _NAMES), "created_at"],
)
# (username, first name, last name, since): the people the user blocks.
BLOCKS = CompiledQuery(
    lambda uid: selectors.blocks_of(user=_user(uid)),
    [*(f"blocked__{n}" for n in _NAMES), "created_at"],
)
# (id,): the shares on `user`'s home feed (counted with the page's other counts; the page of shares
# itself is model instances, `shares_selectors.shares_feed`).
FEED = CompiledQuery(lambda uid: shares_selectors.shares_feed(viewer=_user(uid)), ["id"])
