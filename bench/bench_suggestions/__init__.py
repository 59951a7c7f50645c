"""Full-stack benchmark of mutual friends and "people you may know" (issue 4).

    python -m bench.bench_suggestions                       # everything, both graphs (the acceptance run)
    python -m bench.bench_suggestions --only a,b --graph facebook
    python -m bench.bench_suggestions --help
    python -m bench.bench_suggestions --graph synthetic --syn-nodes 300 --only a,b,c ...   # a quick trial

Why: bench/bench_graph.py times the maths alone; this times what the product really runs, against
PostgreSQL, Redis, RabbitMQ, a real `rundramatiq` worker and a real HTTP server, next to the naive
PostgreSQL way of doing the same work, measured in the same run on the same machine:

a. full rebuild of every user's top-10, computed AND written to Redis: the product's
   `friends.suggestions.rebuild.suggestions_rebuild_all` (with its 3-id mutual samples) vs PostgreSQL one prepared
   query per user (the issue's query: friends of friends with counts, not self, not friends, ORDER BY
   count DESC, id LIMIT 10), written to Redis exactly as the product writes (same CAS script, JSON,
   pipelining). Target: product >= 25x faster (issue 12; issue 4 asked for 10x). Also timed once each:
   the same loop with the product's exclusions, and with exclusions + samples (= the product's lists),
   and one set-based statement (row_number per user; ego-Facebook only by default). Every variant's
   lists are checked equal to the product's. Peak memory: the rise of the RSS high-water mark in each
   run (+ tracemalloc on ego-Facebook); a phase profile of the product run with "what if" variants of
   its load.
b. one user's recompute in the worker path, `suggestions_recompute([uid])` (Redis friend sets in, result
   out), for the median-degree and the highest-degree user, vs a PostgreSQL single query + the same
   write, all interleaved: the issue's bare query, the same with the product's exclusions (the same top-10
   and counts: the target's baseline, worker <= 0.5x) and with samples too (the product's lists exactly);
   phase profile and "what if" variants of the two-hop fetch.
c. warm-cache `/suggestions/` and `/api/v1/users/<u>/mutual-friends/` (viewer: the median-degree user;
   other: their top suggestion) through gunicorn as the Procfile starts it (DEBUG off), loaded
   by `wrk` when installed (else a keep-alive thread-pool generator): requests/s and p50/p99, as a ratio
   to a minimal logged-in page: `/friends/` of a user with no friends, requests or blocks (the same
   session, auth, middleware and template machinery; four empty lists; no graph work), per round then
   the median of rounds. Target: >= 0.5, and on the larger graph within 10% of the ego-Facebook ratio.
d. freshness, ego-Facebook only: from the COMMIT of `friend_request_accept` (called here) until both
   users' `suggestions_cached` is fresh at a generation that includes the new friendship (their `fgen`
   moved past its value before the accept; the entry matches the current `sgen`) and neither suggests
   the other; one worker `rundramatiq --processes 1 --threads 4 --queues graph notifications default
   maintenance`; each accept alone (the worker idle before the next); the worker's task records give
   the timeline, and the median accept's recompute is replayed phase by phase. Target p50 <= 250 ms,
   p99 <= 1 s.

Graphs: the shipped ego-Facebook edge list, and `bench.bench_graph.synthetic_edges` (the same generator,
powerlaw_cluster_graph(40_000, 20, 0.3, seed=1) by default) written to a temp file; each is loaded with
`manage.py load_graph` into its own database (`<--database>_fb`, `<--database>_syn`, by default
`socialsite_bench_fb` and `socialsite_bench_syn`; `_syn<N>` for another `--syn-nodes`), then
VACUUM ANALYZE (what autovacuum would do; it gives PostgreSQL index-only scans, the fairest baseline).
A database is reused when its `bench_meta` signature matches and it is unchanged (no requests, blocks or
dismissals): d changes ego-Facebook, so it is reloaded every run (~15 s); the synthetic graph is loaded
once (~3-4 min, on top of the ~8 min of a run) and reused. Redis DB `--redis-db` (8) is flushed and the
friend sets rebuilt for each graph; RabbitMQ vhost `--vhost` (`socialsite_bench`, created when missing).
Every process this benchmark starts (one child per graph, the worker, the server) has its own process
group and is stopped. Exit status 0 when every target passes.

Modules: `run` (driver, child, summary), `graphs` (databases, friend sets, facts), `pg` (the PostgreSQL
baselines), one per part: `rebuild` (a), `one_user` (b), `pages` (c), `freshness` (d); shared helpers
in `bench.support` and `tests.support.processes`.
"""
