"""REST API of mutual friends and "people you may know": cached results, "computing" on a miss (one real
task however many readers), privacy, bad input refused with nothing changed, and bounded SQL per request.

The cache is filled by calling the real computations (`friend_sets_rebuild`, `suggestions_recompute`,
`mutual_recompute`); pending events are handed to their real subscribers by the `deliver_events` fixture.
"""

from __future__ import annotations

import pytest

from friends import services
from friends.models import SuggestionDismissal
from friends.suggestions import compute, store
from socialsite.models import OutboxEvent, TaskRecord
from socialsite.redis import get_redis
from tests.support.factories import crowd, fill_mutual, fill_suggestions

V1 = "/api/v1"


@pytest.fixture
def people(make_graph):
    """alice's friends bob, carol, dan; friends of theirs whom alice does not know, by mutual count:

    erin (bob, carol, dan: 3), fay (bob, carol: 2), gus (bob: 1), hal (dan: 1). gus was created before hal.
    """
    return make_graph(
        [
            *[("alice", f) for f in ("bob", "carol", "dan")],
            *[("erin", f) for f in ("bob", "carol", "dan")],
            *[("fay", f) for f in ("bob", "carol")],
            ("gus", "bob"),
            ("hal", "dan"),
        ],
        names=("alice", "bob", "carol", "dan", "erin", "fay", "gus", "hal"),
    )


def suggested(client) -> list[str]:
    body = client.get(f"{V1}/suggestions/").json()
    assert body["status"] == "ready", body
    return [item["user"]["username"] for item in body["results"]]


def graph_state() -> dict:
    """What a refused call must leave alone: dismissals, events, tasks and the cached results.

    Not the Django cache (`django:` keys): it holds rate-limit counters, and a refused call still counts.
    """
    redis = get_redis()
    return {
        "dismissals": sorted(SuggestionDismissal.objects.values_list("user_id", "dismissed_id")),
        "events": OutboxEvent.objects.count(),
        "tasks": TaskRecord.objects.count(),
        "redis": {key: redis.dump(key) for key in sorted(redis.keys("*")) if not key.startswith("django:")},
    }


# --- suggestions -----------------------------------------------------------------------------------


def test_ready_suggestions_are_ranked_by_mutual_count_then_id_with_users_and_samples(api_as, people):
    alice = people["alice"]
    fill_suggestions(alice)
    body = api_as(alice).get(f"{V1}/suggestions/").json()

    assert body["status"] == "ready" and body["task_id"] is None and body["computed_at"]
    assert [(r["user"]["username"], r["mutual_count"]) for r in body["results"]] == [
        ("erin", 3),
        ("fay", 2),
        ("gus", 1),
        ("hal", 1),
    ]
    first = body["results"][0]
    assert first["user"] == {"id": people["erin"].pk, "username": "erin"}
    assert sorted(m["username"] for m in first["mutual_sample"]) == ["bob", "carol", "dan"]
    assert set(first["mutual_sample"][0]) == {"id", "username"}
    assert [m["username"] for m in body["results"][3]["mutual_sample"]] == ["dan"]


def test_cold_suggestions_answer_computing_with_one_real_task_owned_by_the_reader(api_as, people):
    alice = people["alice"]
    client = api_as(alice)

    first = client.get(f"{V1}/suggestions/").json()
    second = client.get(f"{V1}/suggestions/").json()

    assert first["status"] == "computing" and first["results"] == [] and first["computed_at"] is None
    assert first["task_id"] and second["task_id"] == first["task_id"]  # one task, not one per reader
    task = TaskRecord.objects.get(id=first["task_id"])
    assert task.owner_id == alice.pk and task.actor_name == "compute_suggestions" and task.state == "enqueued"
    assert TaskRecord.objects.filter(actor_name="compute_suggestions").count() == 1
    assert store.suggestions_cached(alice.pk) is None  # nothing was computed inside the request
    status = client.get(f"{V1}/tasks/{first['task_id']}/")
    assert status.status_code == 200 and status.json()["state"] == "enqueued"


