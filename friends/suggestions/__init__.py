"""Mutual friends and "people you may know": computed off the request, cached in Redis, never stale.

Five modules, one job each:

- `store`      the key scheme, compare-and-set writes and the fresh-or-nothing reads (pages and API).
- `freshness`  generations, the dirty set and its drain: which cached results an event makes stale.
- `compute`    the computations, reading the Redis friend sets and exclusion sets.
- `enqueue`    asking for a computation when a reader found nothing fresh (published directly).
- `rebuild`    the full rebuild of everybody's suggestions: load, compute and write as a pipeline.

The Redis copy of the friend graph they read is `friends.friend_sets`, the exclusions
`friends.exclusions`; the services the actors call,
in the order that matters, are in `friends.graph_cache`.

Keys (all derived, all rebuildable from the database by `graph_cache.graph_cache_rebuild`):

- ``friends:<u>`` / ``flist:<u>``  u's friend ids as a set and a packed int32 list (`friends.friend_sets`).
- ``excl:<u>``     ids never suggested to u: blocked either way, pending either way, dismissed
  (`friends.exclusions`; ``excl:built`` says they were built).
- ``fgen:<u>``     generation of u's friend set; bumped whenever u gains or loses a friend.
- ``sgen:<u>``     generation of u's suggestions; bumped whenever anything they depend on changes:
  u's friends, a friend's friends, a block, a pending request or a dismissal involving u.
- ``sugg:<u>``     hash {gen, computed_at, data}: u's top-K suggestions computed at generation ``gen``.
- ``mutual:<lo>:<hi>``  hash {gens, computed_at, data}: mutual friends of the pair, at "fgen(lo):fgen(hi)".
- ``dirty:sugg``   set of users whose suggestions must be recomputed; drained in batches by one actor.
- ``drain:sugg``   "a drain is already enqueued" (SET NX), so a burst of events costs one message.
- ``pending:…``    "a computation for this reader's miss is enqueued", per generation (`enqueue`).
- ``graph:built:2``  the friend sets were built from the database (`friends.friend_sets.BUILT`); missing after
  Redis lost its data: nothing reads as fresh, no result is stored, and the repair is asked for
  (``graph:repair:pending``, one at a time; `graph_cache.graph_state_check`).
- ``lock:graph:rebuild`` / ``lock:pair:<what>:<lo>:<hi>``  one rebuild at a time; one sync of a pair at a time.

Freshness: a reader takes a result as fresh only when its stamp equals the current generation(s), read in
the same round trip. A computation reads the generation *before* the data it uses, so a change that lands
while it runs leaves it stamped with the older generation, i.e. stale, and the change has already marked
the user dirty again. Writes are compare-and-set on the generation, so a slow old computation never
overwrites a newer result.

Coalescing: an event bumps generations and adds the affected users to ``dirty:sugg`` (one pipeline, one
message whatever the number of users); a single drain is scheduled (``SET NX``) and recomputes each dirty
user once, however many events touched them.
"""
