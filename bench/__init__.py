"""Benchmarks: each is a module run as `python -m bench.<name>` from the repository root.

    python -m bench.bench_suggestions   # mutual friends and suggestions, full stack (issue 4)
    python -m bench.bench_events        # outbox vs plain actor.send from on_commit (issue 3)
    python -m bench.bench_load_graph    # manage.py load_graph on SQLite and PostgreSQL (issue 2)
    python -m bench.bench_graph         # the graph maths alone: the product (compiled) vs networkx vs Python sets

Shared helpers are in `bench.support` (statistics and timing, databases, Redis, RabbitMQ vhosts, the
environment of Django child processes) and `tests.support.processes` (worker and server processes, the
same launcher the integration tests use). `bench.probes` is a Django app of probe actors, installed only
by `bench.settings`.
"""
