"""Querysets compiled to SQL once per process, then run with other parameters.

Building and compiling a queryset is pure Python and costs more than running it: the unread badge's
query (one visibility rule: blocks either way, inactive actors) took ~3.5 ms to build and compile
against 0.15 ms in PostgreSQL, on every page. A `PreparedQuery` builds the queryset once for sentinel
values (user ids, a username, a list of ids), keeps the SQL and the positions of those values among the
parameters, and then only executes: the SQL is still the one the queryset gives, so the rule is still
written once, in the selector.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

SENTINEL = 2_147_480_293  # an id (within int4, as ids may be) that no other parameter of a query equals
OTHER_SENTINEL = 2_147_480_281  # a second user id, for a query that names two users
NAME_SENTINEL = "\x00prepared-name"  # a string no real parameter equals (PostgreSQL text cannot hold NUL)
IDS_SENTINEL = (2_147_480_269,)  # a list of ids bound as one array parameter, see `friends.selectors._any_of`


class PreparedQuery:
    """`PreparedQuery(build, sentinels=(SENTINEL,))`: `build(*sentinels)` returns the queryset for those
    values (ids, names, `IDS_SENTINEL` for a list of ids); `rows(*values)` runs its compiled SQL for other
    values in their place and returns the rows (tuples, as `values_list` gives them).

    `outer`, when given, is SQL around the queryset's, with `{inner}` where that goes: for the one thing
    the ORM cannot say here, joining rows to a page of the queryset's after its LIMIT (the rule that picks
    the rows stays in the queryset). Its own parameters, if any, are placeholders after `{inner}`, given
    to `rows` as `tail` (a page's LIMIT and OFFSET, so one statement serves every page).

    Raises (on first use): ValueError when a sentinel does not appear among the compiled parameters, or
    `outer` has no `{inner}`; (on each use) ValueError when `tail` does not fill `outer`'s own placeholders.
    """

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        sentinels: Sequence[Any] = (SENTINEL,),
        using: str = "default",
        outer: str | None = None,
    ) -> None:
        self._build = build
        self._sentinels = tuple(sentinels)
        self._using = using
        self._outer = outer
        self._compiled: tuple[str, list[Any], list[tuple[int, int]]] | None = None
        self._tail = outer.split("{inner}", 1)[-1].count("%s") if outer is not None else 0

    def _which(self, value: Any) -> int | None:
        for which, sentinel in enumerate(self._sentinels):
            if type(value) is type(sentinel) and value == sentinel:
                return which
            if isinstance(sentinel, tuple) and isinstance(value, list | tuple) and tuple(value) == sentinel:
                return which
            if isinstance(sentinel, tuple) and isinstance(value, str) and value == json.dumps(list(sentinel)):
                return which  # a list of ids bound as JSON text (SQLite, which has no arrays)
        return None

    def _compile(self) -> tuple[str, list[Any], list[tuple[int, int]]]:
        if self._compiled is None:
            queryset = self._build(*(list(s) if isinstance(s, tuple) else s for s in self._sentinels))
            sql, params = queryset.query.get_compiler(self._using).as_sql()
            positions = [(i, w) for i, value in enumerate(params) if (w := self._which(value)) is not None]
            if {w for _, w in positions} != set(range(len(self._sentinels))):
                raise ValueError("the prepared queryset does not use every sentinel as a parameter")
            if self._outer is not None:
                if "{inner}" not in self._outer:
                    raise ValueError("`outer` must say where the queryset's SQL goes: {inner}")
                sql = self._outer.replace("{inner}", sql)
            self._compiled = (sql, list(params), positions)
        return self._compiled

    def rows(self, *values: Any, tail: Sequence[Any] = ()) -> list[tuple]:
        """The rows for these values (one per sentinel, in order) and `outer`'s own parameters (`tail`):
        one query."""
        if len(tail) != self._tail:
            raise ValueError(f"`outer` takes {self._tail} parameter(s) of its own, `tail` gave {len(tail)}")
        sql, params, positions = self._compile()
        params = [*params, *tail]
        for i, which in positions:
            value = values[which]
            # A list bound as JSON text where the compiled query took it so (SQLite), else as an array.
            params[i] = (
                json.dumps(list(value)) if isinstance(params[i], str) and isinstance(value, list | tuple) else value
            )
        with connections[self._using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
