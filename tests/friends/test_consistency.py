"""The consistency check: each kind of drift made on purpose in Redis is found, repaired and reported, and
a second run then finds nothing."""

from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.auth import get_user_model

from friends import friend_sets, services
from friends.consistency import graph_consistency_repair
from friends.graph_cache import graph_cache_repair
from friends.models import Friendship
from friends.suggestions import compute, store
from friends.tasks import check_graph_consistency
from socialsite import queues
from socialsite.redis import get_redis

from .test_suggestions import db_reference, ids

User = get_user_model()


@pytest.fixture
def square(make_user, deliver_events):
    """a-b, a-c, b-d, c-d, d-e, made through the services and their events (generations above 0), plus
    the mutual-friends entry of a and d."""
    users = {n: make_user(n) for n in "abcde"}
    for x, y in ["ab", "ac", "bd", "cd", "de"]:
        services.friendship_create(user=users[x], friend=users[y])
    deliver_events()
    compute.mutual_recompute(users["a"].pk, users["d"].pk)
    return users


def table_friends(user) -> set[int]:
    return set(Friendship.objects.filter(user=user).values_list("friend_id", flat=True))


def listed(user) -> set[int]:
    """The user's packed `flist:` as a set; the list never names a friend twice."""
    (compact,) = friend_sets.friend_list_values([user.pk])
    ids = friend_sets.parse_friend_list(compact).tolist()
    assert len(ids) == len(set(ids))
    return set(ids)


def assert_consistent(users) -> None:
    """Redis agrees with the table for every user, and a second check finds nothing to repair."""
    for user in users:
        assert friend_sets.friend_ids(user.pk) == table_friends(user) == listed(user), user.username
        cached = store.suggestions_cached(user.pk)
        assert cached is not None, f"{user.username}'s suggestions are not fresh"
        assert ids(cached[1]) == db_reference(user), user.username
    again = graph_consistency_repair().as_dict()
    assert again["drift"] is False, again["repairs"]


def repaired(report, kind: str, *users) -> bool:
    found = report.as_dict()["repairs"].get(kind)
    return found is not None and set(found["user_ids"]) == {u.pk for u in users} and found["users"] == len(users)


def test_clean_graph_reports_no_drift(square, make_user):
    make_user("loner")  # no friends, never read their suggestions: no entry, and that is not drift
    quiet = make_user("quiet")
    services.friendship_create(user=quiet, friend=square["e"])
    compute.suggestions_recompute([quiet.pk])
    quiet.is_active = False  # a deactivated user's entry stays (events still recompute it)
    quiet.save()
    Friendship.objects.filter(user=quiet).delete()  # hand-made, so Redis is still right about the others
    Friendship.objects.filter(friend=quiet).delete()

    report = graph_consistency_repair().as_dict()

    assert report["drift"] is False and report["repairs"] == {} and report["users_touched"] == 0
    assert report["checked"]["users"] == 6 and report["checked"]["suggestions"] == 6
    assert get_redis().exists(store.sugg_key(quiet.pk))


def test_stale_suggestions_nobody_recomputes_are_recomputed_and_reported(square):
    a = square["a"]
    get_redis().incr(store.sgen_key(a.pk))  # a change was marked, but its recompute never came (lost)
    assert store.suggestions_cached(a.pk) is None

    report = graph_consistency_repair()

    assert repaired(report, "suggestions_stale", a)
    assert_consistent(square.values())


def test_friend_set_with_an_extra_and_a_missing_member_is_repaired_and_reported(square):
    a, b, e = square["a"], square["b"], square["e"]
    get_redis().sadd(friend_sets.friend_set_key(a.pk), e.pk)  # a is not e's friend
    get_redis().srem(friend_sets.friend_set_key(a.pk), b.pk)  # a is b's friend

    report = graph_consistency_repair()

    assert repaired(report, "friend_set_extra_member", a)
    assert repaired(report, "friend_set_missing_member", a)
    assert report.as_dict()["users_touched"] == 1
    assert friend_sets.friend_ids(a.pk) == {b.pk, square["c"].pk}
    assert_consistent(square.values())


def test_lost_generation_keys_are_raised_above_every_stamp(square):
    a, d = square["a"], square["d"]
    redis = get_redis()
    sugg_stamp = int(redis.hget(store.sugg_key(a.pk), "gen"))
    mutual_stamp = int(redis.hget(store.mutual_key(a.pk, d.pk), "gens").split(":")[0])
    assert sugg_stamp > 0 and mutual_stamp > 0
    redis.delete(store.sgen_key(a.pk), store.fgen_key(a.pk))
    # Why it matters: with sgen back at 0 the entry reads as stale, and a recompute at generation 0 cannot
    # replace it (a write is refused when the stored stamp is newer than the generation it was computed at).
    assert store.suggestions_cached(a.pk) is None
    compute.suggestions_recompute([a.pk])
    assert store.suggestions_cached(a.pk) is None
    # The refused write raised the generation past the stamp: the next reader's computation is stored, so a
    # lost generation key never leaves the user on "computing" for good.
    assert int(redis.get(store.sgen_key(a.pk))) > sugg_stamp
    compute.suggestions_recompute([a.pk])
    assert store.suggestions_cached(a.pk) is not None

    report = graph_consistency_repair()

    assert repaired(report, "friend_generation_lost", a)
    assert int(redis.get(store.fgen_key(a.pk))) > mutual_stamp
    assert store.mutual_entry(a.pk, d.pk) is None  # the old entry can never look fresh again
    assert compute.mutual_recompute(a.pk, d.pk) == [square["b"].pk, square["c"].pk]
    assert_consistent(square.values())


