"""The full rebuild: every active user's suggestions as the per-user recompute gives them, from one pass
over the table, written compare-and-set (a newer result is never overwritten)."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import F

from friends import exclusions, friend_sets
from friends.models import Friendship
from friends.suggestions import compute, rebuild, store
from socialsite.redis import get_redis
from tests.support.factories import act


def cached(user) -> list:
    return json.loads(get_redis().hget(store.sugg_key(user.pk), "data"))


def test_the_table_is_read_in_one_pass(make_graph):
    make_graph(["ab", "ac", "bc", "cd"])
    src, dst = rebuild.friendship_arrays()
    rows = Friendship.objects.values_list("user_id", "friend_id")
    if connection.vendor == "postgresql":  # each friendship once: the symmetric constraint holds the other row
        rows = rows.filter(user_id__lt=F("friend_id"))
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(rows)
    assert len(rows) == (4 if connection.vendor == "postgresql" else 8)


def test_the_rebuild_writes_what_the_recompute_writes_for_every_user(make_graph, make_user, deliver_events):
    users = make_graph(["ab", "ac", "bd", "cd", "de", "ef", "bf"], through="services")
    lonely = make_user("lonely")
    act("block", users["a"], users["e"])
    act("dismiss", users["b"], users["e"])
    deliver_events()
    everyone = [*users.values(), lonely]
    get_redis().delete(*[store.sugg_key(u.pk) for u in everyone])
    written = rebuild.suggestions_rebuild_all(progress=lambda done, total: None)
    assert written == len(everyone)
    from_rebuild = {u.username: cached(u) for u in everyone}
    friend_sets.friend_sets_rebuild()
    exclusions.exclusions_rebuild()
    compute.suggestions_recompute([u.pk for u in everyone])
    assert from_rebuild == {u.username: cached(u) for u in everyone}
    assert from_rebuild["lonely"] == []
    assert all(store.suggestions_cached(u.pk) is not None for u in everyone)


def test_a_newer_result_is_not_overwritten(make_graph):
    users = make_graph(["ab", "bc"])
    a = users["a"]
    get_redis().hset(store.sugg_key(a.pk), mapping={"gen": 99, "computed_at": store.now_stamp(), "data": "[]"})
    rebuild.suggestions_rebuild_all()
    assert get_redis().hget(store.sugg_key(a.pk), "gen") == "99" and cached(a) == []
    assert cached(users["c"]) == [[a.pk, 1, [users["b"].pk]]]
