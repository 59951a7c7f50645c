"""A fresh computation of the derived data from the database, in plain Python: what the cache must say once
converged. Independent of the project's code (its graph code and its Redis copy), so the benchmark checks
the site against the rule, not against itself.

The rule (SPEC.md, `friends/graph.py`): a user's suggestions are friends of friends, never the user, a
friend, someone with a request pending either way, blocked either way or dismissed; ranked by the number of
mutual friends, highest first, ties by ascending id; the top 10, each with the 3 smallest-id mutual friends.
Mutual friends of a pair: the ids both are friends with, ascending.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import psycopg

TOP_K = 10
SAMPLE = 3

Suggestion = tuple[int, int, tuple[int, ...]]  # (user id, mutual count, sample ids)


@dataclass
class Snapshot:
    """The tables that matter, read once the load is over (nothing changes friendships after that)."""

    users: dict[int, str]  # active users: id -> username
    friends: dict[int, set[int]]
    excluded: dict[int, set[int]] = field(default_factory=dict)  # pending either way, blocks, dismissals
    requests: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # id -> (from, to, state)

    @classmethod
    def read(cls, url: str) -> Snapshot:
        with psycopg.connect(url, autocommit=True) as conn:
            users = dict(conn.execute("SELECT id, username FROM auth_user WHERE is_active").fetchall())
            friends: dict[int, set[int]] = {u: set() for u in users}
            for a, b in conn.execute("SELECT user_id, friend_id FROM friends_friendship"):
                friends.setdefault(a, set()).add(b)
            snap = cls(users, friends)
            requests = conn.execute("SELECT id, from_user_id, to_user_id, state FROM friends_friendrequest").fetchall()
            snap.requests = {r[0]: (r[1], r[2], r[3]) for r in requests}
            pairs = [(f, t) for f, t, state in snap.requests.values() if state == "pending"]
            pairs += conn.execute("SELECT blocker_id, blocked_id FROM friends_block").fetchall()
            for a, b in pairs:
                snap.excluded.setdefault(a, set()).add(b)
                snap.excluded.setdefault(b, set()).add(a)
            for a, b in conn.execute("SELECT user_id, dismissed_id FROM friends_suggestiondismissal"):
                snap.excluded.setdefault(a, set()).add(b)
        return snap

    def suggestions(self, user: int) -> list[Suggestion]:
        mine = self.friends.get(user, set())
        banned = mine | self.excluded.get(user, set()) | {user}
        counts: Counter[int] = Counter()
        for friend in mine:
            for candidate in self.friends.get(friend, ()):
                if candidate not in banned and candidate in self.users:
                    counts[candidate] += 1
        best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_K]
        return [(c, n, tuple(sorted(mine & self.friends[c])[:SAMPLE])) for c, n in best]

    def mutual(self, a: int, b: int) -> list[int]:
        return sorted((self.friends.get(a, set()) & self.friends.get(b, set())) - {a, b})
