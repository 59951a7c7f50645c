"""The full rebuild of every active user's suggestions: load, compute and write as a pipeline.

The friendship table is read in a few round trips (on PostgreSQL one bytea of binary ids per block of
users: two integer arrays, no Python object per row), the top-K of a batch of users at a time is computed
as arrays (`graph.suggestion_batches`, sparse A·A by rows, a dense mask of what each row may not
suggest), encoded for the whole batch at once (`encode_batch`, the same text as `store.encode`), and the
results go to a writer thread through a short queue, in chunks written with one compare-and-set script
call each, while the next batch is computed. Memory is the edge arrays and the CSR graph (O(friendships))
plus one batch and a few chunks in flight: it does not grow with the two-hop neighbourhoods.

Freshness as everywhere (see the package docstring): every user's generation is read before the data, and
the writes are compare-and-set, so a result computed while the graph changed is stored as stale and a
newer one is never overwritten.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np
import psycopg
from django.contrib.auth import get_user_model
from django.db import connection
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format

from socialsite.redis import get_redis

from .. import graph
from ..exclusions import exclusions_in_table
from ..live_graph import live_friendships
from ..models import Friendship
from . import store
from .compute import SAMPLE, TOP_K

User = get_user_model()

CHUNK = 500  # users per write (one script call)
LOAD_SPAN = 50_000  # user ids per block of the friendship table read at once (bounds one bytea value)
THREADS = 2  # batches computed at once (see `graph.suggestion_batches`)
IN_FLIGHT = 4  # chunks computed ahead of the writer at most: bounds the memory of results

# `store`'s compare-and-set write for many keys at once: KEYS are the users' `sugg:` keys, ARGV the
# timestamp then (generation, data) per key; each key is written unless it holds a newer generation.
_CAS_MANY = """
local now, written = ARGV[1], 0
for i = 1, #KEYS do
  local gen = ARGV[2 * i]
  local cur = redis.call('HGET', KEYS[i], 'gen')
  if not (cur and tonumber(cur) > tonumber(gen)) then
    redis.call('HSET', KEYS[i], 'gen', gen, 'computed_at', now, 'data', ARGV[2 * i + 1])
    written = written + 1
  end
end
return written
"""


class _RawBytes(Loader):
    """Loads a binary column as its bytes: an int8[] is parsed by numpy (`_int8_array`), not into a list."""

    format = Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


def _int8_array(value: bytes) -> np.ndarray:
    """A one-dimensional int8[] without NULLs in PostgreSQL's binary format: a 20-byte header (dimensions,
    NULL flag, element type, length, lower bound), then per element its length (4 bytes) and value."""
    elements = np.frombuffer(value, dtype=np.dtype([("length", ">i4"), ("value", ">i8")]), offset=20)
    return elements["value"].astype(np.int64)


def active_user_ids() -> np.ndarray:
    """The active users' ids, ascending (int64)."""
    ids = User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    return np.fromiter(ids.iterator(chunk_size=50_000), dtype=np.int64)


