"""Friend-list visibility: each user chooses who sees their friend list (everyone, friends, only me;
default friends), on the profile page and the API; mutual friends stay visible between the viewer and
another user whatever the setting; lists shown to a viewer never hold a user who blocks the viewer, nor
an inactive user."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from accounts.services import profile_settings_update
from friends import friend_sets, services
from friends.suggestions import compute

User = get_user_model()
V1 = "/api/v1"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(make_user):
    """owner with two friends: `friend` (the viewer who is a friend) and `other`; `stranger` knows nobody."""
    owner, friend, other, stranger = (make_user(n) for n in ("owner", "friend", "other", "stranger"))
    services.friendship_create(user=owner, friend=friend)
    services.friendship_create(user=owner, friend=other)
    return {"owner": owner, "friend": friend, "stranger": stranger}


# setting -> who may see owner's list
MATRIX = {
    "everyone": {"owner": True, "friend": True, "stranger": True},
    "friends": {"owner": True, "friend": True, "stranger": False},
    "only_me": {"owner": True, "friend": False, "stranger": False},
}
CASES = [(setting, viewer, shown) for setting, row in MATRIX.items() for viewer, shown in row.items()]


@pytest.mark.django_db
@pytest.mark.parametrize(("setting", "viewer", "shown"), CASES, ids=[f"{s}-{v}" for s, v, _ in CASES])
def test_the_owners_setting_decides_who_sees_the_friend_list_on_the_api_and_the_page(
    people, api_as, setting, viewer, shown
):
    owner = people["owner"]
    profile_settings_update(user=owner, friend_list_visibility=setting)
    api = api_as(people[viewer])

    listed = api.get(f"{V1}/users/owner/friends/")
    profile = api.get(f"{V1}/users/owner/").json()
    client = browser(people[viewer])
    page = client.get(reverse("profile", args=["owner"]))
    whole = client.get(reverse("profile-friends", args=["owner"]))  # the list's own page
    assert page.status_code == whole.status_code == 200
    if shown:
        assert listed.status_code == 200
        assert sorted(f["user"]["username"] for f in listed.json()["results"]) == ["friend", "other"]
        assert profile["friend_count"] == listed.json()["count"] == 2
        assert sorted(row["username"] for row in page.context["friend_rows"]) == ["friend", "other"]
        assert page.context["friend_count"] == whole.context["friend_count"] == 2
        assert sorted(f.friend.username for f in whole.context["friends"]) == ["friend", "other"]
        assert 'href="/u/other/"' in page.content.decode() and 'href="/u/other/"' in whole.content.decode()
    else:
        assert listed.status_code == 403
        hidden = {"detail": "owner does not show their friend list to you.", "code": "friend_list_hidden"}
        assert listed.json() == hidden
        assert profile["friend_count"] is None
        assert page.context["friends_visible"] is False and whole.context.get("friends") is None
        for body in (page.content.decode(), whole.content.decode()):
            assert "owner does not show their friend list to you." in body
            assert "/u/other/" not in body


@pytest.mark.django_db
def test_the_default_is_friends_only(people, api_as):
    assert not Profile.objects.exists()
    assert api_as(people["owner"]).get(f"{V1}/me/").json()["friend_list_visibility"] == "friends"
    assert api_as(people["friend"]).get(f"{V1}/users/owner/friends/").status_code == 200
    assert api_as(people["stranger"]).get(f"{V1}/users/owner/friends/").status_code == 403


@pytest.mark.django_db
def test_the_owner_changes_it_with_patch_me_and_bad_values_change_nothing(people, api_as):
    api = api_as(people["owner"])
    response = api.patch(f"{V1}/me/", {"friend_list_visibility": "everyone"}, format="json")
    assert response.status_code == 200
    assert response.json()["friend_list_visibility"] == "everyone"
    assert api_as(people["stranger"]).get(f"{V1}/users/owner/friends/").status_code == 200

    api = api_as(people["owner"])
    for bad in ({"friend_list_visibility": "nobody"}, {"friend_list_visibility": None}, ["everyone"]):
        assert api.patch(f"{V1}/me/", bad, format="json").status_code == 400
    assert api.get(f"{V1}/me/").json()["friend_list_visibility"] == "everyone"
    for nothing in ({}, {"unknown": "x"}):
        assert api.patch(f"{V1}/me/", nothing, format="json").status_code == 400
    # A field that is not a setting is named, even beside a valid one, and nothing changes.
    for sneaky in ({"username": "hacked"}, {"is_staff": True, "friend_list_visibility": "only_me"}):
        response = api.patch(f"{V1}/me/", sneaky, format="json")
        assert response.status_code == 400
        assert set(response.json()) == set(sneaky) - {"friend_list_visibility"}, response.json()
    assert api.get(f"{V1}/me/").json()["username"] == "owner"
    empty_form = b"--B\r\nNone--B--\r\n"  # what a fuzzer sent: a multipart body without any part
    assert api.patch(f"{V1}/me/", empty_form, content_type="multipart/form-data; boundary=B").status_code == 400
    assert api.get(f"{V1}/me/").json()["friend_list_visibility"] == "everyone"


@pytest.mark.django_db
def test_the_owner_changes_it_on_the_settings_page(people):
    owner = people["owner"]
    client = browser(owner)
    page = client.get(reverse("settings"))
    assert page.status_code == 200
    assert 'value="friends" ' in page.content.decode() and "checked" in page.content.decode()
    response = client.post(reverse("settings"), {"friend_list_visibility": "only_me"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Your settings are saved."]
    assert Profile.objects.get(user=owner).friend_list_visibility == "only_me"
    assert browser(people["friend"]).get(reverse("profile", args=["owner"])).context["friends_visible"] is False

    refused = client.post(reverse("settings"), {"friend_list_visibility": "world"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert Profile.objects.get(user=owner).friend_list_visibility == "only_me"
    assert "only me" in client.get(reverse("profile", args=["owner"])).content.decode()


@pytest.mark.django_db
def test_others_cannot_change_anyones_setting(people, api_as):
    """`me/` is always the caller: there is no route naming another user's settings."""
    api_as(people["stranger"]).patch(f"{V1}/me/", {"friend_list_visibility": "everyone"}, format="json")
    assert api_as(people["stranger"]).get(f"{V1}/users/owner/friends/").status_code == 403


