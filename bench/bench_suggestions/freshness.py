"""Part d: freshness. From the COMMIT of `friend_request_accept` until both users' cached suggestions are
fresh at a generation that includes the new friendship, one accept at a time against one real worker;
the median accept's recompute is replayed by phase. (Subscriber messages write no task record any more,
so the worker is watched through Redis: the dirty set, the drain flag and the task counters.)"""

from __future__ import annotations

import argparse
import math
import random
import time
from typing import Any

from bench.support.stats import median_laps, percentile

from .common import TARGET_D_P50_MS, TARGET_D_P99_MS, Row, log
from .one_user import recompute_phases, two_hop_what_ifs
from .pg import pg_connect

# --- d. freshness -----------------------------------------------------------------------------------------


def _worker_state() -> tuple:
    """What changes while the graph worker has work: the dirty set, the drain flag, the task counters."""
    from friends.suggestions.store import DIRTY, DRAIN_FLAG
    from socialsite.redis import get_redis
    from socialsite.taskstatus import COUNTERS_KEY

    pipe = get_redis().pipeline(transaction=False)
    pipe.scard(DIRTY).exists(DRAIN_FLAG).hgetall(COUNTERS_KEY)
    dirty, flag, counters = pipe.execute()
    return dirty, flag, tuple(sorted(counters.items()))


def wait_quiet(*, timeout: float = 120) -> float:
    """Until nothing is dirty, no drain is scheduled and no task finished for 50 ms; returns seconds."""
    started = time.monotonic()
    last, calm = None, 0
    while calm < 5:
        state = _worker_state()
        busy = state[0] or state[1] or state != last
        calm = 0 if busy else calm + 1
        last = state
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the worker did not go idle within {timeout:g} s")
        time.sleep(0.01)
    return time.monotonic() - started


