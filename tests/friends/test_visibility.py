"""One visibility rule: who a viewer may see, and the same filter for every mutual-friend list and count.

`selectors.user_visible_to` decides whether a user is visible to a viewer (unknown, inactive and "blocks
me" look the same everywhere); `mutual_friend_count` on a profile and `count` of the mutual-friends list
go through the same filter, whatever blocks exist among the viewer, the other user and a mutual friend.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from friends import friend_sets, services
from friends.models import Block, FriendRequest, Friendship, SuggestionDismissal
from friends.suggestions import compute

User = get_user_model()
V1 = "/api/v1"

# The six directed block edges among viewer (v), other (o) and their mutual friend (m).
EDGES = [("v", "o"), ("o", "v"), ("v", "m"), ("m", "v"), ("o", "m"), ("m", "o")]
COMBINATIONS = [
    frozenset(edge for edge, present in zip(EDGES, mask, strict=True) if present)
    for mask in itertools.product([False, True], repeat=len(EDGES))
]


def _label(blocks: frozenset) -> str:
    return ",".join(f"{a}>{b}" for a, b in sorted(blocks)) or "none"


def _befriend(*pairs) -> None:
    Friendship.objects.bulk_create(
        [Friendship(user=a, friend=b) for a, b in pairs] + [Friendship(user=b, friend=a) for a, b in pairs]
    )


def _counts(api, page: Client, other: str) -> tuple[int | None, int | None, int | None]:
    """(profile's mutual_friend_count, the list's count) from the API, and the count the page shows."""
    profile = api.get(f"{V1}/users/{other}/")
    listed = api.get(f"{V1}/users/{other}/mutual-friends/")
    shown = page.get(reverse("profile", args=[other]))
    assert profile.status_code == listed.status_code == shown.status_code == 200
    return profile.json()["mutual_friend_count"], listed.json()["count"], shown.context["mutual"].count


@pytest.mark.django_db
@pytest.mark.parametrize("blocks", COMBINATIONS, ids=_label)
def test_profile_mutual_friend_count_equals_the_mutual_friends_list_count(blocks, make_user, api_as, deliver_events):
    people = {"v": make_user("viewer"), "o": make_user("other"), "m": make_user("mutual")}
    always = make_user("always")  # a second mutual friend nobody blocks, so a count is never trivially 0
    v, o, m = people["v"], people["o"], people["m"]
    _befriend((v, m), (o, m), (v, always), (o, always))
    friend_sets.friend_sets_rebuild()
    compute.mutual_recompute(v.pk, o.pk)  # a warm cache, then the blocks happen
    for blocker, blocked in sorted(blocks):
        services.block_create(blocker=people[blocker], blocked=people[blocked])
    api, page = api_as(v), Client()
    page.force_login(v)

    if ("o", "v") in blocks:  # the other user blocks the viewer: invisible, like an unknown name
        for path in (f"{V1}/users/other/", f"{V1}/users/other/mutual-friends/"):
            response = api.get(path)
            assert (response.status_code, response.json()["detail"]) == (404, "No user named 'other'.")
        assert page.get(reverse("profile", args=["other"])).status_code == 404
        return

    # m counts only if still a friend of both (a block ends a friendship) and not blocked either way with
    # the viewer. 1. Before the worker has seen the blocks the cached entry still names m, but the list
    # and the count check it against the table; 2. once the events are handled and the pair recomputed.
    m_mutual = not ({("v", "m"), ("m", "v"), ("o", "m"), ("m", "o")} & blocks)
    assert _counts(api, page, "other") == (1 + m_mutual,) * 3
    deliver_events()
    compute.mutual_recompute(v.pk, o.pk)
    assert _counts(api, page, "other") == (1 + m_mutual,) * 3


# --- every page and endpoint that names a user answers the same 404 for the three invisible cases -----


@pytest.fixture
def invisible(make_user):
    """Three users the viewer must not be able to tell apart from a name nobody has (names ignore letter
    case, so written in another case too)."""
    viewer = make_user("viewer")
    gone = make_user("gone", is_active=False)
    blocker = make_user("blocker")
    services.block_create(blocker=blocker, blocked=viewer)
    return viewer, ["nobody", gone.username, "GONE", blocker.username, "Blocker"]


API_CALLS = [
    ("get", "users/{u}/", None),
    ("get", "users/{u}/mutual-friends/", None),
    ("post", "friend-requests/", {"to_user": "{u}"}),
    ("delete", "friends/{u}/", None),
    ("post", "blocks/", {"username": "{u}"}),
    ("delete", "blocks/{u}/", None),
    ("post", "suggestions/{u}/dismiss/", None),
]
PAGES = [
    ("get", "profile"),
    ("post", "send-request"),
    ("post", "unfriend"),
    ("post", "block"),
    ("post", "unblock"),
    ("post", "dismiss-suggestion"),
]


def _db_state() -> list:
    return [
        sorted(Friendship.objects.values_list("user_id", "friend_id")),
        sorted(FriendRequest.objects.values_list("from_user_id", "to_user_id", "state")),
        sorted(Block.objects.values_list("blocker_id", "blocked_id")),
        sorted(SuggestionDismissal.objects.values_list("user_id", "dismissed_id")),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body"), API_CALLS, ids=[f"{m} {p}" for m, p, _ in API_CALLS])
def test_every_endpoint_naming_a_user_hides_unknown_inactive_and_blocking_users_alike(
    invisible, api_as, method, path, body
):
    viewer, names = invisible
    client = api_as(viewer)
    before = _db_state()
    for name in names:
        data = {k: v.format(u=name) for k, v in body.items()} if body else None
        response = getattr(client, method)(f"{V1}/{path.format(u=name)}", data, format="json")
        assert response.status_code == 404, (name, response.content)
        assert response.json() == {"detail": f"No user named {name!r}.", "code": "not_found"}
    assert _db_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url_name"), PAGES, ids=[name for _, name in PAGES])
def test_every_page_naming_a_user_hides_unknown_inactive_and_blocking_users_alike(invisible, method, url_name):
    viewer, names = invisible
    client = Client()
    client.force_login(viewer)
    before = _db_state()
    for name in names:
        response = getattr(client, method)(reverse(url_name, args=[name]))
        assert response.status_code == 404, name
    assert _db_state() == before


@pytest.mark.django_db
def test_a_name_in_another_letter_case_names_the_same_user(api_as, alice, bob):
    """Usernames are unique ignoring case: `/u/ALICE/` is alice's profile, at its one address."""
    client = Client()
    client.force_login(bob)
    response = client.get("/u/ALICE/?page=2")
    assert (response.status_code, response["Location"]) == (301, "/u/alice/?page=2")
    assert client.get(response["Location"]).status_code == 200
    assert api_as(bob).get(f"{V1}/users/Alice/").json()["username"] == "alice"
    assert api_as(bob).post(f"{V1}/friend-requests/", {"to_user": "ALICE"}, format="json").status_code == 201
    assert FriendRequest.objects.filter(from_user=bob, to_user=alice, state="pending").exists()


