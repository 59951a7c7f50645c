"""Read-your-writes through the real RabbitMQ, a real worker, Redis and PostgreSQL (issue 10, acceptance 5).

Right after an unfriend, an accept, a block, an admin delete and an admin deactivation, the involved
users' suggestions and mutual friends are polled from the moment the write answers until the worker has
handled everything: no answer is ever `ready` with anything but the new state (computed here from the
tables), and a mutual-friends `count` always equals its list. Before the fix, 50-75 ms after an unfriend
the API answered `ready` with the old suggestion and the old mutual friend (the issue's case, which the
`unfriend` case below is).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

import dramatiq
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.tokens import token_create
from friends.exclusions import exclusions_in_table
from friends.live_graph import live_friendships
from friends.models import Block
from friends.suggestions import store
from socialsite import queues
from socialsite.models import OutboxEvent
from socialsite.redis import get_redis
from tests.support.waiting import wait_for

User = get_user_model()
V1 = "/api/v1"
TIMEOUT = 60  # seconds for everything to settle (a worker on a loaded 2-core machine)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """The test polls far faster than any person would; the limits are tested elsewhere."""
    settings.RATE_LIMITS_ENABLED = False


# --- the new state, from the tables -----------------------------------------------------------------------


def _live_adjacency() -> dict[int, set[int]]:
    adjacency: dict[int, set[int]] = defaultdict(set)
    for a, b in live_friendships().values_list("user_id", "friend_id"):
        adjacency[a].add(b)
    return adjacency


def expected_suggestions(user) -> list[tuple[str, int, list[str]]]:
    """The ranking rule (README) on the live graph: (name, mutual count, three smallest-id mutual friends)."""
    adjacency, names = _live_adjacency(), dict(User.objects.values_list("pk", "username"))
    excluded = exclusions_in_table([user.pk]).get(user.pk, set())
    mutual: dict[int, list[int]] = defaultdict(list)
    for friend in adjacency[user.pk]:
        for candidate in adjacency[friend]:
            if candidate != user.pk and candidate not in adjacency[user.pk] and candidate not in excluded:
                mutual[candidate].append(friend)
    ranked = sorted(mutual.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]
    return [(names[c], len(m), [names[x] for x in sorted(m)[:3]]) for c, m in ranked]


def expected_mutual(viewer, other) -> list[str]:
    adjacency, names = _live_adjacency(), dict(User.objects.values_list("pk", "username"))
    blocked = {b if a == viewer.pk else a for a, b in Block.objects.values_list("blocker_id", "blocked_id")}
    return [names[x] for x in sorted(adjacency[viewer.pk] & adjacency[other.pk]) if x not in blocked]


def shown_suggestions(body: dict) -> list[tuple[str, int, list[str]]]:
    return [
        (r["user"]["username"], r["mutual_count"], [m["username"] for m in r["mutual_sample"]]) for r in body["results"]
    ]


# --- polling from the moment the write answers ---------------------------------------------------------


def settled() -> bool:
    """The worker has handled everything: every event published, nothing queued, nothing dirty."""
    broker = dramatiq.get_broker()
    if OutboxEvent.objects.filter(published_at__isnull=True).exists():
        return False
    if any(sum(broker.get_queue_message_counts(name)[:2]) for name in queues.ALL):
        return False
    redis = get_redis()
    return not redis.scard(store.DIRTY) and not redis.exists(store.DRAIN_FLAG)


class Poll:
    """One endpoint of one involved user, and every answer it gave."""

    def __init__(self, client, path: str, expected: Callable[[], list]) -> None:
        self.client, self.path, self.expected = client, path, expected
        self.answers: list[dict] = []

    def get(self) -> dict:
        response = self.client.get(self.path)
        assert response.status_code == 200, (self.path, response.status_code, response.content[:300])
        body = response.json()
        self.answers.append(body)
        return body


def poll_from_now(polls: list[Poll]) -> dict[str, int]:
    """GET every endpoint in turn, from now until each has answered `ready` in a round that began after
    the worker settled; then check every answer given against the new state. Returns answers by status."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        was_settled = settled()
        bodies = [poll.get() for poll in polls]
        if was_settled and all(body["status"] == "ready" for body in bodies):
            break
        assert time.monotonic() < deadline, f"not settled after {TIMEOUT}s: {[b['status'] for b in bodies]}"
    statuses: dict[str, int] = defaultdict(int)
    for poll in polls:
        expected = poll.expected()
        for n, body in enumerate(poll.answers):
            statuses[body["status"]] += 1
            assert body["status"] in ("ready", "computing"), body
            if body["status"] != "ready":
                continue
            if "count" in body:  # mutual friends: the count is the list's, and the list the new state
                assert body["count"] == len(body["results"]), (poll.path, n, body)
                assert [u["username"] for u in body["results"]] == expected, (poll.path, n, body)
            else:
                assert shown_suggestions(body) == expected, (poll.path, n, body)
    return dict(statuses)


