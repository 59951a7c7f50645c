"""A profile's mutual friends, confirmed by the database once per version of the two users' friendships
and kept beside the cached list (`friends.selectors._mutual_listable_at`): a later view reads only the
names of its page, and every change that can take someone off the list moves the version, so the next
view checks again. Each test views the profile, changes something, and views it again in the same test
transaction, as the one case where a row's `xmin` alone would not have moved."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from friends import selectors, services
from friends.models import Block, Friendship
from friends.suggestions import store
from socialsite.redis import get_redis
from tests.support.factories import befriend, fill_mutual
from tests.support.pages import browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_graph):
    """alice and erin have bob, carol and dan in common; gus is erin's friend only."""
    return make_graph(
        [*[(a, f) for a in ("alice", "erin") for f in ("bob", "carol", "dan")], ("erin", "gus")],
        names=("alice", "bob", "carol", "dan", "erin", "gus"),
    )


def listed(client, owner: str = "erin") -> tuple[list[str], int]:
    """The names the profile lists as mutual friends, and the count it prints."""
    html = client.get(reverse("profile", args=[owner])).content.decode()
    names = re.findall(r">(\w+)</a>", re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1))
    return names, int(re.search(r'Mutual friends <span class="muted">\((\d+)\)</span>', html).group(1))


def kept(a, b) -> dict | None:
    """What is kept beside the pair's cached list: `{"of", "version", "ids"}`, or None."""
    raw = get_redis().hget(store.mutual_key(a.pk, b.pk), "checked")
    return None if raw is None else json.loads(raw)


def test_the_check_runs_once_then_a_view_reads_only_its_names(people):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    client = browser(alice)
    assert listed(client) == (["bob", "carol", "dan"], 3)
    confirmed = kept(alice, erin)
    assert confirmed["ids"] == sorted(people[n].pk for n in ("bob", "carol", "dan"))
    with CaptureQueriesContext(connection) as queries:
        assert listed(client) == (["bob", "carol", "dan"], 3)
    # No statement of the second view reads friendships through the cached ids: the preview of erin's
    # friends reads her friendships by her id, and the mutual friends' names read users alone.
    assert not [q for q in queries.captured_queries if "unnest" in q["sql"] and "friends_friendship" in q["sql"]]
    assert kept(alice, erin) == confirmed


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: services.friendship_remove(user=p["bob"], friend=p["alice"]), id="unfriends-viewer"),
        pytest.param(lambda p: services.friendship_remove(user=p["bob"], friend=p["erin"]), id="unfriends-owner"),
        pytest.param(lambda p: services.block_create(blocker=p["bob"], blocked=p["alice"]), id="blocks-viewer"),
        pytest.param(lambda p: services.block_create(blocker=p["alice"], blocked=p["bob"]), id="viewer-blocks"),
        pytest.param(
            lambda p: Friendship.objects.filter(Q(user=p["bob"]) | Q(friend=p["bob"])).delete(), id="rows-deleted"
        ),
    ],
)
def test_a_mutual_friend_who_leaves_either_user_is_gone_from_the_next_view(people, change):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    client = browser(alice)
    assert listed(client) == (["bob", "carol", "dan"], 3)
    change(people)
    assert listed(client) == (["carol", "dan"], 2)


def test_a_mutual_friend_deactivated_is_gone_and_back_once_reactivated(people):
    alice, erin, bob = people["alice"], people["erin"], people["bob"]
    fill_mutual(alice, erin)
    client = browser(alice)
    assert listed(client) == (["bob", "carol", "dan"], 3)
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert listed(client) == (["carol", "dan"], 2)
    bob.is_active = True
    bob.save(update_fields=["is_active"])
    assert listed(client) == (["bob", "carol", "dan"], 3)


