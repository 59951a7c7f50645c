"""Bulk import of a whole friend graph (demo data): users and friendships in a few large statements.

Why not `friendship_create` per edge: the SNAP ego-Facebook graph is 88,234 edges; a service call per
edge is a lock, two inserts and an outbox event each (minutes, and 88k pointless events). Here each phase
is one transaction of batched inserts that skip existing rows, so a re-run adds nothing. It emits no
domain events: the caller rebuilds the derived Redis copy afterwards (`friends.friend_sets.friend_sets_rebuild`),
as `manage.py load_graph` does.

The people get readable names and a past: a first and last name from Faker seeded per node, a join date
and, per friendship, a "friends since" date spread over the past years. All derive from the node ids and
fixed seeds only, so every machine and every run gives the same names and the same dates (relative to
the load's `now`), and a partial load (`--limit-nodes`) names each person as the full one does.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from faker import Faker

from .models import Block, Friendship

User = get_user_model()
T = TypeVar("T")

DEFAULT_DEMO_PASSWORD = "socialsite-demo"
SHIPPED_GRAPH = Path(__file__).resolve().parent / "data" / "facebook_combined.txt.gz"
BATCH_SIZE = 5_000
# Ids per `IN (...)` list: far below SQLite's variable limit, few round trips for thousands of users.
_IN_CHUNK = 500

# Fixed seeds: the demo's names and dates are the same on every machine and every run.
NAME_SEED = 4039
DATE_SEED = "socialsite-demo-dates"
NAME_LOCALE = "en_US"
# Demo users joined between 8 years and 30 days before the load; a friendship starts after both joined.
JOINED_SPAN = (timedelta(days=30), timedelta(days=8 * 365))

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`, phase "users" or "friendships"; called at the start and after each batch."""


@dataclass(frozen=True)
class LoadResult:
    nodes: int  # distinct node ids in the edge list (one user each)
    edges: int  # distinct undirected edges, self-loops dropped
    users_created: int
    rows_created: int  # friendship rows written by this run (two per new friendship)
    skipped_self_loops: int = 0
    skipped_duplicates: int = 0  # an edge listed again, in either direction
    skipped_blocked: int = 0  # pairs where one user blocks the other stay unfriended
    users_named: int = 0  # users of an earlier load without a name, named by this run

    @property
    def rows(self) -> int:
        return 2 * (self.edges - self.skipped_blocked)