def friendship_arrays(active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The live friendship rows (both users active, `friends.live_graph`) as two parallel id arrays (both
    directions, as stored), in a few round trips. ``active`` is `active_user_ids` (read here if not given).

    PostgreSQL: each block of `LOAD_SPAN` user ids comes back as ONE int8[] value, a row's two ids in one
    int8 (``user_id << 32 | friend_id``: one aggregate, so the pairs cannot come apart), read by numpy
    without a Python object per row; the rows of inactive users are dropped here, by a look-up in
    ``active``, rather than by joining the user table twice in SQL: the joins took half of the server's
    time (ego-Facebook's 176,468 rows: ~35 ms against ~130 ms for the joined string_agg of binary ids
    before; COPY sends one message per row, ~100 ms of Python to read them). Elsewhere (SQLite) the ORM's
    iterator on `live_friendships`.
    """
    if connection.vendor != "postgresql":
        rows = live_friendships().values_list("user_id", "friend_id").iterator(chunk_size=50_000)
        pairs = np.fromiter(rows, dtype=np.dtype((np.int64, 2)))
        return pairs[:, 0], pairs[:, 1]
    active = active_user_ids() if active is None else active
    table = connection.ops.quote_name(Friendship._meta.db_table)
    connection.ensure_connection()
    blocks: list[np.ndarray] = []
    # Django's cursors bind on the client side, which cannot ask for binary results: a plain psycopg one.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.adapters.register_loader(cursor.adapters.types["int8"].array_oid, _RawBytes)
        lo, hi = cursor.execute(f"SELECT min(user_id), max(user_id) FROM {table}").fetchone()
        for first in range(lo, hi + 1, LOAD_SPAN) if lo is not None else ():
            cursor.execute(
                f"SELECT array_agg(user_id::int8 << 32 | friend_id) FROM {table} WHERE user_id >= %s AND user_id < %s",
                [first, first + LOAD_SPAN],
                binary=True,
            )
            (value,) = cursor.fetchone()
            if value:
                blocks.append(_int8_array(value))
    packed = np.concatenate(blocks) if blocks else np.empty(0, dtype=np.int64)
    src, dst = packed >> 32, packed & 0xFFFFFFFF
    live = _members(src, active) & _members(dst, active)
    return src[live], dst[live]


def _members(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_ids`` (ascending): a flag per id when the ids are dense enough (one
    gather), else a binary search."""
    if values.size == 0 or sorted_ids.size == 0:
        return np.zeros(values.shape, dtype=bool)
    top = int(max(values.max(), sorted_ids[-1]))
    if top < 8 * (values.size + sorted_ids.size):
        flags = np.zeros(top + 1, dtype=bool)
        flags[sorted_ids] = True
        return flags[values]
    return graph.in_sorted(values, sorted_ids)


def _entry_format(sampled: int) -> str:
    return "[%d, %d, [" + ", ".join(["%d"] * sampled) + "]]"


_ENTRY_FORMATS = np.array([_entry_format(m) for m in range(SAMPLE + 1)], dtype=object)


def encode_batch(batch: graph.SuggestionBatch) -> list[str]:
    """Each user's list of a batch as `store.encode` writes it (the same text), without a Python object per
    suggestion: one format string for the whole batch, filled from one flat tuple of its numbers.

    (`store.encode` per user, through `Suggestion` tuples and `json.dumps`, cost 4x more: 100 ms of the
    ego-Facebook rebuild.) The tests compare both encodings on real data.
    """
    lengths = np.diff(batch.sample_bounds)
    formats = _ENTRY_FORMATS[lengths].tolist()
    bounds = batch.bounds.tolist()
    users = ["[" + ", ".join(formats[bounds[r] : bounds[r + 1]]) + "]" for r in range(len(bounds) - 1)]
    starts = np.concatenate([[0], np.cumsum(2 + lengths)])
    flat = np.empty(int(starts[-1]), dtype=np.int64)
    flat[starts[:-1]] = batch.ids
    flat[starts[:-1] + 1] = batch.counts
    owner = np.repeat(np.arange(lengths.size), lengths)
    within = np.arange(owner.size) - batch.sample_bounds[:-1][owner]
    flat[starts[:-1][owner] + 2 + within] = batch.sample_ids
    return ("\n".join(users) % tuple(flat.tolist())).split("\n")


def suggestions_rebuild_all(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Every active user's suggestions from the friendship table (the full refresh), in bounded memory.

    Returns how many users were written; `progress(done, total)` is called about every 1,000 users and at
    the end. Raises whatever the writer thread met (a Redis error), after the computation stopped.
    """
    user_ids = active_user_ids()
    total = int(user_ids.size)
    gens: list[str] = []
    for start in range(0, total, 10_000):
        gens += [str(g) for g in store.suggestion_generations(user_ids[start : start + 10_000].tolist())]
    src, dst = friendship_arrays(user_ids)
    g = graph.Graph.from_arrays(src, dst, nodes=user_ids)
    del src, dst
    # graph index -> position among the active users (-1: a friendship of an inactive user, nobody reads it)
    active = np.full(g.n, -1, dtype=np.int64)
    active[np.searchsorted(g.ids, user_ids)] = np.arange(total)
    active_ids = user_ids.tolist()
    excluded = exclusions_in_table(None)
    now = store.now_stamp()

    chunks: queue.Queue[tuple[list[str], list[object]] | None] = queue.Queue(maxsize=IN_FLIGHT)
    failed: list[BaseException] = []
    write = get_redis().register_script(_CAS_MANY)

    def writer() -> None:
        while (chunk := chunks.get()) is not None:
            if failed:
                continue  # drain the queue so the producer never blocks
            try:
                write(keys=chunk[0], args=chunk[1])
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller below
                failed.append(exc)

    thread = threading.Thread(target=writer, name="suggestions-rebuild-writer", daemon=True)
    thread.start()
    count = reported = 0
    keys: list[str] = []
    args: list[object] = [now]
    first = 0
    try:
        for batch in graph.suggestion_batches(g, k=TOP_K, exclude=excluded, sample=SAMPLE, threads=THREADS):
            texts = encode_batch(batch)
            positions = active[first : first + len(texts)].tolist()
            first += len(texts)
            for position, text in zip(positions, texts, strict=True):
                if position < 0:
                    continue
                keys.append(store.sugg_key(active_ids[position]))
                args += (gens[position], text)
                count += 1
                if len(keys) == CHUNK:
                    chunks.put((keys, args))
                    keys, args = [], [now]
            if progress and count - reported >= 1000:
                progress(count, total)
                reported = count
            if failed:
                break
    finally:
        if keys and not failed:
            chunks.put((keys, args))
        chunks.put(None)
        thread.join()
    if failed:
        raise failed[0]
    if progress:
        progress(count, total)
    return count