def test_a_friend_made_after_the_computation_is_not_listed_before_the_recomputation(people):
    """gus becomes alice's friend: a mutual friend now, but not in the cached computation; the check
    confirms ids, it never adds any (the recomputation will)."""
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    client = browser(alice)
    listed(client)
    befriend((alice, people["gus"]))
    assert listed(client) == (["bob", "carol", "dan"], 3)
    fill_mutual(alice, erin)
    assert listed(client) == (["bob", "carol", "dan", "gus"], 4)


def test_a_block_that_left_the_friendship_in_place_still_hides_the_name(people):
    """A block always ends the friendship (`services.block_create`); a row written around the services
    does not move the version, and the names' statement still leaves the blocker out."""
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    client = browser(alice)
    listed(client)
    Block.objects.create(blocker=people["carol"], blocked=alice)
    names, _count = listed(client)
    assert names == ["bob", "dan"]


def test_a_confirmation_is_used_only_at_its_version_and_for_its_computation(people):
    """Kept at a version that is not the current one (a change between the profile's statement and the
    check), it is not used: the next reader checks again. A recomputation of the pair's list makes what
    was kept beside the old list unusable too, whatever the version."""
    alice, erin, bob = people["alice"], people["erin"], people["bob"]
    fill_mutual(alice, erin)
    current = selectors.user_profile(viewer=alice, username="erin").friendships_version
    assert current and ":" in current
    first = selectors.mutual_friends_get(viewer=alice, other=erin, version="an-older-version")
    assert first.count == 3 and kept(alice, erin)["version"] == "an-older-version"
    services.friendship_remove(user=bob, friend=alice)
    assert selectors.user_profile(viewer=alice, username="erin").friendships_version != current
    entry = store.mutual_entry(alice.pk, erin.pk)
    assert entry.checked_at("an-older-version") is not None and entry.checked_at(current) is None
    fill_mutual(alice, erin)  # recomputed: bob is no longer in the list, and what was kept is not used
    assert store.mutual_entry(alice.pk, erin.pk).checked_at("an-older-version") is None


def test_what_is_kept_never_outlives_its_entry(people):
    """Kept only beside the entry it was checked against: an entry deleted meanwhile (the full rebuild
    clears them) is not recreated holding nothing but the confirmation."""
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    entry = store.mutual_entry(alice.pk, erin.pk)
    store.mutual_entries_clear()
    assert store.mutual_checked_write(entry, version="v", checked=entry.ids) is False
    assert get_redis().exists(store.mutual_key(alice.pk, erin.pk)) == 0


def test_a_page_past_the_end_of_a_confirmed_list_costs_no_check(people, django_assert_num_queries):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    version = selectors.user_profile(viewer=alice, username="erin").friendships_version
    selectors.mutual_friends_get(viewer=alice, other=erin, version=version)
    with django_assert_num_queries(0):
        past = selectors.mutual_friends_get(viewer=alice, other=erin, version=version, offset=50)
    assert (past.results, past.count) == ([], 3)


def test_the_api_reads_the_same_confirmation_and_sees_the_same_changes(people, api_as):
    """`users/{name}/` (its `mutual_friend_count`) and `users/{name}/mutual-friends/` read the version with
    the profile too: once a confirmation is kept, the count costs no mutual-friends query, and an unfriend
    still takes the person off both at once."""
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    api = api_as(alice)

    def read() -> tuple[int, int, list[str]]:
        count = api.get("/api/v1/users/erin/").json()["mutual_friend_count"]
        body = api.get("/api/v1/users/erin/mutual-friends/").json()
        return count, body["count"], [r["username"] for r in body["results"]]

    assert read() == (3, 3, ["bob", "carol", "dan"])
    assert kept(alice, erin)["ids"] == sorted(people[n].pk for n in ("bob", "carol", "dan"))
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/users/erin/").json()["mutual_friend_count"] == 3
    assert not [q for q in queries.captured_queries if "unnest" in q["sql"]]
    services.friendship_remove(user=people["carol"], friend=alice)
    assert read() == (2, 2, ["bob", "dan"])
