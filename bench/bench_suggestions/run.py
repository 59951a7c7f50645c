"""The suggestions benchmark's driver: the parent prepares each graph's database and runs one child
process per graph (Django binds one database per process); the child measures parts a-d and writes JSON;
the parent prints the tables and the summary of targets."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import bench_suggestions
from bench.support.services import add_service_options, ensure_vhost
from tests.support.processes import ROOT, ManagedProcess, start_rundramatiq

from .common import TARGET_C_DRIFT, WORKER_QUEUES, Row, log
from .freshness import bench_d, report_d
from .graphs import (
    DEFAULT_SYN_NODES,
    GraphSpec,
    bench_env,
    graph_facts,
    graph_specs,
    prepare_database,
    setup_graph_cache,
)
from .one_user import bench_b, report_b
from .pages import bench_c, report_c, start_server
from .rebuild import bench_a, report_a


def run_child(spec: GraphSpec, argv: list[str], *, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Measure one graph in its own process (Django binds one database per process)."""
    handle, out_path = tempfile.mkstemp(prefix=f"bench_sugg_{spec.name}_", suffix=".json")
    os.close(handle)
    cmd = [sys.executable, "-m", "bench.bench_suggestions", *argv, "--child", spec.name, "--json", out_path]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the child's finally stops its worker and server
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        code = -1
    except BaseException:
        proc.terminate()
        proc.wait(60)
        raise
    try:
        text = Path(out_path).read_text()
        result = json.loads(text) if text else {}
    finally:
        Path(out_path).unlink(missing_ok=True)
    if code != 0:
        result["error"] = f"child exited with {code}"
    return result


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    started = time.perf_counter()
    specs = graph_specs(args)
    names = ["facebook", "synthetic"] if args.graph == "both" else [args.graph]
    ensure_vhost(args.vhost)  # every child purges the bench queues
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = specs[name]
        env = bench_env(args, spec.database)
        setup = prepare_database(spec, fresh=args.fresh, env=env)
        results[name] = run_child(spec, argv, env=env, timeout=args.child_timeout)
        results[name]["label"] = spec.label
        results[name]["database"] = setup
    ok = print_report(results, args, time.perf_counter() - started)
    return 0 if ok else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_suggestions", description=bench_suggestions.__doc__.splitlines()[0]
    )
    parser.add_argument("--only", default="a,b,c,d", help="parts to run, comma-separated (default: a,b,c,d)")
    parser.add_argument("--graph", choices=("facebook", "synthetic", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="reload the databases even if reusable")
    parser.add_argument(
        "--syn-nodes", type=int, default=DEFAULT_SYN_NODES, help="users of the synthetic graph (try 300 for a trial)"
    )
    parser.add_argument("--runs", type=int, default=5, help="(a) product rebuild runs, ego-Facebook")
    parser.add_argument("--runs-large", type=int, default=2, help="(a) product rebuild runs, synthetic graph")
    parser.add_argument("--pg-runs", type=int, default=3, help="(a) PostgreSQL loop runs, ego-Facebook")
    parser.add_argument(
        "--pg-sample", type=int, default=40, help="(a) synthetic graph: the PG loops time every N-th user, x N"
    )
    parser.add_argument("--set-sql-large", action="store_true", help="(a) also run the set-based SQL on synthetic")
    parser.add_argument("--tracemalloc-large", action="store_true", help="(a) also trace a synthetic rebuild (+50 s)")
    parser.add_argument("--sql-timeout", type=float, default=120, help="(a) statement_timeout of the set-based SQL")
    parser.add_argument("--one-user-runs", type=int, default=50, help="(b) runs per series")
    parser.add_argument("--series-budget", type=float, default=10, help="(b) max seconds per series (>= 10 runs)")
    parser.add_argument("--duration", type=float, default=2, help="(c) seconds per load run")
    parser.add_argument("--rounds", type=int, default=10, help="(c) interleaved rounds over the pages")
    parser.add_argument("--connections", type=int, default=8, help="(c) concurrent keep-alive connections")
    parser.add_argument("--python-load", action="store_true", help="(c) use the Python generator even with wrk")
    parser.add_argument(
        "--extra-pages", action="store_true", help="(c) also /api/v1/me/ and the highest-degree user's pages (info)"
    )
    parser.add_argument("--accepts", type=int, default=100, help="(d) friend-request accepts")
    parser.add_argument("--accept-timeout", type=float, default=10, help="(d) give up on one accept after N s")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--child-timeout", type=float, default=1500, help="seconds before a graph's run is stopped")
    add_service_options(parser, database="socialsite_bench", redis_db=8, vhost="socialsite_bench")
    parser.add_argument("--child", choices=("facebook", "synthetic"), help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child_main(args: argparse.Namespace) -> int:
    import django

    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below
    only = set(args.only.split(","))
    out: dict[str, Any] = {"graph": args.child, "loadavg_before": os.getloadavg()}
    services: list[ManagedProcess] = []
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_sugg_{args.child}_"))
    started = time.perf_counter()
    try:
        out["setup"] = setup_graph_cache()
        facts = graph_facts()
        out["facts"] = {k: v for k, v in facts.items() if k not in ("user_ids", "degree")}
        log(
            f"[{args.child}] {facts['users']:,} users, {facts['edges']:,} friendships, degree median "
            f"{facts['median_degree']:g} max {facts['max_degree']:,}; friend sets rebuilt in "
            f"{out['setup']['friend_sets_s']:.1f} s"
        )
        if "a" in only:
            out["a"] = bench_a(args, facts)
        else:
            from friends.suggestions.rebuild import suggestions_rebuild_all

            suggestions_rebuild_all()
        if "b" in only:
            out["b"] = bench_b(args, facts)
        if "c" in only or ("d" in only and args.child == "facebook"):
            # The worker of part d (also serves the mutual-friends warm-up of c), at production log level.
            worker_env = {**os.environ, "DJANGO_LOG_LEVEL": "INFO"}
            worker = start_rundramatiq(
                env=worker_env, queues=WORKER_QUEUES, processes=1, threads=4, log_path=tmp / "worker.log"
            )
            services.append(worker)
        if "c" in only:
            server, port = start_server(tmp)
            services.append(server)
            out["c"] = bench_c(args, facts, port)
            server.stop()
            services.remove(server)
        if "d" in only and args.child == "facebook":
            out["d"] = bench_d(args)
    except Exception as exc:  # noqa: BLE001 - reported in the table; the finally still stops our processes
        import traceback

        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        for service in reversed(services):
            service.stop()
        out["loadavg_after"] = os.getloadavg()
        out["child_s"] = time.perf_counter() - started
        out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        Path(args.json).write_text(json.dumps(out, default=str))
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if "error" in out else 0


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else "PASS" if ok else "FAIL"


def print_report(results: dict[str, dict[str, Any]], args: argparse.Namespace, total_s: float) -> bool:
    """The tables, and a summary of every target; returns True when all targets pass."""
    summary: list[Row] = []  # (what, measured, target, ok; None: no target)
    c_ratios: dict[str, dict[str, float]] = {}
    for name, r in results.items():
        print(f"\n{'=' * 100}\n{r.get('label', name)}")
        if "error" in r:
            print(f"  ERROR: {r['error']}")
            summary.append((f"[{name}] run", r["error"], "completes", False))
        if "facts" not in r:
            continue
        f, setup, db = r["facts"], r["setup"], r.get("database", {})
        load = f"loaded in {db['load_s']:.0f} s" if db.get("loaded") else "reused"
        print(
            f"  {f['users']:,} users, {f['edges']:,} friendships, degree median {f['median_degree']:g} / max "
            f"{f['max_degree']:,}, {f['two_hop_paths']:,} two-hop paths; database {load}; friend sets rebuilt "
            f"in {setup['friend_sets_s']:.1f} s; load average {r['loadavg_before'][0]:.1f} -> "
            f"{r['loadavg_after'][0]:.1f} (2 cores); child {r['child_s']:.0f} s, max RSS {r['max_rss_mib']:.0f} MiB"
        )
        if "a" in r:
            summary += report_a(name, r["a"])
        if "b" in r:
            summary += report_b(name, r["b"])
        if "c" in r:
            rows, ratios = report_c(name, r["c"])
            summary += rows
            c_ratios[name] = ratios
        if "d" in r:
            summary += report_d(name, r["d"])
    if "facebook" in c_ratios and "synthetic" in c_ratios:
        for page in ("suggestions page", "mutual-friends API"):
            fb, syn = c_ratios["facebook"][page], c_ratios["synthetic"][page]
            drift = abs(syn - fb) / fb
            summary.append(
                (
                    f"[synthetic] c. {page} ratio vs ego-Facebook's",
                    f"{syn:.2f} vs {fb:.2f} ({drift:.0%} apart)",
                    f"within {TARGET_C_DRIFT:.0%}",
                    drift <= TARGET_C_DRIFT,
                )
            )
    print(f"\n{'=' * 100}\nSUMMARY (whole run {total_s / 60:.1f} min)")
    print(f"  {'what':<66} {'measured':<27} {'target':<14} verdict")
    for what, measured, target, ok in summary:
        print(f"  {what:<66} {measured:<27} {target:<14} {_verdict(ok)}")
    return all(ok is not False for *_, ok in summary)
