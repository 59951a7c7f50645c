"""The full rebuild of every active user's suggestions: load, compute and write as a pipeline.

The friendship table is read in a few round trips (on PostgreSQL one int8[] of packed pairs per block of
users, each friendship once: no Python object per row), the top-K of a batch of users at a time is
computed by compiled code (`graph.suggestion_batches`: rows of A·A by Gustavson's algorithm, a running
top-K, the samples, on two threads), encoded for the whole batch at once (`encode_batch`, the same text
as `store.encode`), and the results go to a writer thread through a short queue, in chunks written with
one compare-and-set script call each, while the next batch is computed. Memory is the edge arrays and
the CSR graph (O(friendships)) plus a few batches' results and O(users) scratch per thread: it does not
grow with the two-hop neighbourhoods.

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
    """The live friendships (both users active, `friends.live_graph`) as two parallel id arrays, in a few
    round trips; `graph.Graph.from_arrays` takes them as they come. ``active`` is `active_user_ids` (read
    here if not given).

    PostgreSQL: each friendship once, as its row with the smaller id first: the table's
    `friendship_symmetric` constraint (migration 0002) holds the other direction of every committed row,
    and reading it too only doubled the bytes to send and parse and the graph's build (ego-Facebook:
    88,234 rows read instead of 176,468; the server still scans the whole table). Each block of
    `LOAD_SPAN` user ids comes back as ONE int8[] value, a row's two ids in one int8 (``user_id << 32 |
    friend_id``: one aggregate, so the pairs cannot come apart), read by numpy without a Python object
    per row; the rows of inactive users are dropped here, by a look-up in ``active``, rather than by
    joining the user table twice in SQL: the joins took half of the server's time (ego-Facebook's
    176,468 rows: ~35 ms against ~130 ms for the joined string_agg of binary ids before; COPY sends one
    message per row, ~100 ms of Python to read them). Elsewhere (SQLite, without that constraint) both
    directions as stored, by the ORM's iterator on `live_friendships`.
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
                f"SELECT array_agg(user_id::int8 << 32 | friend_id) FROM {table}"
                " WHERE user_id >= %s AND user_id < %s AND user_id < friend_id",
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


def encode_batch(batch: graph.SuggestionBatch) -> list[str]:
    """Each user's list of a batch as `store.encode` writes it (the same text), written by compiled code
    for the whole batch at once (`graph_kernel.suggestion_json`): no Python object per suggestion or
    number, one ASCII text cut into the users' lists.

    (`store.encode` per user, through `Suggestion` tuples and `json.dumps`, cost 4x more than the format
    string filled from one flat tuple used before; that one took 18 ms for ego-Facebook's batches, this
    3 ms.) The tests compare both encodings on real data.
    """
    from ..graph_kernel import suggestion_json  # numba only where batches are computed (see `graph._batch`)

    text, offsets = suggestion_json(batch.bounds, batch.ids, batch.counts, batch.sample_bounds, batch.sample_ids)
    whole = text.tobytes().decode("ascii")
    cuts = offsets.tolist()
    return [whole[cuts[r] : cuts[r + 1]] for r in range(len(cuts) - 1)]


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