def read_edge_file(path: str | Path) -> Iterator[tuple[int, int]]:
    """Yield `(u, v)` from a SNAP edge list, plain or gzipped (told by its magic bytes, not its name).

    Blank lines and `#` comments are skipped; a line that is not two integers is an error naming the line.
    """
    path = Path(path)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener: Callable[..., IO[str]] = gzip.open if gzipped else open
    with opener(path, "rt", encoding="ascii") as stream:
        for lineno, line in enumerate(stream, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                u, v = int(fields[0]), int(fields[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{lineno}: expected two integer node ids, got {line.strip()!r}") from None
            yield u, v


def edges_among_first_nodes(edges: Iterable[tuple[int, int]], *, limit: int) -> list[tuple[int, int]]:
    """The subgraph induced by the `limit` lowest node ids (SNAP ids 0..limit-1): a smaller demo."""
    edges = list(edges)
    keep = set(sorted({n for edge in edges for n in edge})[:limit])
    return [(u, v) for u, v in edges if u in keep and v in keep]


def demo_names(nodes: Iterable[int]) -> dict[int, tuple[str, str]]:
    """`{node: (first_name, last_name)}`: Faker seeded per node (`NAME_SEED + node`), so a node's name does
    not depend on which other nodes are loaded. About 0.25 ms a node."""
    fake = Faker(NAME_LOCALE)
    names = {}
    for node in nodes:
        fake.seed_instance(NAME_SEED + node)
        names[node] = (fake.first_name(), fake.last_name())
    return names


def _fraction(*key: object) -> float:
    """A number in [0, 1) that depends only on `key` and `DATE_SEED` (not on Python's per-run hash seed)."""
    digest = hashlib.blake2b(repr((DATE_SEED, *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def demo_joined(node: int, *, now: datetime) -> datetime:
    """When the demo user of `node` joined: between `JOINED_SPAN` before `now`, to the second."""
    low, high = JOINED_SPAN
    return (now - (low + (high - low) * _fraction("joined", node))).replace(microsecond=0)


def demo_friend_since(u: int, v: int, *, now: datetime) -> datetime:
    """When nodes `u` and `v` became friends: after both joined (plus a day), before `now` (less an hour)."""
    start = max(demo_joined(u, now=now), demo_joined(v, now=now)) + timedelta(days=1)
    end = now - timedelta(hours=1)
    return (start + (end - start) * _fraction("since", min(u, v), max(u, v))).replace(microsecond=0)


def graph_load(
    *,
    edges: Iterable[tuple[int, int]],
    username_prefix: str = "fb",
    password: str = DEFAULT_DEMO_PASSWORD,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
) -> LoadResult:
    """Create one user per node (`<prefix><id>`) and both friendship rows per edge; idempotent.

    New users get a name (`demo_names`) and a join date (`demo_joined`); users of an earlier load who have
    no name get theirs. New friendships start at `demo_friend_since`. Dates count back from `now` (default:
    the current time), so a fixed `now` gives the same data twice.

    Every new demo user gets the same password hash, computed once: these are demo accounts with a
    published password, so a per-user salt protects nothing, and hashing 4,039 times with the production
    hasher would take minutes. Existing users (and their passwords) are left as they are; existing rows
    are not written again. Emits no events and does not touch Redis: rebuild the friend sets afterwards.
    """
    now = now or timezone.now()
    pairs, self_loops, duplicates = _normalise(edges)
    nodes = sorted({n for pair in pairs for n in pair})
    names = demo_names(nodes)
    ids, users_created, users_named = _users_load(
        people={f"{username_prefix}{n}": (*names[n], demo_joined(n, now=now)) for n in nodes},
        password_hash=make_password(password),
        progress=progress,
        batch_size=batch_size,
    )
    by_node = {n: ids[f"{username_prefix}{n}"] for n in nodes}
    rows_created, blocked = _friendships_load(
        pairs={(by_node[u], by_node[v]): demo_friend_since(u, v, now=now) for u, v in pairs},
        progress=progress,
        batch_size=batch_size,
    )
    _analyze_postgresql(User, Friendship)
    return LoadResult(
        nodes=len(nodes),
        edges=len(pairs),
        users_created=users_created,
        rows_created=rows_created,
        skipped_self_loops=self_loops,
        skipped_duplicates=duplicates,
        skipped_blocked=blocked,
        users_named=users_named,
    )


def _normalise(edges: Iterable[tuple[int, int]]) -> tuple[list[tuple[int, int]], int, int]:
    """Undirected edges as `(low, high)`, first occurrence order; counts of self-loops and repeats."""
    seen: dict[tuple[int, int], None] = {}
    self_loops = duplicates = 0
    for u, v in edges:
        if u == v:
            self_loops += 1
            continue
        pair = (u, v) if u < v else (v, u)
        if pair in seen:
            duplicates += 1
        else:
            seen[pair] = None
    return list(seen), self_loops, duplicates


def _users_load(
    *,
    people: dict[str, tuple[str, str, datetime]],
    password_hash: str,
    progress: Progress | None,
    batch_size: int,
) -> tuple[dict[str, int], int, int]:
    """One transaction: create the missing users (`people`: username -> first name, last name, joined), and
    name the existing ones that have no name; returns every username's id, how many were new, how many
    were named."""
    usernames = list(people)
    with transaction.atomic():
        existing = _user_ids(usernames)
        missing = [name for name in usernames if name not in existing]
        _report(progress, "users", 0, len(missing))
        for done, batch in _batches(missing, batch_size):
            # `User(...)` fills the other model defaults (is_active, ...) as `create_user` would.
            User.objects.bulk_create(
                [
                    User(
                        username=name,
                        password=password_hash,
                        first_name=people[name][0],
                        last_name=people[name][1],
                        date_joined=people[name][2],
                    )
                    for name in batch
                ],
                ignore_conflicts=True,
            )
            _report(progress, "users", done, len(missing))
        named = _name_unnamed(existing, people, batch_size)
        # ignore_conflicts returns no primary keys, so read them back.
        ids = _user_ids(usernames) if missing else existing
    return ids, len(ids) - len(existing), named


def _name_unnamed(existing: dict[str, int], people: dict[str, tuple[str, str, datetime]], batch_size: int) -> int:
    """Give their demo name to existing users who have none (loaded before names existed); others keep theirs."""
    unnamed = []
    for _, chunk in _batches(list(existing.values()), _IN_CHUNK):
        unnamed += User.objects.filter(pk__in=chunk, first_name="", last_name="").only("pk", "username")
    for user in unnamed:
        user.first_name, user.last_name = people[user.username][:2]
    User.objects.bulk_update(unnamed, ["first_name", "last_name"], batch_size=batch_size)
    return len(unnamed)


def _user_ids(usernames: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for _, chunk in _batches(usernames, _IN_CHUNK):
        ids.update(User.objects.filter(username__in=chunk).values_list("username", "id"))
    return ids


def _friendships_load(
    *, pairs: dict[tuple[int, int], datetime], progress: Progress | None, batch_size: int
) -> tuple[int, int]:
    """One transaction, both directions of every pair (`(user id, user id) -> friends since`): PostgreSQL's
    deferred symmetric key checks it at commit.

    Returns (rows written, pairs skipped because of a block).
    """
    with transaction.atomic():
        user_ids = sorted({n for pair in pairs for n in pair})
        existing, blocked = _existing_rows_and_blocks(user_ids)
        kept = [(a, b) for a, b in pairs if (a, b) not in blocked and (b, a) not in blocked]
        rows = [row for a, b in kept for row in ((a, b), (b, a)) if row not in existing]
        _report(progress, "friendships", 0, len(rows))
        for done, batch in _batches(rows, batch_size):
            _friendship_rows_insert(batch, since=[pairs.get((a, b)) or pairs[b, a] for a, b in batch])
            _report(progress, "friendships", done, len(rows))
    return len(rows), len(pairs) - len(kept)


def _friendship_rows_insert(rows: Sequence[tuple[int, int]], *, since: Sequence) -> None:
    """INSERT the rows (`since[i]` is row i's `is_friend_since`), skipping any that exist (as
    `bulk_create(ignore_conflicts=True)`).

    On PostgreSQL as two arrays unnested into one INSERT: building 176,468 model instances and an SQL
    statement with three parameters per row is most of the load time otherwise."""
    if connection.vendor != "postgresql":
        Friendship.objects.bulk_create(
            [Friendship(user_id=a, friend_id=b, is_friend_since=t) for (a, b), t in zip(rows, since, strict=True)],
            ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    meta = Friendship._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("user", "friend", "is_friend_since"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "
            "SELECT pair.u, pair.f, pair.t FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS pair(u, f, t) "
            "ON CONFLICT DO NOTHING",
            [[a for a, _ in rows], [b for _, b in rows], list(since)],
        )


def _existing_rows_and_blocks(user_ids: list[int]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Friendship rows and blocks that start at one of these users (a superset of the pairs that matter)."""
    rows: set[tuple[int, int]] = set()
    blocks: set[tuple[int, int]] = set()
    for _, chunk in _batches(user_ids, _IN_CHUNK):
        rows.update(Friendship.objects.filter(user_id__in=chunk).values_list("user_id", "friend_id"))
        blocks.update(Block.objects.filter(blocker_id__in=chunk).values_list("blocker_id", "blocked_id"))
    return rows, blocks


def _analyze_postgresql(*models: type[Model]) -> None:
    """Refresh PostgreSQL's planner statistics, as its manual advises after a bulk load.

    Until autovacuum gets round to it, the planner believes the tables are as small as before the load
    and picks nested loops: a friend-of-friend join over the fresh graph then takes seconds, not ms.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _batches(items: Sequence[T], size: int) -> Iterator[tuple[int, Sequence[T]]]:
    """Consecutive slices, with how many items have been handed out once each slice is done."""
    for start in range(0, len(items), size):
        batch = items[start : start + size]
        yield start + len(batch), batch


def _report(progress: Progress | None, phase: str, done: int, total: int) -> None:
    if progress is not None:
        progress(phase, done, total)
