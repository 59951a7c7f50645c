"""The demo-data import: the shipped SNAP ego-Facebook graph, loaded in bulk, idempotently.

The full graph is loaded once for the module, with real commits (so PostgreSQL checks the deferred
symmetric key), by the management command, twice; the tests then check what it left behind, and the
database is flushed afterwards.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Exists, OuterRef

from friends import bulk
from friends.friend_sets import friend_ids
from friends.models import Block, Friendship
from socialsite.models import OutboxEvent
from socialsite.redis import get_redis

User = get_user_model()

SNAP_SHA256 = "f41c026ed8af3cc3359f1ca5573d0605fb09ae0eefa34544b820fd8c6e2ef296"
PASSWORD = "demo-pass-for-tests"


def _snap_edges() -> set[tuple[int, int]]:
    """The shipped file's edges, parsed here without the code under test."""
    text = gzip.decompress(bulk.SHIPPED_GRAPH.read_bytes()).decode("ascii")
    return {tuple(sorted(map(int, line.split()))) for line in text.splitlines() if line.strip()}


def _rows_by_node(prefix: str) -> set[tuple[int, int]]:
    """Friendship rows between users of this prefix, as (node id, node id)."""
    n = len(prefix)
    rows = Friendship.objects.filter(user__username__startswith=prefix, friend__username__startswith=prefix)
    return {(int(u[n:]), int(f[n:])) for u, f in rows.values_list("user__username", "friend__username")}


def _redis_sets() -> dict[int, set[int]]:
    return {uid: friend_ids(uid) for uid in User.objects.filter(username__startswith="fb").values_list("id", flat=True)}


def _db_sets() -> dict[int, set[int]]:
    """Every fb* user's friend ids, as the friendship table has them."""
    sets: dict[int, set[int]] = {
        uid: set() for uid in User.objects.filter(username__startswith="fb").values_list("id", flat=True)
    }
    for user_id, friend_id in Friendship.objects.filter(user_id__in=sets).values_list("user_id", "friend_id"):
        sets[user_id].add(friend_id)
    return sets


@dataclass
class Loaded:
    users: tuple[int, int]  # fb* users after the first and second run
    rows: tuple[int, int]
    outputs: tuple[str, str]
    redis: tuple[dict[int, set[int]], dict[int, set[int]]]


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """`manage.py load_graph` on the shipped file, run twice with real commits; removed afterwards."""
    with django_db_blocker.unblock():
        assert not User.objects.filter(username__startswith="fb").exists()
        get_redis().flushdb()
        users, rows, outputs, redis = [], [], [], []
        for _ in range(2):
            out = StringIO()
            call_command("load_graph", "--no-progress", "--password", PASSWORD, stdout=out)
            users.append(User.objects.filter(username__startswith="fb").count())
            rows.append(Friendship.objects.count())
            outputs.append(out.getvalue())
            # The per-test Redis flush runs after this fixture, so keep what the command left there.
            redis.append(_redis_sets())
        yield Loaded(users=tuple(users), rows=tuple(rows), outputs=tuple(outputs), redis=tuple(redis))
        # Emptied as a transactional test's teardown does (TRUNCATE, then the post-migrate content types
        # and permissions): deleting 4,039 users one cascade at a time takes seconds.
        call_command("flush", interactive=False, verbosity=0)
        get_redis().flushdb()


def test_shipped_file_is_the_verbatim_snap_ego_facebook_graph():
    data = gzip.decompress(bulk.SHIPPED_GRAPH.read_bytes())
    assert hashlib.sha256(data).hexdigest() == SNAP_SHA256
    assert len(data.splitlines()) == 88_234


@pytest.mark.django_db
def test_loading_the_shipped_graph_creates_4039_users_and_176468_rows(loaded):
    assert loaded.users[0] == 4_039
    assert loaded.rows[0] == 2 * 88_234 == 176_468
    assert "4039 new" in loaded.outputs[0] and "176468 new" in loaded.outputs[0]


@pytest.mark.django_db
def test_loaded_friendships_are_exactly_the_file_edges_in_both_directions(loaded):
    edges = _snap_edges()
    assert _rows_by_node("fb") == edges | {(v, u) for u, v in edges}
    mirror = Friendship.objects.filter(user_id=OuterRef("friend_id"), friend_id=OuterRef("user_id"))
    assert not Friendship.objects.exclude(Exists(mirror)).exists()


@pytest.mark.django_db
def test_loading_twice_changes_no_count(loaded):
    assert loaded.users[1] == loaded.users[0] == User.objects.filter(username__startswith="fb").count()
    assert loaded.rows[1] == loaded.rows[0] == Friendship.objects.count()
    assert "(0 new)" in loaded.outputs[1]
    assert "176468 new" not in loaded.outputs[1]


@pytest.mark.django_db
def test_redis_friend_sets_equal_the_database_after_each_load(loaded):
    expected = _db_sets()
    assert len(expected) == 4_039
    assert loaded.redis[0] == expected
    assert loaded.redis[1] == expected