@pytest.mark.django_db
def test_mutual_friends_stay_visible_between_the_viewer_and_the_owner_whatever_the_setting(people, api_as):
    owner, stranger = people["owner"], people["stranger"]
    services.friendship_create(user=stranger, friend=people["friend"])
    profile_settings_update(user=owner, friend_list_visibility="only_me")
    friend_sets.friend_sets_rebuild()
    compute.mutual_recompute(stranger.pk, owner.pk)
    mutual = api_as(stranger).get(f"{V1}/users/owner/mutual-friends/").json()
    assert (mutual["status"], [u["username"] for u in mutual["results"]]) == ("ready", ["friend"])


@pytest.mark.django_db
def test_a_friend_who_blocks_the_viewer_or_is_inactive_is_not_listed_nor_counted(make_user, api_as):
    """The leak the review found: the blocker was listed, with a link, in a mutual contact's friend list."""
    viewer, contact, blocker, gone, kept = (make_user(n) for n in ("viewer", "contact", "blocker", "gone", "kept"))
    for friend in (blocker, gone, kept):
        services.friendship_create(user=contact, friend=friend)
    services.block_create(blocker=blocker, blocked=viewer)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    profile_settings_update(user=contact, friend_list_visibility="everyone")

    page = browser(viewer).get(reverse("profile", args=["contact"]))
    body = page.content.decode()
    assert [row["username"] for row in page.context["friend_rows"]] == ["kept"]
    assert page.context["friend_count"] == 1
    assert "blocker" not in body and "gone" not in body
    whole = browser(viewer).get(reverse("profile-friends", args=["contact"]))
    assert [f.friend.username for f in whole.context["friends"]] == ["kept"]
    assert whole.context["friend_count"] == 1
    assert "blocker" not in whole.content.decode() and "gone" not in whole.content.decode()
    api = api_as(viewer)
    listed = api.get(f"{V1}/users/contact/friends/").json()
    assert (listed["count"], [f["user"]["username"] for f in listed["results"]]) == (1, ["kept"])
    assert api.get(f"{V1}/users/contact/").json()["friend_count"] == 1
    # The owner sees their own list without the inactive friend, and the blocker (who blocks someone else).
    own = api_as(contact).get(f"{V1}/friends/").json()
    assert sorted(f["user"]["username"] for f in own["results"]) == ["blocker", "kept"]


@pytest.mark.django_db
def test_someone_the_viewer_blocks_is_left_out_of_other_peoples_lists_too(make_user, api_as):
    viewer, contact, blocked = (make_user(n) for n in ("viewer", "contact", "blocked"))
    services.friendship_create(user=contact, friend=blocked)
    services.block_create(blocker=viewer, blocked=blocked)
    profile_settings_update(user=contact, friend_list_visibility="everyone")
    assert api_as(viewer).get(f"{V1}/users/contact/friends/").json()["count"] == 0


@pytest.mark.django_db
def test_my_request_and_block_lists_leave_out_inactive_users(make_user, api_as):
    me, asker, asked, blocked = (make_user(n) for n in ("me", "asker", "asked", "blocked"))
    services.friend_request_send(from_user=asker, to_user=me)
    services.friend_request_send(from_user=me, to_user=asked)
    services.block_create(blocker=me, blocked=blocked)
    User.objects.filter(pk__in=[asker.pk, asked.pk, blocked.pk]).update(is_active=False)
    api = api_as(me)
    assert api.get(f"{V1}/friend-requests/", {"direction": "incoming"}).json()["count"] == 0
    assert api.get(f"{V1}/friend-requests/", {"direction": "outgoing"}).json()["count"] == 0
    assert api.get(f"{V1}/blocks/").json()["count"] == 0
    page = browser(me).get(reverse("friends")).content.decode()
    assert "asker" not in page and "asked" not in page and ">blocked" not in page