def test_dismissed_user_is_gone_after_the_next_computation_and_never_served_stale(api_as, people, deliver_events):
    alice = people["alice"]
    fill_suggestions(alice)
    client = api_as(alice)
    assert suggested(client)[0] == "erin"

    assert client.post(f"{V1}/suggestions/erin/dismiss/").status_code == 204
    assert client.post(f"{V1}/suggestions/erin/dismiss/").status_code == 204  # twice is fine
    assert list(SuggestionDismissal.objects.values_list("user_id", "dismissed_id")) == [(alice.pk, people["erin"].pk)]
    assert OutboxEvent.objects.filter(name="suggestion.dismissed").count() == 1

    assert deliver_events(drain=False) == 1
    assert client.get(f"{V1}/suggestions/").json()["status"] == "computing"  # the old list is stale now
    compute.suggestions_recompute([alice.pk])
    assert suggested(client) == ["fay", "gus", "hal"]


def test_blocked_users_are_never_suggested_either_way(api_as, people):
    alice = people["alice"]
    services.block_create(blocker=alice, blocked=people["erin"])
    services.block_create(blocker=people["fay"], blocked=alice)
    fill_suggestions(alice)
    assert suggested(api_as(alice)) == ["gus", "hal"]


def test_a_block_hides_the_user_even_before_the_cache_hears_of_it(api_as, people):
    alice = people["alice"]
    fill_suggestions(alice)
    services.block_create(blocker=people["erin"], blocked=alice)  # its event not yet handled
    assert "erin" not in suggested(api_as(alice))


def test_suggestions_are_only_ever_my_own(api_as, people):
    """There is no way to ask for someone else's list: the endpoint takes no user."""
    fill_suggestions(people["alice"], people["erin"])
    assert suggested(api_as(people["erin"])) == ["alice", "fay", "gus", "hal"]
    assert suggested(api_as(people["alice"])) == ["erin", "fay", "gus", "hal"]


# --- mutual friends --------------------------------------------------------------------------------


def test_ready_mutual_friends_list_and_count_of_me_and_the_other_user(api_as, people):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    body = api_as(alice).get(f"{V1}/users/erin/mutual-friends/").json()
    assert body["status"] == "ready" and body["task_id"] is None and body["computed_at"]
    assert body["count"] == 3
    assert body["results"] == [{"id": people[n].pk, "username": n} for n in ("bob", "carol", "dan")]


def test_cold_mutual_friends_answer_computing_with_one_real_task_owned_by_the_reader(api_as, people):
    alice = people["alice"]
    client = api_as(alice)
    first = client.get(f"{V1}/users/erin/mutual-friends/").json()
    second = client.get(f"{V1}/users/erin/mutual-friends/").json()
    assert first["status"] == "computing" and first["count"] is None and first["results"] == []
    assert first["task_id"] and second["task_id"] == first["task_id"]
    task = TaskRecord.objects.get(id=first["task_id"])
    assert task.owner_id == alice.pk and task.actor_name == "compute_mutual_friends"
    assert TaskRecord.objects.filter(actor_name="compute_mutual_friends").count() == 1
    assert store.mutual_entry(alice.pk, people["erin"].pk) is None


def test_mutual_friend_who_blocks_me_is_left_out_before_and_after_recompute(api_as, people, deliver_events):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    client = api_as(alice)
    services.block_create(blocker=people["carol"], blocked=alice)  # ends alice-carol; event not handled yet

    body = client.get(f"{V1}/users/erin/mutual-friends/").json()
    assert body["status"] == "ready"
    assert [u["username"] for u in body["results"]] == ["bob", "dan"] and body["count"] == 2

    deliver_events(drain=False)
    assert client.get(f"{V1}/users/erin/mutual-friends/").json()["status"] == "computing"
    compute.mutual_recompute(alice.pk, erin.pk)
    body = client.get(f"{V1}/users/erin/mutual-friends/").json()
    assert [u["username"] for u in body["results"]] == ["bob", "dan"] and body["count"] == 2


def test_mutual_friends_with_a_user_who_blocked_me_is_a_404_like_an_unknown_name(api_as, people):
    alice = people["alice"]
    services.block_create(blocker=people["erin"], blocked=alice)
    fill_mutual(alice, people["erin"])
    before = graph_state()
    client = api_as(alice)
    blocked = client.get(f"{V1}/users/erin/mutual-friends/")
    unknown = client.get(f"{V1}/users/nobody/mutual-friends/")
    assert blocked.status_code == unknown.status_code == 404
    assert set(blocked.json()) == set(unknown.json()) == {"detail", "code"}
    assert "erin" in blocked.json()["detail"]  # the name asked for, exactly as for an unknown one
    assert graph_state() == before


def test_mutual_friends_with_myself_is_a_400_that_enqueues_nothing(api_as, people):
    before = graph_state()
    response = api_as(people["alice"]).get(f"{V1}/users/alice/mutual-friends/")
    assert response.status_code == 400 and response.json()["code"] == "self"
    assert graph_state() == before


