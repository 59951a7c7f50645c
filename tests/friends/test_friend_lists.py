"""The packed friend lists (`flist:<u>`, int32) stay equal to the friend sets (`friends:<u>`) through every
writer: a friend and an unfriend (the pair sync), a deactivation (the membership script), the bulk
rebuild, and the consistency check's repair of a list that drifted (or is still in the old text format).
"""

from __future__ import annotations

import numpy as np
import pytest

from accounts import services as account_services
from friends import friend_sets, services
from friends.consistency import graph_consistency_repair
from socialsite.redis import get_redis

pytestmark = pytest.mark.django_db


def packed_list(user_id: int) -> list[int]:
    (value,) = friend_sets.friend_list_values([user_id])
    return friend_sets.parse_friend_list(value).tolist()


def assert_lists_equal_sets(users) -> None:
    for user in users:
        listed = packed_list(user.pk)
        assert len(listed) == len(set(listed)), user.username  # no friend twice (it would count two paths)
        assert set(listed) == friend_sets.friend_ids(user.pk), user.username


def test_pack_and_parse_round_trip_every_int4_id():
    ids = [1, 2, 7, 2**31 - 1]
    value = friend_sets.pack_friend_list(ids)
    assert len(value) == 4 * len(ids)
    assert friend_sets.parse_friend_list(value).tolist() == ids
    assert friend_sets.parse_friend_list(None).tolist() == []
    assert friend_sets.parse_friend_list(b"").tolist() == []
    with pytest.raises(OverflowError):
        friend_sets.pack_friend_list([2**31])


@pytest.mark.parametrize("size", [0, 1, 199, 200, 201, 450])
def test_the_lua_packing_writes_what_python_packs(size):
    """Slices of 200 ids per struct.pack: the edges of a slice, and more than one slice."""
    ids = [str(1000 + 3 * i) for i in range(size)]
    script = friend_sets.LUA_PACK_IDS + "return pack_ids(ARGV)"
    packed = get_redis().execute_command("EVAL", script, 0, *ids, NEVER_DECODE=True)
    assert (packed or b"") == friend_sets.pack_friend_list(int(x) for x in ids)


def test_lists_follow_friends_and_unfriends(make_graph, deliver_events):
    users = make_graph(["ab", "ac", "bc", "cd"], through="services")
    deliver_events()
    assert_lists_equal_sets(users.values())
    assert sorted(packed_list(users["c"].pk)) == sorted(u.pk for u in (users["a"], users["b"], users["d"]))
    services.friendship_remove(user=users["c"], friend=users["a"])
    services.friendship_create(user=users["d"], friend=users["a"])
    deliver_events()
    assert_lists_equal_sets(users.values())
    assert sorted(packed_list(users["a"].pk)) == sorted([users["b"].pk, users["d"].pk])


def test_lists_follow_a_deactivation_and_a_reactivation(make_graph, deliver_events, django_capture_on_commit_callbacks):
    users = make_graph(["ab", "ac", "bc", "cd"], through="services")
    deliver_events()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_deactivate(user=users["c"])
    assert_lists_equal_sets(users.values())
    assert packed_list(users["c"].pk) == [] and users["c"].pk not in packed_list(users["a"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_reactivate(user=users["c"])
    deliver_events()
    assert_lists_equal_sets(users.values())
    assert users["c"].pk in packed_list(users["d"].pk)


def test_the_bulk_rebuild_writes_lists_equal_to_the_sets(make_graph):
    users = make_graph(["ab", "ac", "bc", "cd", "de"])
    get_redis().flushdb()
    friend_sets.friend_sets_rebuild()
    assert_lists_equal_sets(users.values())
    assert friend_sets.friend_lists([users["e"].pk, users["a"].pk])[0].tolist() == [users["d"].pk]


@pytest.mark.parametrize("corrupt", ["old text format", "extra id", "missing id", "duplicate id"])
def test_the_consistency_check_rewrites_a_drifted_list(make_graph, deliver_events, corrupt):
    users = make_graph(["ab", "ac", "bc", "cd"], through="services")
    deliver_events()
    c = users["c"]
    right = sorted(friend_sets.friend_ids(c.pk))
    wrong = {
        "old text format": ",".join(map(str, right)).encode(),
        "extra id": friend_sets.pack_friend_list([*right, users["c"].pk + 1000]),
        "missing id": friend_sets.pack_friend_list(right[1:]),
        "duplicate id": friend_sets.pack_friend_list([*right, right[0]]),
    }[corrupt]
    get_redis().set(friend_sets.friend_list_key(c.pk), wrong)

    report = graph_consistency_repair().as_dict()

    assert c.pk in report["repairs"]["friend_list_mismatch"]["user_ids"]
    assert_lists_equal_sets(users.values())
    assert np.array_equal(np.sort(friend_sets.friend_lists([c.pk])[0]), right)