@pytest.mark.django_db
def test_demo_user_logs_in_with_the_demo_password_only(loaded, client):
    assert client.login(username="fb107", password=PASSWORD)
    client.logout()
    assert not client.login(username="fb107", password="wrong-password")


TINY = """# hand-made: a triangle 1-2-3, a tail 3-4, a repeat, a self-loop
1 2
2\t3

3 1
2 1
3 4
5 5
"""


@pytest.mark.django_db
@pytest.mark.parametrize("compressed", [True, False], ids=["gzipped", "plain"])
def test_small_edge_file_loads_the_right_graph(tmp_path: Path, compressed: bool):
    path = tmp_path / ("tiny.txt.gz" if compressed else "tiny.txt")
    path.write_bytes(gzip.compress(TINY.encode()) if compressed else TINY.encode())
    assert list(bulk.read_edge_file(path)) == [(1, 2), (2, 3), (3, 1), (2, 1), (3, 4), (5, 5)]

    result = bulk.graph_load(edges=bulk.read_edge_file(path), username_prefix="tiny", password=PASSWORD)

    assert (result.nodes, result.edges, result.users_created, result.rows_created) == (4, 4, 4, 8)
    assert (result.skipped_self_loops, result.skipped_duplicates) == (1, 1)
    assert set(User.objects.filter(username__startswith="tiny").values_list("username", flat=True)) == {
        "tiny1",
        "tiny2",
        "tiny3",
        "tiny4",
    }
    edges = {(1, 2), (2, 3), (1, 3), (3, 4)}
    assert _rows_by_node("tiny") == edges | {(v, u) for u, v in edges}

    again = bulk.graph_load(edges=bulk.read_edge_file(path), username_prefix="tiny", password=PASSWORD)
    assert (again.users_created, again.rows_created) == (0, 0)
    assert Friendship.objects.filter(user__username__startswith="tiny").count() == 8


def test_malformed_edge_line_is_reported_with_its_line_number(tmp_path: Path):
    path = tmp_path / "bad.txt"
    path.write_text("# ok\n1 2\n3\n")
    with pytest.raises(ValueError, match=r"bad.txt:3"):
        list(bulk.read_edge_file(path))


@pytest.mark.django_db
def test_bulk_load_emits_no_domain_events(tmp_path: Path):
    before = OutboxEvent.objects.count()
    bulk.graph_load(edges=[(1, 2), (2, 3)], username_prefix="quiet", password=PASSWORD)
    assert Friendship.objects.filter(user__username__startswith="quiet").count() == 4
    assert OutboxEvent.objects.count() == before


@pytest.mark.django_db
def test_existing_users_keep_their_password_and_blocked_pairs_stay_unfriended(make_user):
    a = make_user("keep1", password="my-own-password-1")
    b = make_user("keep2")
    Block.objects.create(blocker=b, blocked=a)

    result = bulk.graph_load(edges=[(1, 2), (1, 3), (2, 3)], username_prefix="keep", password=PASSWORD)

    assert (result.users_created, result.skipped_blocked, result.rows_created) == (1, 1, 4)
    a.refresh_from_db()
    assert a.check_password("my-own-password-1")
    assert not Friendship.objects.filter(user=a, friend=b).exists()
    assert not Friendship.objects.filter(user=b, friend=a).exists()


@pytest.mark.django_db
def test_command_limits_nodes_takes_password_from_env_and_rebuilds_friend_sets(tmp_path, monkeypatch, client):
    path = tmp_path / "tiny.txt"
    path.write_text(TINY)
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-environment")
    out = StringIO()

    call_command("load_graph", str(path), "--prefix", "cmd", "--limit-nodes", "3", "--no-progress", stdout=out)

    edges = {(1, 2), (2, 3), (1, 3)}  # the 3 lowest ids are 1, 2, 3: the tail to 4 is cut off
    assert _rows_by_node("cmd") == edges | {(v, u) for u, v in edges}
    ids = dict(User.objects.filter(username__startswith="cmd").values_list("username", "id"))
    assert set(ids) == {"cmd1", "cmd2", "cmd3"}
    assert friend_ids(ids["cmd1"]) == {ids["cmd2"], ids["cmd3"]}
    assert client.login(username="cmd2", password="from-the-environment")
    assert "Users: 3 (3 new)" in out.getvalue()
    # Suggestions are warm too: a triangle has nobody left to suggest, and that is a fresh, cached answer.
    from friends.suggestions.store import suggestions_cached

    assert all(suggestions_cached(uid)[1] == [] for uid in ids.values())


@pytest.mark.django_db
def test_command_without_cache_rebuild_leaves_redis_alone(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("7 8\n")
    call_command("load_graph", str(path), "--prefix", "nc", "--no-cache", "--no-progress", stdout=StringIO())
    user_id = User.objects.get(username="nc7").id
    assert Friendship.objects.filter(user_id=user_id).count() == 1
    assert friend_ids(user_id) == set()


def test_command_rejects_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such edge list"):
        call_command("load_graph", str(tmp_path / "nope.txt"), "--no-progress")