# --- profile ---------------------------------------------------------------------------------------


def test_profile_shows_mutual_friend_count_only_when_cached_and_never_enqueues(api_as, people):
    alice, erin = people["alice"], people["erin"]
    client = api_as(alice)
    before = graph_state()
    assert client.get(f"{V1}/users/erin/").json()["mutual_friend_count"] is None
    assert graph_state() == before  # a profile read asks for no computation

    fill_mutual(alice, erin)
    assert client.get(f"{V1}/users/erin/").json()["mutual_friend_count"] == 3
    assert client.get(f"{V1}/users/alice/").json()["mutual_friend_count"] is None


# --- bad input and authentication ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/suggestions/alice/dismiss/", {}, 400),  # myself
        ("post", "/suggestions/bob/dismiss/", {}, 409),  # a friend: never suggested, nothing to dismiss
        ("post", "/suggestions/nobody/dismiss/", {}, 404),
        ("post", "/suggestions/%00/dismiss/", {}, 404),
        ("post", "/suggestions/erin/dismiss/", {"data": "{not json", "content_type": "application/json"}, 400),
        ("get", "/suggestions/erin/dismiss/", {}, 405),
        ("delete", "/suggestions/", {}, 405),
        ("get", "/users/nobody/mutual-friends/", {}, 404),
        ("get", "/users/%00/mutual-friends/", {}, 404),
        ("post", "/users/erin/mutual-friends/", {}, 405),
    ],
)
def test_bad_input_is_a_4xx_that_changes_nothing(api_as, people, method, path, kwargs, status):
    fill_suggestions(people["alice"])
    before = graph_state()
    response = getattr(api_as(people["alice"]), method)(f"{V1}{path}", **kwargs)
    assert response.status_code == status, response.content
    assert "detail" in response.json()
    assert graph_state() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/suggestions/"),
        ("post", "/suggestions/erin/dismiss/"),
        ("get", "/users/erin/mutual-friends/"),
    ],
)
def test_missing_authentication_is_a_401_that_changes_nothing(api, people, method, path):
    before = graph_state()
    response = getattr(api, method)(f"{V1}{path}")
    assert response.status_code == 401
    assert graph_state() == before


# --- SQL per request does not grow with friends or suggestions -----------------------------------

SIZES = [5, 500]
# token + user (1), exclusions made since the computation: blocks, pending, dismissed (1), the users shown (1).
SUGGESTIONS_MAX_QUERIES = 3
# token + user (1), the other user (1), relationship (1), the mutual friends still listable, with names (1).
MUTUAL_MAX_QUERIES = 4


@pytest.mark.parametrize("n", SIZES)
def test_suggestions_queries_do_not_grow_with_friends_or_suggestions(api_as, alice, bob, n, get_within_queries):
    crowd(alice, bob, n)
    body = get_within_queries(api_as(alice), f"{V1}/suggestions/", SUGGESTIONS_MAX_QUERIES).json()
    assert body["status"] == "ready" and len(body["results"]) == min(n + 1, compute.TOP_K)
    assert body["results"][0]["user"]["username"] == "bob" and body["results"][0]["mutual_count"] == n


@pytest.mark.parametrize("n", SIZES)
def test_mutual_friends_queries_do_not_grow_with_friends(api_as, alice, bob, n, get_within_queries):
    crowd(alice, bob, n)
    body = get_within_queries(api_as(alice), f"{V1}/users/bob/mutual-friends/", MUTUAL_MAX_QUERIES).json()
    assert body["status"] == "ready" and body["count"] == n and len(body["results"]) == min(n, 50)


def test_the_plain_suggestions_answer_equals_the_serializer_schema(alice, make_graph, deliver_events):
    """The endpoint builds its answer without the serializer: both must give the same JSON, ready or not."""
    import uuid

    from friends import selectors
    from friends.api import serializers as s
    from friends.selectors import Cached

    users = make_graph(["ab", "bc", "bd", "cd"], names=(), through="services")
    deliver_events()
    found = selectors.suggestions_get(user=users["a"])
    assert found is not None and found.results
    assert s.suggestions_data(found) == s.SuggestionsSerializer(found).data
    computing = Cached(status="computing", task_id=str(uuid.uuid4()))
    assert s.suggestions_data(computing) == s.SuggestionsSerializer(computing).data
    assert s.suggestions_data(Cached(status="computing")) == s.SuggestionsSerializer(Cached(status="computing")).data