@pytest.mark.django_db
def test_a_user_one_blocks_stays_visible_to_unblock_them(api_as, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    client = api_as(alice)
    assert client.get(f"{V1}/users/bob/").json()["blocked_by_me"] is True
    assert client.delete(f"{V1}/blocks/bob/").status_code == 204


@pytest.mark.django_db
def test_an_inactive_mutual_friend_is_neither_listed_nor_counted(make_user, api_as):
    viewer, other, gone, kept = (make_user(n) for n in ("viewer", "other", "gone", "kept"))
    _befriend((viewer, gone), (other, gone), (viewer, kept), (other, kept))
    friend_sets.friend_sets_rebuild()
    compute.mutual_recompute(viewer.pk, other.pk)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    api = api_as(viewer)
    listed = api.get(f"{V1}/users/other/mutual-friends/").json()
    assert (listed["count"], [u["username"] for u in listed["results"]]) == (1, ["kept"])
    assert api.get(f"{V1}/users/other/").json()["mutual_friend_count"] == 1


@pytest.mark.django_db
def test_a_long_mutual_list_pages_the_still_listable_and_counts_them_all(make_user, api_as):
    """Past `MUTUAL_PAGE`: the page is the first 50 still listable (smallest ids), not the first 50 cached
    minus the gone ones, and `count` counts every one still listable, on both endpoints."""
    from friends.selectors import MUTUAL_PAGE

    viewer, other = make_user("viewer"), make_user("other")
    mutual = [make_user(f"m{i:02d}") for i in range(MUTUAL_PAGE + 10)]
    _befriend(*((viewer, m) for m in mutual), *((other, m) for m in mutual))
    friend_sets.friend_sets_rebuild()
    compute.mutual_recompute(viewer.pk, other.pk)
    gone = mutual[:3]  # the smallest ids: the page must reach past them
    User.objects.filter(pk__in=[u.pk for u in gone]).update(is_active=False)
    listed = api_as(viewer).get(f"{V1}/users/other/mutual-friends/").json()
    assert listed["count"] == MUTUAL_PAGE + 7
    assert [u["username"] for u in listed["results"]] == [u.username for u in mutual[3 : 3 + MUTUAL_PAGE]]
    assert api_as(viewer).get(f"{V1}/users/other/").json()["mutual_friend_count"] == MUTUAL_PAGE + 7
