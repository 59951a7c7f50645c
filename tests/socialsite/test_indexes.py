"""No index of the project's tables is redundant: none is a leading part of another index of the same
table (same columns in the same order, same operator classes), unless it is unique or partial, which the
longer one cannot stand in for.

Every index is written on each insert (a share's fan-out writes one notification per friend, a friendship
two rows), and a redundant one also misleads the planner: with `ForeignKey`'s own index on
`friendship.user_id` beside the (user_id, friend_id) unique index, a profile's friend count read a hub's
3,083 rows from the table instead of the index alone.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's catalogue")

PROJECT_APPS = ("accounts", "friends", "notifications", "socialsite")

_INDEXES = """
SELECT c.relname, i.indexrelid::regclass::text, i.indisunique, i.indpred IS NOT NULL,
       i.indexprs IS NOT NULL, i.indkey::int2[]::int[], i.indclass::oid[]::int[], i.indoption::int2[]::int[]
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relname = ANY(%s)
"""


def _project_tables() -> list[str]:
    return [
        model._meta.db_table
        for name in PROJECT_APPS
        for model in apps.get_app_config(name).get_models()
        if model._meta.managed
    ]


def redundant_indexes(rows: list[tuple]) -> list[tuple[str, str, str]]:
    """(table, redundant index, the index that covers it) for each non-unique, non-partial index over plain
    columns whose keys (column, operator class, sort order) lead another index of the same table."""
    found = []
    for table, name, unique, partial, expressions, keys, classes, options in rows:
        if unique or partial or expressions:
            continue
        mine = list(zip(keys, classes, options, strict=True))
        for other_table, other, _, other_partial, _, other_keys, other_classes, other_options in rows:
            if other_table != table or other == name or other_partial:
                continue
            theirs = list(zip(other_keys, other_classes, other_options, strict=True))
            if len(theirs) >= len(mine) and theirs[: len(mine)] == mine:
                found.append((table, name, other))
    return found


@pytest.mark.django_db
def test_no_index_of_the_project_is_a_leading_part_of_another():
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES, [_project_tables()])
        rows = cursor.fetchall()
    assert {row[0] for row in rows} >= {"friends_friendship", "friends_block", "notifications_notification"}
    assert redundant_indexes(rows) == []


def test_the_check_finds_a_foreign_key_index_that_a_unique_pair_leads():
    """The rule itself, on the shape the friendship table had: (user_id) beside (user_id, friend_id)."""
    rows = [
        ("friendship", "user_id_idx", False, False, False, [4], [1978], [0]),
        ("friendship", "unique_pair", True, False, False, [4, 3], [1978, 1978], [0, 0]),
        ("friendship", "friend_id_idx", False, False, False, [3], [1978], [0]),
        ("friendship", "since_idx", False, False, False, [4, 2], [1978, 3127], [0, 3]),
        ("outbox", "name_idx", False, False, False, [2], [3126], [0]),
        ("outbox", "name_like", False, False, False, [2], [4218], [0]),  # another operator class: not covered
    ]
    assert redundant_indexes(rows) == [
        ("friendship", "user_id_idx", "unique_pair"),
        ("friendship", "user_id_idx", "since_idx"),
    ]