def client_of(user) -> APIClient:
    """An API client of its own for `user` (token auth, as real clients use)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


def polls_for(users: dict, involved: list[str], invisible: frozenset = frozenset()) -> list[Poll]:
    """Every involved user's suggestions, and their mutual friends with each other user they can see
    (`invisible`: the (viewer, other) names of pairs where the other is a 404 to the viewer)."""
    polls = []
    for name in involved:
        user = users[name]
        client = client_of(user)
        polls.append(Poll(client, f"{V1}/suggestions/", lambda u=user: expected_suggestions(u)))
        for other_name, other in users.items():
            if other_name == name or (name, other_name) in invisible:
                continue
            polls.append(
                Poll(
                    client,
                    f"{V1}/users/{other.username}/mutual-friends/",
                    lambda u=user, o=other: expected_mutual(u, o),
                )
            )
    return polls


def warm(polls: list[Poll]) -> None:
    """Every endpoint answers `ready` with the current state (the cache is warm, as in the issue's case)."""
    for poll in polls:
        wait_for(lambda p=poll: p.get()["status"] == "ready", timeout=TIMEOUT, what=f"{poll.path} ready")
    poll_from_now(polls)  # and settled
    for poll in polls:
        poll.answers.clear()


# --- the graph and the writes ----------------------------------------------------------------------------


@pytest.fixture
def graph(worker, make_graph):
    """The issue's case, a little larger: a and b share one mutual friend, m, so b is a's suggestion
    through m alone; m also knows c, a knows d, d knows e; f, who knows g, has sent a a request (pending)."""
    from friends import services

    users = make_graph(["am", "mb", "mc", "ad", "de", "fg"], names="abmcdefg", through="services")
    services.friend_request_send(from_user=users["f"], to_user=users["a"])
    return users


def _unfriend(users, api_as, admin_browser) -> None:
    response = api_as(users["m"]).delete(f"{V1}/friends/{users['a'].username}/")
    assert response.status_code == 204


def _accept(users, api_as, admin_browser) -> None:
    from friends.models import FriendRequest

    request = FriendRequest.objects.get(from_user=users["f"], to_user=users["a"])
    response = api_as(users["a"]).post(f"{V1}/friend-requests/{request.pk}/accept/")
    assert response.status_code == 200


def _block(users, api_as, admin_browser) -> None:
    response = api_as(users["a"]).post(f"{V1}/blocks/", {"username": users["m"].username}, format="json")
    assert response.status_code == 201


def _admin_delete(users, api_as, admin_browser) -> None:
    response = admin_browser.post(f"/admin/auth/user/{users['m'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


def _admin_deactivate(users, api_as, admin_browser) -> None:
    response = admin_browser.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": [users["m"].pk]})
    assert response.status_code == 302


_M_GONE = frozenset((viewer, "m") for viewer in "abcdefg")
# write: (how, the involved users whose answers are watched, pairs whose other is a 404 afterwards)
WRITES = {
    "unfriend": (_unfriend, ["a", "m"], frozenset()),
    "accept": (_accept, ["a", "f"], frozenset()),
    "block": (_block, ["a", "m"], frozenset({("m", "a")})),  # a blocks m: m no longer sees a
    "admin_delete": (_admin_delete, ["a", "b", "c"], _M_GONE),  # the people m linked
    "admin_deactivate": (_admin_deactivate, ["a", "b", "c"], _M_GONE),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_right_after_a_write_its_people_are_never_answered_ready_with_the_old_state(
    write, graph, api_as, admin_browser
):
    do, involved, invisible = WRITES[write]
    warm(polls_for(graph, involved))
    after = polls_for(graph, involved, invisible)

    do(graph, api_as, admin_browser)
    statuses = poll_from_now(after)
    assert statuses.get("ready", 0) >= len(after)