def bench_d(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from friends import services
    from friends.friend_sets import friend_set_key
    from friends.models import Friendship
    from friends.suggestions import store
    from socialsite.redis import get_redis
    from socialsite.taskstatus import task_counters

    redis = get_redis()
    users = {u.pk: u for u in get_user_model().objects.filter(username__startswith="fb")}
    pool = sorted(users)
    random.Random(args.seed).shuffle(pool)
    pairs: list[tuple[int, int]] = []
    for i in range(0, len(pool) - 1, 2):  # distinct users, so each accept is measured on its own
        a, b = pool[i], pool[i + 1]
        if not Friendship.objects.filter(user_id=a, friend_id=b).exists():
            pairs.append((a, b))
        if len(pairs) == args.accepts:
            break
    log(f"[{args.child}] d. sending {len(pairs)} friend requests, then accepting them one at a time")
    requests = [services.friend_request_send(from_user=users[a], to_user=users[b]) for a, b in pairs]
    wait_quiet()

    def ready(a: int, b: int, before: tuple[int, int]) -> bool:
        fgens = [int(g or 0) for g in redis.mget(store.fgen_key(a), store.fgen_key(b))]
        if fgens[0] <= before[0] or fgens[1] <= before[1]:
            return False  # the friendship event has not been applied to the Redis copy yet
        for user, other in ((a, b), (b, a)):
            found = store.suggestions_cached(user)
            if found is None or any(row[0] == other for row in found[1]):
                return False
        return True

    samples: list[dict[str, Any]] = []
    for (a, b), request in zip(pairs, requests, strict=True):
        before = tuple(int(g or 0) for g in redis.mget(store.fgen_key(a), store.fgen_key(b)))
        affected = 2 + redis.sunionstore("bench:affected", [friend_set_key(a), friend_set_key(b)])
        stamps: list[float] = []
        started = time.perf_counter()
        with transaction.atomic():  # the service's own atomic block becomes a savepoint of this one
            # Registered before the service's publish callbacks, so it runs first, right after COMMIT.
            transaction.on_commit(lambda stamps=stamps: stamps.append(time.perf_counter()))
            services.friend_request_accept(request_id=request.pk, user=users[b])
        returned = time.perf_counter()
        committed = stamps[0]
        ready_at = math.inf
        while time.perf_counter() - committed < args.accept_timeout:
            if ready(a, b, before):
                ready_at = time.perf_counter()
                break
            time.sleep(0.002)
        idle_after = wait_quiet(timeout=120)
        samples.append(
            {
                "pair": (a, b),
                "affected": affected,
                "call_ms": (returned - started) * 1000,
                "publish_ms": (returned - committed) * 1000,
                "latency_ms": (ready_at - committed) * 1000,
                "from_call_ms": (ready_at - started) * 1000,
                "idle_after_s": idle_after,
            }
        )
    redis.delete("bench:affected")
    failed = sum(c.get("failed", 0) for c in task_counters().values())
    latencies = [s["latency_ms"] for s in samples]
    log(f"  p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, failed tasks {failed}")
    return {"samples": samples, "failed_tasks": failed, "profile": drain_profile(samples)}


def drain_profile(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Replay, in this process, the recompute of the median accept's affected users (one drain batch),
    phase by phase, and the same for the pair alone (what recomputing the two users first would cost)."""
    from friends.friend_sets import friend_set_key
    from socialsite.redis import get_redis

    sample = sorted(samples, key=lambda s: s["affected"])[len(samples) // 2]
    a, b = sample["pair"]
    batch = sorted({a, b} | {int(x) for x in get_redis().sunion(friend_set_key(a), friend_set_key(b))})
    out: dict[str, Any] = {"pair": (a, b), "batch_users": len(batch)}
    for label, users in (("batch", batch), ("pair", [a, b])):
        runs = [recompute_phases(users) for _ in range(3)]
        out[label] = {"phases": median_laps([laps for laps, _ in runs]), "two_hop_ids": runs[0][1]}
    conn = pg_connect()
    out["batch"]["what_if"] = two_hop_what_ifs(conn, batch, 5)
    conn.close()
    return out


def report_d(name: str, d: dict[str, Any]) -> list[Row]:
    samples = d["samples"]
    latencies = [s["latency_ms"] for s in samples]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    timeouts = sum(1 for x in latencies if math.isinf(x))
    print(f"\n  (d) freshness after friend_request_accept, {len(samples)} accepts, one worker (1 process x 4 threads)")
    print(
        f"  accept committed -> both users fresh: p50 {p50:.0f} ms, p90 {percentile(latencies, 90):.0f} ms, p99 "
        f"{p99:.0f} ms, max {max(latencies):.0f} ms, timeouts {timeouts}; failed tasks {d['failed_tasks']}\n"
        f"  from the start of the service call: p50 {percentile([s['from_call_ms'] for s in samples], 50):.0f} ms; "
        f"the call: p50 {percentile([s['call_ms'] for s in samples], 50):.1f} ms, of which after COMMIT (publishing "
        f"the events, confirms) p50 {percentile([s['publish_ms'] for s in samples], 50):.1f} ms"
    )
    by_size = sorted(samples, key=lambda s: s["affected"])
    third = max(1, len(by_size) // 3)
    for label, part in (
        ("smallest", by_size[:third]),
        ("middle", by_size[third:-third]),
        ("largest", by_size[-third:]),
    ):
        if part:
            print(
                f"  {label} third by affected users ({part[0]['affected']}-{part[-1]['affected']}): p50 "
                f"{percentile([s['latency_ms'] for s in part], 50):.0f} ms, idle again after p50 "
                f"{percentile([s['idle_after_s'] for s in part], 50) * 1000:.0f} ms"
            )
    prof = d.get("profile")
    if prof:
        for label in ("batch", "pair"):
            row = prof[label]
            users = prof["batch_users"] if label == "batch" else 2
            phases = "; ".join(f"{k} {v * 1000:.1f}" for k, v in row["phases"].items())
            total = sum(row["phases"].values()) * 1000
            print(
                f"  replayed suggestions_recompute of the median accept's {label} ({users} users, "
                f"{row['two_hop_ids']:,} two-hop ids): {total:.0f} ms = {phases}"
            )
        what_if = "; ".join(f"{k} {v * 1000:.1f} ms" for k, v in prof["batch"]["what_if"].items())
        print(f"      same batch, two-hop fetch alternatives: {what_if}")
    return [
        (
            f"[{name}] d. accept committed -> fresh p50",
            f"{p50:.0f} ms",
            f"<= {TARGET_D_P50_MS:g} ms",
            p50 <= TARGET_D_P50_MS,
        ),
        (
            f"[{name}] d. accept committed -> fresh p99",
            f"{p99:.0f} ms",
            f"<= {TARGET_D_P99_MS:g} ms",
            p99 <= TARGET_D_P99_MS,
        ),
    ]
