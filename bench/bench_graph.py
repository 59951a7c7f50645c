"""Compute benchmark of friends.graph: "people you may know" for everybody, and for one user.

Why: the spec moves suggestions out of the request cycle; these figures say what the work costs and
which implementation to run in the actor. Three implementations of the same rule (friends of friends,
ranked by mutual count then ascending id, 3 smallest-id mutual friends as a sample) are timed on:

- the real ego-Facebook graph (4,039 users, 88,234 friendships, shipped in friends/data/), and
- a reproducible synthetic social graph, ``nx.powerlaw_cluster_graph(40_000, 20, 0.3, seed=1)``
  (~40k users, ~800k friendships, heavy-tailed degrees, clustered), generated here, saved nowhere.

a. top-10 for every user, compute only (building each structure is timed apart): the product
   (`suggestions_all`, batches of rows of A @ A by the compiled kernel, `friends.graph_kernel`),
   networkx, plain Python sets; median of N runs, ratio to the product, and the peak memory of the
   product path (tracemalloc, results streamed away).
b. one user's recompute (what an actor does after one friendship changes) for the median-degree and
   the highest-degree user: the product (`suggestions_for`, numpy), plain Python sets, networkx; median
   of 50 runs.

Every run's output is checked equal across implementations, so the timings compare the same work.
Run from the repository root: ``python -m bench.bench_graph`` (``--help`` for options). The
functions are importable (`run_compute_benchmarks`, `run_one_user_benchmarks`) so a later benchmark
can add the PostgreSQL + Redis variant next to them.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import platform
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import numba
import numpy as np
import scipy

from bench.support.stats import timed_series
from friends.graph import Graph, Suggestion, read_edge_list, suggestions_all, suggestions_for

ROOT = Path(__file__).resolve().parents[1]

FACEBOOK = ROOT / "friends" / "data" / "facebook_combined.txt.gz"
K = 10
SAMPLE = 3

Result = dict[int, list[Suggestion]]


# --- The two reference implementations (not product code) ------------------------------------------


def suggestions_for_sets(
    adj: dict[int, set[int]], user: int, *, k: int = K, exclude: Iterable[int] = (), sample: int = SAMPLE
) -> list[Suggestion]:
    """The plain-Python anchor: count friends of friends in a Counter over sets, heap the top k."""
    friends = adj.get(user, set())
    banned = set(exclude) | friends | {user}
    counts: Counter[int] = Counter()
    for friend in friends:
        counts.update(adj[friend])
    best = heapq.nsmallest(k, ((-c, v) for v, c in counts.items() if v not in banned))
    return [Suggestion(v, -c, tuple(sorted(friends & adj[v])[:sample])) for c, v in best]


def suggestions_for_networkx(g: nx.Graph, user: int, *, k: int = K, sample: int = SAMPLE) -> list[Suggestion]:
    """The networkx anchor: neighbours of neighbours counted through the graph API, common_neighbors for samples."""
    counts: Counter[int] = Counter()
    for friend in g.neighbors(user):
        counts.update(g.neighbors(friend))
    adjacent = g[user]
    best = heapq.nsmallest(k, ((-c, v) for v, c in counts.items() if v != user and v not in adjacent))
    return [Suggestion(v, -c, tuple(sorted(nx.common_neighbors(g, user, v))[:sample])) for c, v in best]


# --- Helpers -------------------------------------------------------------------------------------------


def synthetic_edges(n: int = 40_000, m: int = 20, p: float = 0.3, seed: int = 1) -> np.ndarray:
    """A reproducible heavy-tailed, clustered social graph (Holme-Kim), as an (edges, 2) array."""
    return np.array(nx.powerlaw_cluster_graph(n, m, p, seed=seed).edges(), dtype=np.int64)


def _adjacency_sets(edges: np.ndarray) -> dict[int, set[int]]:
    adj: dict[int, set[int]] = {}
    for u, v in edges.tolist():
        if u != v:
            adj.setdefault(u, set()).add(v)
            adj.setdefault(v, set()).add(u)
    return adj


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Run ``fn`` ``runs`` times; return every wall time (s) and the last result."""
    times, result = [], None
    for _ in range(runs):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def _product_all(graph: Graph, batch_size: int = 512) -> Result:
    return dict(suggestions_all(graph, k=K, batch_size=batch_size, sample=SAMPLE))


def _sets_all(adj: dict[int, set[int]]) -> Result:
    return {u: suggestions_for_sets(adj, u) for u in sorted(adj)}


def _networkx_all(g: nx.Graph) -> Result:
    return {u: suggestions_for_networkx(g, u) for u in sorted(g.nodes)}


def product_peak_memory(edges: np.ndarray, batch_size: int = 512) -> tuple[float, float]:
    """Peak traced memory (MiB) of building the Graph and streaming every user's top-k, and the time.

    Results are consumed and dropped as they come, as the refresh actor writes them out, so the peak
    is the working set of one batch plus the graph, not the size of the answer.
    """
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    graph = Graph.from_edges(edges)
    for _user, _suggestions in suggestions_all(graph, k=K, batch_size=batch_size, sample=SAMPLE):
        pass
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, elapsed


# --- The benchmarks ----------------------------------------------------------------------------------


