"""The load generator: client threads signing up, sending, accepting and unfriending, and reading pages and
the API, against the site on 127.0.0.1, bounded in time and in request count.

`World` is the generator's model of what the answered writes did: which pairs are friends, which requests
are pending. Only this generator changes friendships during a run, and no two threads act on one pair at
once (a pair is reserved while a write on it is in flight), so after the run the model says exactly what the
database must hold. A write answered with anything but success or a clean refusal (a 5xx, a timeout, a
dropped connection) may or may not have happened: its pair is marked uncertain and left out of the effect
checks (and counted).

Reads are checked as they come back too, against the model at the moment the read was sent: a `ready`
suggestion list naming someone the viewer had already befriended or had a request pending with, or a
`ready` mutual-friends list naming someone who was not (or no longer) the viewer's friend, is a stale result
served as fresh to a user involved in the write ("involved"); the other person's side of a mutual friend
is a third party's write ("third party", which the issue allows within a freshness bound).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Pair = tuple[int, int]
TIMEOUT_S = 35.0  # a little over gunicorn's 30 s worker timeout: a hung request shows as that, not as ours


def pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass(slots=True)
class Answer:
    """One request of the load: when it started (seconds since the load began), how long it took, what came back."""

    kind: str
    started: float
    elapsed: float
    status: int  # 0: no HTTP answer (see `error`)
    error: str = ""  # "timeout" | "connection" | ""
    outcome: str = ""  # reads of computed results: "ready" | "computing"


class Http:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:`port`, opened again after any error."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body); raises OSError or http.client.HTTPException when no answer came."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class User:
    id: int
    username: str
    token: str
    cookie: str = ""  # a page session, for the users that read pages


@dataclass
class RequestRecord:
    """A friend request answered 201, and what later answered writes did to it."""

    id: int
    from_id: int
    to_id: int
    accepted: bool = False


@dataclass
class World:
    """The model of the answered writes (module docstring). Every method takes the lock."""

    users: dict[int, User]
    friends: dict[int, set[int]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[Pair, RequestRecord] = field(default_factory=dict)
    requests: dict[int, RequestRecord] = field(default_factory=dict)
    busy: set[Pair] = field(default_factory=set)
    uncertain: set[Pair] = field(default_factory=set)
    changed_at: dict[Pair, float] = field(default_factory=dict)
    last_write: dict[Pair, str] = field(default_factory=dict)  # the kind of the last answered write on the pair
    signed_up: list[str] = field(default_factory=list)
    touched: set[Pair] = field(default_factory=set)
    stale_involved: Counter = field(default_factory=Counter)
    stale_third_party: Counter = field(default_factory=Counter)
    count_mismatch: int = 0
    uncertain_writes: Counter = field(default_factory=Counter)

    def user_ids(self) -> list[int]:
        with self.lock:
            return list(self.users)

    def add_user(self, user: User) -> None:
        with self.lock:
            self.users[user.id] = user
            self.friends.setdefault(user.id, set())
            self.signed_up.append(user.username)

    def _free(self, p: Pair) -> bool:
        return p not in self.busy and p not in self.uncertain and p not in self.pending

    def reserve_new_pair(self, rng: random.Random) -> tuple[User, User] | None:
        """Two users who are not friends and have nothing pending, the first to send to the second: often a
        friend of a friend (as people act on suggestions), else anyone."""
        with self.lock:
            ids = list(self.users)
            for _ in range(20):
                a = rng.choice(ids)
                b = None
                if rng.random() < 0.7 and self.friends[a]:
                    via = rng.choice(list(self.friends[a]))
                    if self.friends[via]:
                        b = rng.choice(list(self.friends[via]))
                if b is None:
                    b = rng.choice(ids)
                p = pair(a, b)
                if a != b and b not in self.friends[a] and self._free(p):
                    self.busy.add(p)
                    return self.users[a], self.users[b]
        return None

    def reserve_pending(self, rng: random.Random) -> RequestRecord | None:
        with self.lock:
            free = [r for p, r in self.pending.items() if p not in self.busy and p not in self.uncertain]
            if not free:
                return None
            request = rng.choice(free)
            self.busy.add(pair(request.from_id, request.to_id))
            return request

    def reserve_friends(self, rng: random.Random) -> tuple[User, User] | None:
        with self.lock:
            ids = list(self.users)
            for _ in range(20):
                a = rng.choice(ids)
                if not self.friends[a]:
                    continue
                b = rng.choice(list(self.friends[a]))
                p = pair(a, b)
                if self._free(p):
                    self.busy.add(p)
                    return self.users[a], self.users[b]
        return None

    def release(self, a: int, b: int, *, now: float, write: str = "", uncertain: bool = False) -> None:
        """End the write on the pair; `write` names an answered successful write (its effect is applied to
        the model before this is called), `uncertain` an unknown outcome."""
        p = pair(a, b)
        with self.lock:
            self.busy.discard(p)
            if uncertain:
                self.uncertain.add(p)
            if write:
                self.changed_at[p] = now
                self.last_write[p] = write
                self.touched.add(p)

    def request_sent(self, record: RequestRecord) -> None:
        with self.lock:
            self.requests[record.id] = record
            self.pending[pair(record.from_id, record.to_id)] = record

    def request_accepted(self, record: RequestRecord) -> None:
        with self.lock:
            record.accepted = True
            self.pending.pop(pair(record.from_id, record.to_id), None)
            self.friends[record.from_id].add(record.to_id)
            self.friends[record.to_id].add(record.from_id)

    def unfriended(self, a: int, b: int) -> None:
        with self.lock:
            self.friends[a].discard(b)
            self.friends[b].discard(a)

    def settled(self, a: int, b: int, since: float) -> str | None:
        """What the pair is per the answered writes, if no write on it was in flight or answered after
        `since`: "friends", "pending" or "none"; None when that is not known for sure. Call with the lock."""
        p = pair(a, b)
        if p in self.busy or p in self.uncertain or self.changed_at.get(p, -1.0) >= since:
            return None
        if b in self.friends.get(a, ()):
            return "friends"
        return "pending" if p in self.pending else "none"

    def read_neighbour(self, rng: random.Random, viewer: int) -> User | None:
        """Someone the viewer may look up: a friend of a friend, else a friend."""
        with self.lock:
            mine = list(self.friends[viewer])
            if not mine:
                return None
            via = rng.choice(mine)
            options = [u for u in self.friends[via] if u != viewer] or [via]
            return self.users[rng.choice(options)]

    # --- checks of "ready" reads against the model ------------------------------------------------------

    def check_suggestions(self, viewer: int, results: list[dict], since: float) -> None:
        with self.lock:
            for row in results:
                other = row["user"]["id"]
                if self.settled(viewer, other, since) in ("friends", "pending"):
                    self.stale_involved["suggestions"] += 1
                for m in row["mutual_sample"]:
                    if self.settled(viewer, m["id"], since) in ("none", "pending"):
                        self.stale_involved["suggestion sample"] += 1
                    elif self.settled(other, m["id"], since) in ("none", "pending"):
                        self.stale_third_party["suggestion sample"] += 1

    def check_mutual(self, viewer: int, other: int, data: dict, since: float) -> None:
        with self.lock:
            results = data["results"]
            if data["count"] is not None and data["count"] <= 50 and data["count"] != len(results):
                self.count_mismatch += 1
            for m in results:
                if self.settled(viewer, m["id"], since) in ("none", "pending"):
                    self.stale_involved["mutual friends"] += 1
                elif self.settled(other, m["id"], since) in ("none", "pending"):
                    self.stale_third_party["mutual friends"] += 1


@dataclass
class LoadConfig:
    port: int
    seconds: float
    clients: int
    max_requests: int
    max_signups: int
    think_s: float
    password: str
    run_tag: str
    seed: int


# Relative weights of what a client does next.
MIX: dict[str, int] = {
    "sign-up": 3,
    "request": 14,
    "accept": 10,
    "unfriend": 5,
    "api suggestions": 14,
    "api mutual friends": 10,
    "api notifications": 6,
    "api unread count": 5,
    "api profile": 5,
    "page home": 6,
    "page suggestions": 6,
    "page profile": 5,
    "page notifications": 3,
    "page friends": 3,
}


class Load:
    """`clients` threads acting on `world` until `seconds` have passed or `max_requests` were sent."""

    def __init__(self, config: LoadConfig, world: World) -> None:
        self.config, self.world = config, world
        self.answers: list[Answer] = []
        self.t0 = 0.0
        self._count = 0
        self._count_lock = threading.Lock()
        self._signups = 0
        self.stop = threading.Event()  # set when the run is torn down early
        self.examples: dict[tuple[str, int | str], str] = {}  # (kind, status or error) -> first body seen

    def now(self) -> float:
        return time.monotonic() - self.t0

    def start_clock(self) -> None:
        self.t0 = time.monotonic()

    def run(self, keep_going: Callable[[], bool]) -> None:
        """Run the clients from `start_clock()` on (blocks) while `keep_going()`, at least `seconds`."""
        self.keep_going = keep_going
        threads = [
            threading.Thread(target=self._client, args=(i,), name=f"client-{i}") for i in range(self.config.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _take(self) -> bool:
        with self._count_lock:
            if self._count >= self.config.max_requests:
                return False
            self._count += 1
            return True

    def _client(self, i: int) -> None:
        rng = random.Random(self.config.seed * 1000 + i)
        http_ = Http(self.config.port)
        kinds, weights = list(MIX), list(MIX.values())
        actions: dict[str, Callable[[random.Random, Http], None]] = {
            "sign-up": self._sign_up,
            "request": self._request,
            "accept": self._accept,
            "unfriend": self._unfriend,
        }
        try:
            while not self.stop.is_set() and (self.now() < self.config.seconds or self.keep_going()) and self._take():
                kind = rng.choices(kinds, weights)[0]
                action = actions.get(kind) or (lambda r, h, k=kind: self._read(k, r, h))
                action(rng, http_)
                time.sleep(self.config.think_s)  # pacing of one simulated person, not a wait for anything
        finally:
            http_.close()

    # --- one request ---------------------------------------------------------------------------------------

    def _call(
        self, http_: Http, kind: str, method: str, path: str, *, user: User | None = None, body: Any = None,
        page: bool = False,
    ) -> tuple[Answer, Any]:  # fmt: skip
        headers: dict[str, str] = {}
        if user is not None and page:
            headers["Cookie"] = user.cookie
        elif user is not None:
            headers["Authorization"] = f"Token {user.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = self.now()
        try:
            status, raw = http_.call(method, path, headers, data)
        except TimeoutError:
            answer = Answer(kind, started, self.now() - started, 0, error="timeout")
            self.answers.append(answer)
            return answer, None
        except (OSError, http.client.HTTPException) as exc:
            answer = Answer(kind, started, self.now() - started, 0, error="connection")
            self.examples.setdefault((kind, "connection"), repr(exc))
            self.answers.append(answer)
            return answer, None
        answer = Answer(kind, started, self.now() - started, status)
        parsed: Any = raw
        if not page and raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
        if page and status == 200:
            answer.outcome = "computing" if b"computing" in raw else "ready"
        elif isinstance(parsed, dict) and parsed.get("status") in ("ready", "computing"):
            answer.outcome = parsed["status"]
        if status >= 400:
            self.examples.setdefault((kind, status), raw[:300].decode("utf-8", "replace"))
        self.answers.append(answer)
        return answer, parsed

    @staticmethod
    def _refused(answer: Answer) -> bool:
        """A clean refusal (4xx): nothing was done. Anything else that is not a success: unknown."""
        return 400 <= answer.status < 500

    # --- writes --------------------------------------------------------------------------------------------

    def _sign_up(self, rng: random.Random, http_: Http) -> None:
        with self._count_lock:
            if self._signups >= self.config.max_signups:
                return
            self._signups += 1
            n = self._signups
        username = f"cx{self.config.run_tag}n{n}"
        body = {"username": username, "password": self.config.password, "email": f"{username}@example.com"}
        answer, data = self._call(http_, "sign-up", "POST", "/api/v1/users/", body=body)
        if answer.status != 201:
            if not self._refused(answer):
                self.world.uncertain_writes["sign-up"] += 1
            return
        user_id = data["id"]
        answer, data = self._call(
            http_, "log-in (token)", "POST", "/api/v1/auth/token/",
            body={"username": username, "password": self.config.password},
        )  # fmt: skip
        token = data.get("token", "") if isinstance(data, dict) and answer.status == 200 else ""
        self.world.add_user(User(user_id, username, token))
        if not token:  # it exists (checked later) but cannot act; keep it out of the acting pool
            with self.world.lock:
                self.world.users.pop(user_id, None)

    def _request(self, rng: random.Random, http_: Http) -> None:
        chosen = self.world.reserve_new_pair(rng)
        if chosen is None:
            return
        a, b = chosen
        answer, data = self._call(
            http_, "request", "POST", "/api/v1/friend-requests/", user=a, body={"to_user": b.username}
        )
        if answer.status == 201:
            self.world.request_sent(RequestRecord(data["id"], a.id, b.id))
            self.world.release(a.id, b.id, now=self.now(), write="request")
        else:
            self._write_failed("request", answer, a.id, b.id)

    def _accept(self, rng: random.Random, http_: Http) -> None:
        request = self.world.reserve_pending(rng)
        if request is None:
            return
        receiver = self.world.users[request.to_id]
        answer, _ = self._call(http_, "accept", "POST", f"/api/v1/friend-requests/{request.id}/accept/", user=receiver)
        if answer.status == 200:
            self.world.request_accepted(request)
            self.world.release(request.from_id, request.to_id, now=self.now(), write="accept")
        else:
            self._write_failed("accept", answer, request.from_id, request.to_id)

    def _unfriend(self, rng: random.Random, http_: Http) -> None:
        chosen = self.world.reserve_friends(rng)
        if chosen is None:
            return
        a, b = chosen
        answer, _ = self._call(http_, "unfriend", "DELETE", f"/api/v1/friends/{b.username}/", user=a)
        if answer.status == 204:
            self.world.unfriended(a.id, b.id)
            self.world.release(a.id, b.id, now=self.now(), write="unfriend")
        else:
            self._write_failed("unfriend", answer, a.id, b.id)

    def _write_failed(self, kind: str, answer: Answer, a: int, b: int) -> None:
        unknown = not self._refused(answer)
        if unknown:
            self.world.uncertain_writes[kind] += 1
        self.world.release(a, b, now=self.now(), uncertain=unknown)

    # --- reads ---------------------------------------------------------------------------------------------

    def _read(self, kind: str, rng: random.Random, http_: Http) -> None:
        world = self.world
        if kind.startswith("page"):
            with world.lock:
                readers = [u for u in world.users.values() if u.cookie]
            if not readers:
                return
            viewer = rng.choice(readers)
        else:
            viewer = world.users[rng.choice(world.user_ids())]
        other = world.read_neighbour(rng, viewer.id)
        since = self.now()
        if kind == "api suggestions":
            answer, data = self._call(http_, kind, "GET", "/api/v1/suggestions/", user=viewer)
            if answer.outcome == "ready":
                world.check_suggestions(viewer.id, data["results"], since)
        elif kind == "api mutual friends":
            if other is None:
                return
            answer, data = self._call(
                http_, kind, "GET", f"/api/v1/users/{other.username}/mutual-friends/", user=viewer
            )
            if answer.outcome == "ready":
                world.check_mutual(viewer.id, other.id, data, since)
        elif kind == "api notifications":
            self._call(http_, kind, "GET", "/api/v1/notifications/?unread=true", user=viewer)
        elif kind == "api unread count":
            self._call(http_, kind, "GET", "/api/v1/notifications/unread-count/", user=viewer)
        elif kind == "api profile":
            if other is not None:
                self._call(http_, kind, "GET", f"/api/v1/users/{other.username}/", user=viewer)
        else:
            path = {
                "page home": "/",
                "page suggestions": "/suggestions/",
                "page notifications": "/notifications/",
                "page friends": "/friends/",
                "page profile": f"/u/{other.username}/" if other else None,
            }[kind]
            if path:
                self._call(http_, kind, "GET", path, user=viewer, page=True)
