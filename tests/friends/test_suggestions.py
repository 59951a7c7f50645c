"""The suggestions and mutual-friends cache: right results, exact invalidation, coalescing, no stale reads."""

import pytest
from dramatiq import Message

from friends import exclusions, friend_sets, graph, graph_cache, services
from friends.models import Friendship
from friends.subscribers import update_graph_after_friendship
from friends.suggestions import compute, freshness, store
from friends.tasks import recompute_dirty_suggestions
from socialsite.models import OutboxEvent, TaskRecord
from socialsite.redis import get_redis
from tests.support.factories import act, give_friends


def ids(rows):
    return [(uid, count) for uid, count, _ in rows]


def db_reference(user, k=10):
    """Recompute from the friendship table with plain sets: the independent answer."""
    adj: dict[int, set[int]] = {}
    for a, b in Friendship.objects.values_list("user_id", "friend_id"):
        adj.setdefault(a, set()).add(b)
    excluded = exclusions.exclusions_in_table([user.pk]).get(user.pk, set())
    counts: dict[int, int] = {}
    for f in adj.get(user.pk, ()):
        for c in adj.get(f, ()):
            if c != user.pk and c not in adj[user.pk] and c not in excluded:
                counts[c] = counts.get(c, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


@pytest.fixture
def square(make_graph, deliver_events):
    """a-b, a-c, b-d, c-d, d-e: a's friends of friends are d (2 mutual: b, c)."""
    users = make_graph(["ab", "ac", "bd", "cd", "de"], through="services")
    deliver_events()
    return users


def test_drained_results_match_a_fresh_computation_from_the_database(square):
    for user in square.values():
        cached = store.suggestions_cached(user.pk)
        assert cached is not None, user.username
        assert ids(cached[1]) == db_reference(user)
    _, rows = store.suggestions_cached(square["a"].pk)
    assert rows == [[square["d"].pk, 2, sorted([square["b"].pk, square["c"].pk])]]


def test_a_change_makes_exactly_the_affected_entries_stale(square, make_user, deliver_events):
    f = make_user("f")
    services.friendship_create(user=square["e"], friend=f)
    created = OutboxEvent.objects.get(name="friendship.created", payload__friend_id=f.pk)
    update_graph_after_friendship(created.as_message())
    # e, f and e's friend d are affected; a, b and c are not (f is 3 hops from a). The pair itself is
    # recomputed at once by the subscriber; d waits for the drain.
    stale = {n for n, u in {**square, "f": f}.items() if store.suggestions_cached(u.pk) is None}
    assert stale == {"d"}
    assert get_redis().smembers(store.DIRTY) >= {str(square["d"].pk)}
    assert [row[0] for row in store.suggestions_cached(f.pk)[1]] == [square["d"].pk]


def test_mutual_friends_are_stale_once_either_friend_set_changes(square, deliver_events):
    a, d, e = square["a"], square["d"], square["e"]
    assert compute.mutual_recompute(a.pk, d.pk) == sorted([square["b"].pk, square["c"].pk])
    assert store.mutual_entry(d.pk, a.pk).ids == sorted([square["b"].pk, square["c"].pk])
    services.friendship_create(user=a, friend=e)
    deliver_events()
    assert store.mutual_entry(a.pk, d.pk) is None  # never served stale
    assert compute.mutual_recompute(d.pk, a.pk) == sorted([square["b"].pk, square["c"].pk, e.pk])


@pytest.mark.parametrize(
    ("verb", "actor", "other"),
    [("block", "a", "d"), ("block", "d", "a"), ("request", "a", "d"), ("request", "d", "a"), ("dismiss", "a", "d")],
    ids=["block_by_user", "block_by_other", "pending_out", "pending_in", "dismissed"],
)
def test_excluded_people_are_never_suggested(square, deliver_events, verb, actor, other):
    act(verb, square[actor], square[other])
    deliver_events()
    assert store.suggestions_cached(square["a"].pk)[1] == []


def queued(broker, actor) -> int:
    """Messages for `actor` waiting on the unit tier's StubBroker."""
    return sum(
        1 for raw in list(broker.queues[actor.queue_name].queue) if Message.decode(raw).actor_name == actor.actor_name
    )


def test_a_burst_of_events_schedules_one_drain_and_recomputes_each_user_once(make_user, deliver_events, stub_broker):
    hub = make_user("hub")
    others = [make_user() for _ in range(30)]
    for other in others:
        services.friendship_create(user=hub, friend=other)
    before = queued(stub_broker, recompute_dirty_suggestions)
    assert deliver_events(drain=False) == 30
    assert queued(stub_broker, recompute_dirty_suggestions) - before == 1  # thirty events, one drain message
    assert freshness.drain_dirty() == 31  # hub + 30 friends, each once


def test_a_user_with_1000_friends_making_a_friend_enqueues_one_message(make_user, stub_broker):
    hub = make_user("hub")
    give_friends(hub, 1000)
    friend_sets.friend_sets_rebuild()
    newcomer = make_user("newcomer")
    services.friendship_create(user=hub, friend=newcomer)
    event = OutboxEvent.objects.get(name="friendship.created").as_message()
    before = sum(q.qsize() for q in stub_broker.queues.values())
    assert update_graph_after_friendship(event) == 1002  # hub, newcomer and the hub's 1,000 friends are affected
    assert sum(q.qsize() for q in stub_broker.queues.values()) - before == 1  # ...by one drain message, not 1,002
    assert freshness.drain_dirty() == 1002


def test_an_older_computation_never_overwrites_a_newer_result(square):
    a = square["a"]
    redis = get_redis()
    gen = int(redis.get(store.sgen_key(a.pk)) or 0)
    pipe = redis.pipeline()
    store.suggestions_write(pipe, a.pk, gen - 1, [graph.Suggestion(999, 9, ())], "2000-01-01T00:00:00+00:00")
    pipe.execute()
    assert store.suggestions_cached(a.pk)[1][0][0] == square["d"].pk


def test_cold_reads_by_many_readers_share_one_task(square):
    from friends.selectors import suggestions_get
    from friends.suggestions.enqueue import suggestions_request_computation_rollback_unsafe as request

    get_redis().delete(store.sugg_key(square["a"].pk))
    assert suggestions_get(user=square["a"]) is None
    first = request(user=square["a"])
    second = request(user=square["a"])
    assert first.status == second.status == "computing"
    assert first.task_id and first.task_id == second.task_id
    record = TaskRecord.objects.get(id=first.task_id)
    assert record.owner == square["a"] and record.actor_name == "compute_suggestions"


def test_rebuild_reproduces_what_the_events_maintained(square):
    redis = get_redis()
    maintained = {u.pk: store.suggestions_cached(u.pk)[1] for u in square.values()}
    for u in square.values():
        redis.delete(store.sugg_key(u.pk), friend_sets.friend_set_key(u.pk))
    graph_cache.graph_cache_rebuild()
    assert {u.pk: store.suggestions_cached(u.pk)[1] for u in square.values()} == maintained