def test_suggestions_computed_from_a_wrong_set_are_recomputed_and_reported(square):
    a, b, e = square["a"], square["b"], square["e"]
    redis = get_redis()
    (right,) = friend_sets.friend_list_values([b.pk])
    redis.set(friend_sets.friend_list_key(b.pk), right + friend_sets.pack_friend_list([e.pk]))  # wrongly has e
    compute.suggestions_recompute([a.pk])
    redis.set(friend_sets.friend_list_key(b.pk), right)
    _, wrong = store.suggestions_cached(a.pk)  # fresh by its generation, but wrong
    assert e.pk in [row[0] for row in wrong]

    report = graph_consistency_repair()

    assert repaired(report, "suggestions_wrong", a)
    assert set(report.as_dict()["repairs"]) == {"suggestions_wrong"}
    assert ids(store.suggestions_cached(a.pk)[1]) == db_reference(a) == [(square["d"].pk, 2)]
    assert_consistent(square.values())


def test_mutual_entry_that_disagrees_with_the_table_is_recomputed_and_reported(square):
    a, d = square["a"], square["d"]
    get_redis().hset(store.mutual_key(a.pk, d.pk), "data", json.dumps([square["e"].pk]))

    report = graph_consistency_repair()

    assert repaired(report, "mutual_wrong", a, d)
    assert store.mutual_entry(a.pk, d.pk).ids == [square["b"].pk, square["c"].pk]
    assert_consistent(square.values())


def test_flushed_redis_is_left_to_one_repair_by_rebuild(square, stub_broker):
    """No "built" marker (Redis emptied): the check compares nothing and asks for the repair instead, a full
    rebuild under the rebuild lock (`graph_cache_repair`), once however often it is asked."""
    get_redis().flushdb()

    report = graph_consistency_repair().as_dict()
    graph_consistency_repair()

    assert report["checked"] == {"graph_lost": 1} and not report["drift"]
    actors = [json.loads(message)["actor_name"] for message in stub_broker.queues[queues.GRAPH].queue]
    assert actors.count("repair_graph_cache") == 1
    assert graph_cache_repair()["users"] == 5
    assert graph_cache_repair() is None  # built again: a second repair finds nothing to do
    assert_consistent(square.values())


def test_user_deleted_without_events_leaves_drift_that_is_repaired(square, make_user, deliver_events):
    d = square["d"]
    gone = make_user("gone")
    services.friendship_create(user=d, friend=gone)
    deliver_events()
    gone_id = gone.pk
    gone.delete()  # the friendship rows go by cascade: no service, no event

    report = graph_consistency_repair().as_dict()

    assert report["repairs"]["friend_set_extra_member"]["user_ids"] == sorted([d.pk, gone_id])
    assert report["repairs"]["suggestions_orphan"]["user_ids"] == [gone_id]
    assert gone_id not in friend_sets.friend_ids(d.pk) and not get_redis().exists(friend_sets.friend_set_key(gone_id))
    assert_consistent(square.values())


def test_big_flush_is_repaired_in_bulk(db):
    """Above 100 users missing, friend sets and suggestions are rebuilt in one pass each, not per user."""
    users = User.objects.bulk_create([User(username=f"bulk{i}") for i in range(150)])
    rows = []
    for left, right in itertools.pairwise(users):  # a path: everyone has friends of friends
        rows += [Friendship(user=left, friend=right), Friendship(user=right, friend=left)]
    Friendship.objects.bulk_create(rows)  # no event: Redis has none of these sets (but is "built")

    report = graph_consistency_repair().as_dict()

    assert report["repairs"]["friend_set_missing"]["users"] == 150
    assert report["repairs"]["suggestions_missing"]["users"] == 150
    assert friend_sets.friend_ids(users[1].pk) == {users[0].pk, users[2].pk}
    assert_consistent(users[:3] + users[-2:])


def test_actor_returns_the_report_as_its_task_result(square):
    get_redis().srem(friend_sets.friend_set_key(square["e"].pk), square["d"].pk)
    result = check_graph_consistency()
    assert result["drift"] is True
    assert result["repairs"]["friend_set_missing"] == {"count": 1, "users": 1, "user_ids": [square["e"].pk]}


def test_redis_emptied_during_the_repair_leaves_it_unbuilt_and_the_repair_runs_again(square, monkeypatch):
    """The marker is set only by a rebuild that still holds its lock: emptied half-way, Redis is not "built"
    (no result is served from the half-written sets), and the repair raises so its actor runs it again."""
    from friends import exclusions, graph_cache

    get_redis().flushdb()
    real = exclusions.exclusions_rebuild

    def rebuild_then_flush() -> int:
        found = real()
        get_redis().flushdb()  # Redis restarted empty again, with the friend sets just written
        return found

    monkeypatch.setattr(exclusions, "exclusions_rebuild", rebuild_then_flush)
    with pytest.raises(graph_cache.GraphStateLost):
        graph_cache_repair()
    assert not friend_sets.friend_sets_built()
    assert store.suggestions_cached(square["a"].pk) is None

    monkeypatch.setattr(exclusions, "exclusions_rebuild", real)
    assert graph_cache_repair()["users"] == 5
    assert_consistent(square.values())