def run_compute_benchmarks(
    edges: np.ndarray,
    *,
    runs: int = 5,
    slow_runs: int | None = None,
    batch_sizes: Iterable[int] = (512,),
) -> dict[str, Any]:
    """(a) Top-k for every user: the product vs networkx vs plain sets, compute only. Returns the figures."""
    slow_runs = runs if slow_runs is None else slow_runs
    out: dict[str, Any] = {}

    t0 = time.perf_counter()
    graph = Graph.from_edges(edges)
    out["build_product_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_edges_from(edges.tolist())
    out["build_networkx_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    adj = _adjacency_sets(edges)
    out["build_sets_s"] = time.perf_counter() - t0
    out["users"], out["edges"] = graph.n, graph.edge_count
    degrees = np.diff(graph.adjacency.indptr)
    out["max_degree"], out["median_degree"] = int(degrees.max()), float(np.median(degrees))

    product_times, reference = _timed(lambda: _product_all(graph), runs)
    sets_times, by_sets = _timed(lambda: _sets_all(adj), slow_runs)
    if by_sets != reference:
        raise AssertionError("plain-sets results differ from the product results")
    del by_sets
    nx_times, by_nx = _timed(lambda: _networkx_all(g), slow_runs)
    if by_nx != reference:
        raise AssertionError("networkx results differ from the product results")
    del by_nx
    product_median = statistics.median(product_times)
    out["all_users"] = {
        name: {
            "runs": len(times),
            "median_s": statistics.median(times),
            "ratio": statistics.median(times) / product_median,
        }
        for name, times in (("product", product_times), ("networkx", nx_times), ("python sets", sets_times))
    }

    out["product_batches"] = {}
    for batch_size in batch_sizes:
        peak_mib, traced_s = product_peak_memory(edges, batch_size)
        out["product_batches"][batch_size] = {"peak_mib": peak_mib, "traced_s": traced_s}
    out["one_user"] = run_one_user_benchmarks(graph, adj, g)
    return out


def run_one_user_benchmarks(graph: Graph, adj: dict[int, set[int]], g: nx.Graph, *, runs: int = 50) -> dict[str, Any]:
    """(b) One user's recompute for the median-degree and the highest-degree user, median ms of ``runs``."""
    by_degree = sorted(adj, key=lambda u: (len(adj[u]), u))
    picks = {"median-degree": by_degree[len(by_degree) // 2], "highest-degree": by_degree[-1]}
    out: dict[str, Any] = {}
    for label, user in picks.items():
        expected = suggestions_for(graph, user)
        row: dict[str, Any] = {"user": user, "degree": len(adj[user])}
        for name, fn in (
            ("product", lambda user=user: suggestions_for(graph, user)),
            ("python sets", lambda user=user: suggestions_for_sets(adj, user)),
            ("networkx", lambda user=user: suggestions_for_networkx(g, user)),
        ):
            if fn() != expected:
                raise AssertionError(f"{name} differs from the product for user {user}")
            row[name] = statistics.median(timed_series(fn, runs=runs)) * 1000
        out[label] = row
    return out


# --- Report --------------------------------------------------------------------------------------------


def print_report(name: str, figures: dict[str, Any]) -> None:
    f = figures
    print(
        f"\n## {name}: {f['users']:,} users, {f['edges']:,} friendships, degree median {f['median_degree']:g}, "
        f"max {f['max_degree']:,}"
    )
    print(
        f"build (not in timings): product Graph {f['build_product_s']:.2f} s, networkx {f['build_networkx_s']:.2f} s, "
        f"sets {f['build_sets_s']:.2f} s"
    )
    print("\n(a) top-10 + 3-id sample for every user, compute only")
    print(f"{'implementation':<14} {'runs':>4} {'median s':>10} {'x product':>8}")
    for impl, row in f["all_users"].items():
        print(f"{impl:<14} {row['runs']:>4} {row['median_s']:>10.3f} {row['ratio']:>8.1f}")
    print("\nproduct path, Graph build + streamed results, traced peak memory (tracemalloc):")
    print(f"{'batch_size':>10} {'peak MiB':>9} {'s (traced)':>11}")
    for batch_size, row in f["product_batches"].items():
        print(f"{batch_size:>10} {row['peak_mib']:>9.1f} {row['traced_s']:>11.2f}")
    print("\n(b) one user's recompute, median of 50 runs, ms")
    print(f"{'user':<16} {'id':>6} {'degree':>6} {'product':>8} {'sets':>8} {'networkx':>9}")
    for label, row in f["one_user"].items():
        print(
            f"{label:<16} {row['user']:>6} {row['degree']:>6} {row['product']:>8.2f} {row['python sets']:>8.2f} "
            f"{row['networkx']:>9.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each implementation on ego-Facebook")
    parser.add_argument("--large-runs", type=int, default=3, help="product runs on the synthetic graph")
    parser.add_argument("--large-slow-runs", type=int, default=1, help="networkx / sets runs on the synthetic graph")
    parser.add_argument("--skip-large", action="store_true", help="ego-Facebook only")
    args = parser.parse_args(argv)

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"numba {numba.__version__}, "
        f"networkx {nx.__version__}, {platform.machine()}"
    )
    facebook = run_compute_benchmarks(read_edge_list(FACEBOOK), runs=args.runs, batch_sizes=(128, 512, 4096))
    print_report("ego-Facebook (SNAP)", facebook)
    if not args.skip_large:
        t0 = time.perf_counter()
        edges = synthetic_edges()
        print(f"\n(generated powerlaw_cluster_graph(40_000, 20, 0.3, seed=1) in {time.perf_counter() - t0:.1f} s)")
        large = run_compute_benchmarks(
            edges, runs=args.large_runs, slow_runs=args.large_slow_runs, batch_sizes=(128, 512, 2048)
        )
        print_report("synthetic powerlaw-cluster", large)
    print(
        f"\nprocess max RSS (all implementations, whole run): "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
