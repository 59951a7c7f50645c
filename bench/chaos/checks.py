"""The checks after the load: answered writes have their effects, notifications exist exactly once, nothing
is left unpublished or dead-lettered, and the derived data (friend sets in Redis, suggestions and mutual
friends as the API serves them) converges to a fresh computation (`reference`) within a bound.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import redis

from .load import Http, World, pair
from .reference import Snapshot

ACCEPTED, SENT = "friend_request.accepted", "friend_request.sent"
ORPHAN_AGE_S = 60  # a task record still "enqueued" this long after the load is an orphan


@dataclass
class Effects:
    """Answered writes against the database: `checked` facts, `missing` ones (described), and the pairs left
    out because a write on them had an unknown outcome."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    uncertain_pairs: int = 0


def check_effects(world: World, snap: Snapshot) -> Effects:
    """Every sign-up answered 201 exists; every request answered 201 exists between its two users in the
    state the answered writes left it (accepted, or pending); every pair's friendship is as the answered
    accepts and unfriends (and the seed) say."""
    out = Effects(uncertain_pairs=len(world.uncertain))
    names = set(snap.users.values())
    for username in world.signed_up:
        out.checked += 1
        if username not in names:
            out.missing.append(f"sign-up {username}: no such active user")
    for record in world.requests.values():
        out.checked += 1
        row = snap.requests.get(record.id)
        if row is None or row[:2] != (record.from_id, record.to_id):
            out.missing.append(f"request {record.id}: missing or between other users ({row})")
            continue
        if pair(record.from_id, record.to_id) in world.uncertain:
            continue
        expected = "accepted" if record.accepted else "pending"
        if row[2] != expected:
            out.missing.append(f"request {record.id}: {row[2]}, answered writes say {expected}")
    for a in world.friends:
        for b in set(world.friends[a]) | snap.friends.get(a, set()):
            if a >= b or pair(a, b) in world.uncertain or b not in world.friends:
                continue
            out.checked += 1
            want, have = b in world.friends[a], b in snap.friends.get(a, set()) and a in snap.friends.get(b, set())
            if want != have:
                last = world.last_write.get(pair(a, b), "seed")
                out.missing.append(f"pair {a}-{b}: friends={have} in the database, {want} after its last {last}")
    return out


@dataclass
class Notifications:
    expected: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    skipped_sent: int = 0  # requests accepted before the "sent" notification was handled: none is due


def check_notifications(url: str, world: World, snap: Snapshot) -> Notifications:
    """Per request answered 201: exactly one "accepted" notification to its sender once accepted, exactly one
    "sent" notification to its receiver while pending; never two of one kind for one request."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT friend_request_id, kind, count(*) FROM notifications_notification "
            "WHERE friend_request_id IS NOT NULL GROUP BY 1, 2"
        ).fetchall()
    counts = {(r, k): n for r, k, n in rows}
    out = Notifications()
    for (request_id, kind), n in counts.items():
        if n > 1:
            out.duplicated.append(f"request {request_id}: {n} x {kind}")
    for record in world.requests.values():
        state = snap.requests.get(record.id, (0, 0, "missing"))[2]
        if state == "accepted":
            due = [ACCEPTED]
            out.skipped_sent += counts.get((record.id, SENT), 0) == 0
        elif state == "pending":
            due = [SENT]
        else:
            continue
        for kind in due:
            out.expected += 1
            if counts.get((record.id, kind), 0) == 0:
                out.missing.append(f"request {record.id} ({state}): no {kind} notification")
    return out


@dataclass
class Backlog:
    unpublished_events: int
    failed_tasks: int  # dead-lettered task records
    orphan_tasks: int  # "enqueued" records older than ORPHAN_AGE_S


def backlog(url: str) -> Backlog:
    with psycopg.connect(url, autocommit=True) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return Backlog(
            one("SELECT count(*) FROM socialsite_outboxevent WHERE published_at IS NULL"),
            one("SELECT count(*) FROM socialsite_taskrecord WHERE state = 'failed'"),
            one(
                "SELECT count(*) FROM socialsite_taskrecord WHERE state = 'enqueued' "
                f"AND enqueued_at < now() - interval '{ORPHAN_AGE_S} seconds'"
            ),
        )


# --- convergence of the derived data ------------------------------------------------------------------


@dataclass
class Convergence:
    converged: bool = False
    seconds: float = float("nan")  # from the end of the load until everything matched
    passes: int = 0
    items: Counter = field(default_factory=Counter)  # kind -> items checked
    failing: dict[str, list[str]] = field(default_factory=dict)  # kind -> examples, when not converged
    # kind -> seconds after the load from which it stayed right (kinds: friend sets, outbox, notifications,
    # suggestions, mutual friends)
    matched: dict[str, float] = field(default_factory=dict)
    first_pass_seconds: float = float("nan")  # how long the checker took to read every item once
    first_pass_wrong: Counter = field(default_factory=Counter)  # kind -> items not right in that pass
    api_answers: Counter = field(default_factory=Counter)  # (kind, status, outcome) of the checker's reads


class Deriver:
    """Checks one item of derived data against `snap` through the API as its user (or Redis directly)."""

    def __init__(self, port: int, world: World, snap: Snapshot, redis_url: str, result: Convergence) -> None:
        self.port, self.world, self.snap, self.redis_url, self.result = port, world, snap, redis_url, result
        self._local = threading.local()
        self._lock = threading.Lock()

    def _http(self) -> Http:
        if not hasattr(self._local, "http"):
            self._local.http = Http(self.port)
        return self._local.http

    def _get(self, kind: str, path: str, user_id: int) -> dict | None:
        import json

        token = self.world.users[user_id].token
        try:
            status, raw = self._http().call("GET", path, {"Authorization": f"Token {token}"})
        except OSError as exc:
            with self._lock:
                self.result.api_answers[(kind, type(exc).__name__, "")] += 1
            return None
        data = json.loads(raw) if status == 200 else None
        with self._lock:
            self.result.api_answers[(kind, status, (data or {}).get("status", ""))] += 1
        return data

    def suggestions(self, user_id: int) -> str:
        """ "" when the API serves the fresh result as ready, else what is wrong."""
        data = self._get("suggestions", "/api/v1/suggestions/", user_id)
        if data is None or data["status"] != "ready":
            return f"user {user_id}: {'no answer' if data is None else data['status']}"
        got = [
            (r["user"]["id"], r["mutual_count"], tuple(m["id"] for m in r["mutual_sample"])) for r in data["results"]
        ]
        want = self.snap.suggestions(user_id)
        return (
            "" if got == want else f"user {user_id}: ready {got[:3]}... ({len(got)}), fresh {want[:3]}... ({len(want)})"
        )

    def mutual(self, a: int, b: int) -> str:
        path = f"/api/v1/users/{self.snap.users[b]}/mutual-friends/"
        data = self._get("mutual friends", path, a)
        if data is None or data["status"] != "ready":
            return f"{a}-{b}: {'no answer' if data is None else data['status']}"
        want = self.snap.mutual(a, b)
        got = [r["id"] for r in data["results"]]
        if data["count"] != len(want) or got != want[:50]:
            return f"{a}-{b}: ready count {data['count']} {got[:5]}, fresh count {len(want)} {want[:5]}"
        return ""

    def friend_sets(self) -> list[str]:
        """Users whose Redis friend set (`friends:<id>`, friends/friend_sets.py) differs from the table."""
        client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        ids = sorted(self.snap.users)
        pipe = client.pipeline(transaction=False)
        for uid in ids:
            pipe.smembers(f"friends:{uid}")
        wrong = []
        for uid, members in zip(ids, pipe.execute(), strict=True):
            have = {int(m) for m in members}
            if have != self.snap.friends.get(uid, set()):
                wrong.append(f"user {uid}: Redis {len(have)} friends, table {len(self.snap.friends.get(uid, ()))}")
        return wrong


def mutual_pairs(world: World, snap: Snapshot, *, limit: int, seed: int) -> list[tuple[int, int]]:
    """Pairs whose mutual friends are checked: every pair a write touched (both ways round), then pairs of
    friends of friends at random, up to `limit`, both users able to call the API."""
    rng = random.Random(seed)
    actors = set(world.users)
    chosen = [p for p in sorted(world.touched) if p[0] in actors and p[1] in actors]
    chosen += [(b, a) for a, b in chosen]
    ids = sorted(actors & set(snap.users))
    for _ in range(limit * 4):
        if len(chosen) >= limit:
            break
        a = rng.choice(ids)
        if snap.friends.get(a):
            via = rng.choice(sorted(snap.friends[a]))
            b = rng.choice(sorted(snap.friends[via]))
            if b != a and b in actors:
                chosen.append((a, b))
    return list(dict.fromkeys(chosen))[:limit]


def converge(
    *,
    port: int,
    world: World,
    snap: Snapshot,
    url: str,
    redis_url: str,
    pairs: list[tuple[int, int]],
    load_end: float,
    timeout: float,
    threads: int = 4,
) -> Convergence:
    """Poll until every derived item equals the fresh computation, no event is unpublished and every due
    notification exists, then confirm with one full pass; bounded by `timeout` seconds from `load_end`
    (time.monotonic()). Items that passed are checked again only in the confirming pass. The time to
    converge is when the last item was first found right (each item's own check, so a pass's length does
    not count), provided everything stays right until the confirming pass."""
    result = Convergence()
    deriver = Deriver(port, world, snap, redis_url, result)
    users = [u for u in sorted(snap.users) if u in world.users]
    items: list[tuple] = [("suggestions", u) for u in users] + [("mutual friends", a, b) for a, b in pairs]
    result.items = Counter(item[0] for item in items)
    deadline = load_end + timeout

    right_since: dict[tuple, float] = {}  # item -> when a check of it last found it right (and it stayed so)

    def check(item: tuple) -> str:
        problem = deriver.suggestions(item[1]) if item[0] == "suggestions" else deriver.mutual(item[1], item[2])
        if problem:
            right_since.pop(item, None)
        else:
            right_since.setdefault(item, time.monotonic())
        return problem

    def global_failures() -> dict[str, list[str]]:
        failing: dict[str, list[str]] = {}
        try:
            wrong_sets = deriver.friend_sets()
        except redis.RedisError as exc:
            wrong_sets = [f"Redis: {exc}"]
        if wrong_sets:
            failing["friend sets"] = wrong_sets
        events = backlog(url).unpublished_events
        if events:
            failing["outbox"] = [f"{events} events unpublished"]
        notes = check_notifications(url, world, snap)
        if notes.missing:
            failing["notifications"] = notes.missing
        return failing

    todo = items
    with ThreadPoolExecutor(threads) as pool:
        while True:
            result.passes += 1
            full = todo is items
            pass_started = time.monotonic()
            failing = global_failures()
            now = time.monotonic()
            for kind in ("friend sets", "outbox", "notifications"):
                if kind in failing:
                    result.matched.pop(kind, None)
                else:
                    result.matched.setdefault(kind, now - load_end)
            problems = dict(zip(todo, pool.map(check, todo), strict=True))
            for item, problem in problems.items():
                if problem:
                    failing.setdefault(item[0], []).append(problem)
            if result.passes == 1:
                result.first_pass_seconds = time.monotonic() - pass_started
                result.first_pass_wrong = Counter({kind: len(found) for kind, found in failing.items()})
            for kind in result.items:
                if kind in failing:
                    result.matched.pop(kind, None)
                else:  # the moment its last item was found right
                    last = max((t for item, t in right_since.items() if item[0] == kind), default=time.monotonic())
                    result.matched[kind] = last - load_end
            if not failing:
                matched_at = load_end + max(result.matched.values())
                if not full:  # all that failed before matches now: confirm with a full pass
                    problems = dict(zip(items, pool.map(check, items), strict=True))
                    failing = global_failures()
                    for item, problem in problems.items():
                        if problem:
                            failing.setdefault(item[0], []).append(problem)
                    for kind in failing:
                        result.matched.pop(kind, None)
                if not failing:
                    result.converged, result.seconds = True, matched_at - load_end
                    return result
            todo = [item for item, problem in problems.items() if problem]
            if time.monotonic() > deadline:
                result.failing = failing
                return result
            time.sleep(1.0)  # poll interval: the computations the reads above asked for run meanwhile
