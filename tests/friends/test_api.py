"""REST API v1 of the friend graph: happy paths, privacy, and every kind of bad input refused with a 4xx
that changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from knox.models import AuthToken

from accounts.services import profile_settings_update
from friends import services
from friends.models import Block, FriendRequest, Friendship
from socialsite.models import OutboxEvent
from tests.support.factories import act, give_friends

User = get_user_model()
V1 = "/api/v1"


def db_state() -> dict:
    """Everything an API call could change; compared before and after a refused call."""
    return {
        "users": sorted(User.objects.values_list("id", "username", "email", "password")),
        "tokens": sorted(AuthToken.objects.values_list("digest", "user_id")),
        "friendships": sorted(Friendship.objects.values_list("user_id", "friend_id", "is_friend_since")),
        "requests": sorted(
            FriendRequest.objects.values_list("id", "from_user_id", "to_user_id", "state", "responded_at")
        ),
        "blocks": sorted(Block.objects.values_list("blocker_id", "blocked_id")),
        "events": OutboxEvent.objects.count(),
    }


def friend_usernames(api) -> list[str]:
    response = api.get(f"{V1}/friends/")
    assert response.status_code == 200
    return [item["user"]["username"] for item in response.json()["results"]]


@pytest.fixture
def pending(alice, bob) -> FriendRequest:
    """A pending request alice -> bob."""
    return services.friend_request_send(from_user=alice, to_user=bob)


# --- happy paths ---------------------------------------------------------------------------------


def test_sign_up_then_token_then_me_returns_the_new_account(api, db):
    response = api.post(
        f"{V1}/users/", {"username": "dave", "password": "a-long-Passphrase-9", "email": "dave@example.com"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "dave" and body["email"] == "dave@example.com"
    assert "password" not in body
    assert User.objects.get(username="dave").check_password("a-long-Passphrase-9")

    response = api.post(f"{V1}/auth/token/", {"username": "dave", "password": "a-long-Passphrase-9"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get(f"{V1}/me/").json()
    assert me["username"] == "dave" and me["id"] == body["id"] and me["friend_count"] == 0


def test_send_then_accept_makes_both_see_each_other_in_friends_with_since(api_as, alice, bob):
    response = api_as(alice).post(f"{V1}/friend-requests/", {"to_user": "bob"}, format="json")
    assert response.status_code == 201
    sent = response.json()
    assert sent["state"] == "pending"
    assert sent["from_user"]["username"] == "alice" and sent["to_user"]["username"] == "bob"

    incoming = api_as(bob).get(f"{V1}/friend-requests/").json()
    assert [r["id"] for r in incoming["results"]] == [sent["id"]]

    response = api_as(bob).post(f"{V1}/friend-requests/{sent['id']}/accept/")
    assert response.status_code == 200
    assert response.json()["state"] == "accepted"

    for user, other in ((alice, "bob"), (bob, "alice")):
        body = api_as(user).get(f"{V1}/friends/").json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 1
        [item] = body["results"]
        assert item["user"]["username"] == other
        assert item["since"]
    assert Friendship.objects.count() == 2


def test_request_crossing_a_pending_one_comes_back_accepted_and_makes_friends(api_as, alice, bob, pending):
    response = api_as(bob).post(f"{V1}/friend-requests/", {"to_user": "alice"}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] == pending.id
    assert response.json()["state"] == "accepted"
    assert friend_usernames(api_as(alice)) == ["bob"]


def test_decline_closes_the_request_without_a_friendship(api_as, alice, bob, pending):
    response = api_as(bob).post(f"{V1}/friend-requests/{pending.id}/decline/")
    assert response.status_code == 200
    assert response.json()["state"] == "declined"
    assert api_as(bob).get(f"{V1}/friend-requests/").json()["count"] == 0
    assert api_as(alice).get(f"{V1}/friend-requests/?direction=outgoing").json()["count"] == 0
    assert not Friendship.objects.exists()


def test_sender_cancels_their_request(api_as, alice, bob, pending):
    response = api_as(alice).delete(f"{V1}/friend-requests/{pending.id}/")
    assert response.status_code == 204
    pending.refresh_from_db()
    assert pending.state == "cancelled"
    assert api_as(bob).get(f"{V1}/friend-requests/").json()["count"] == 0


def test_accepting_a_declined_request_is_a_conflict(api_as, bob, pending):
    services.friend_request_decline(request_id=pending.id, user=bob)
    client = api_as(bob)
    before = db_state()
    response = client.post(f"{V1}/friend-requests/{pending.id}/accept/")
    assert response.status_code == 409
    assert response.json()["code"] == "declined"
    assert db_state() == before


def test_outgoing_listing_shows_what_i_sent(api_as, alice, bob, carol, pending):
    services.friend_request_send(from_user=carol, to_user=alice)
    outgoing = api_as(alice).get(f"{V1}/friend-requests/", {"direction": "outgoing"}).json()
    incoming = api_as(alice).get(f"{V1}/friend-requests/", {"direction": "incoming"}).json()
    assert [r["to_user"]["username"] for r in outgoing["results"]] == ["bob"]
    assert [r["from_user"]["username"] for r in incoming["results"]] == ["carol"]


def test_unfriend_removes_both_directions(api_as, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    response = api_as(alice).delete(f"{V1}/friends/bob/")
    assert response.status_code == 204
    assert friend_usernames(api_as(alice)) == []
    assert friend_usernames(api_as(bob)) == []
    assert not Friendship.objects.exists()


def test_block_removes_friendship_and_pending_requests(api_as, alice, bob, carol):
    services.friendship_create(user=alice, friend=bob)
    request = services.friend_request_send(from_user=carol, to_user=alice)
    assert api_as(alice).post(f"{V1}/blocks/", {"username": "bob"}, format="json").status_code == 201
    response = api_as(alice).post(f"{V1}/blocks/", {"username": "carol"}, format="json")
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "carol"

    assert not Friendship.objects.exists()
    request.refresh_from_db()
    assert request.state == "cancelled"
    blocks = api_as(alice).get(f"{V1}/blocks/").json()
    assert blocks["count"] == 2
    assert {b["user"]["username"] for b in blocks["results"]} == {"bob", "carol"}
    assert api_as(alice).get(f"{V1}/users/bob/").json()["blocked_by_me"] is True


def test_unblock_lets_them_send_requests_again(api_as, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    assert api_as(alice).delete(f"{V1}/blocks/bob/").status_code == 204
    assert not Block.objects.exists()
    assert api_as(alice).get(f"{V1}/blocks/").json()["count"] == 0
    response = api_as(bob).post(f"{V1}/friend-requests/", {"to_user": "alice"}, format="json")
    assert response.status_code == 201


def test_profile_shows_friend_count_friendship_and_since(api_as, alice, bob, carol):
    services.friendship_create(user=alice, friend=bob)
    services.friendship_create(user=bob, friend=carol)
    body = api_as(alice).get(f"{V1}/users/bob/").json()
    assert body["username"] == "bob"
    assert body["friend_count"] == 2
    assert body["is_friend"] is True
    assert body["friend_since"]
    assert body["is_self"] is False
    assert body["incoming_request_id"] is None and body["outgoing_request_id"] is None

    # By default a friend list (and its count) is shown to friends only.
    stranger = api_as(carol).get(f"{V1}/users/alice/").json()
    assert stranger["is_friend"] is False and stranger["friend_since"] is None and stranger["friend_count"] is None
    profile_settings_update(user=alice, friend_list_visibility="everyone")
    assert api_as(carol).get(f"{V1}/users/alice/").json()["friend_count"] == 1


def test_profile_shows_pending_request_ids_to_each_side(api_as, alice, bob, pending):
    assert api_as(alice).get(f"{V1}/users/bob/").json()["outgoing_request_id"] == pending.id
    seen_by_bob = api_as(bob).get(f"{V1}/users/alice/").json()
    assert seen_by_bob["incoming_request_id"] == pending.id
    assert seen_by_bob["outgoing_request_id"] is None


def test_me_counts_my_friends(api_as, alice, bob, carol):
    services.friendship_create(user=alice, friend=bob)
    services.friendship_create(user=alice, friend=carol)
    me = api_as(alice).get(f"{V1}/me/").json()
    assert me["username"] == "alice" and me["email"] == "alice@example.com" and me["friend_count"] == 2


def test_friends_list_is_paginated_by_fifty(api_as, alice, make_user):
    give_friends(alice, 51)
    first = api_as(alice).get(f"{V1}/friends/").json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["previous"] is None
    second = api_as(alice).get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None


# --- privacy -------------------------------------------------------------------------------------


def test_listing_shows_only_my_own_requests(api_as, carol, pending):
    for direction in ("incoming", "outgoing"):
        assert api_as(carol).get(f"{V1}/friend-requests/", {"direction": direction}).json()["count"] == 0


@pytest.mark.parametrize(("method", "action"), [("post", "accept/"), ("post", "decline/"), ("delete", "")])
def test_acting_on_someone_elses_request_is_404_and_changes_nothing(api_as, method, action, carol, pending):
    client = api_as(carol)
    before = db_state()
    response = getattr(client, method)(f"{V1}/friend-requests/{pending.id}/{action}")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such friend request.", "code": "not_found"}
    assert db_state() == before


@pytest.mark.parametrize(
    ("who", "method", "action", "detail"),
    [
        ("alice", "post", "accept/", "You sent this request: only the person you sent it to can accept or decline it."),
        (
            "alice",
            "post",
            "decline/",
            "You sent this request: only the person you sent it to can accept or decline it.",
        ),
        ("bob", "delete", "", "This request was sent to you: decline it instead."),
    ],
)
def test_the_other_party_of_a_request_is_told_why_it_cannot_act_and_nothing_changes(
    api_as, who, method, action, detail, pending
):
    """The sender knows the request exists (it is in their outgoing list): "no such friend request" misled
    them (found by a new user's trial). A 403 that says whose action it is, and nothing changes."""
    client = api_as(User.objects.get(username=who))
    before = db_state()
    response = getattr(client, method)(f"{V1}/friend-requests/{pending.id}/{action}")
    assert response.status_code == 403
    assert response.json() == {"detail": detail, "code": "not_yours"}
    assert db_state() == before


def test_blocked_user_cannot_send_a_request_to_the_blocker(api_as, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    client = api_as(bob)
    before = db_state()
    response = client.post(f"{V1}/friend-requests/", {"to_user": "alice"}, format="json")
    assert response.status_code == 404  # the blocker is invisible to bob, as if there were no alice
    assert response.json()["detail"] == "No user named 'alice'."
    assert db_state() == before


def test_blocked_user_cannot_see_the_blockers_profile(api_as, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    response = api_as(bob).get(f"{V1}/users/alice/")
    assert response.status_code == 404
    assert "friend_count" not in response.json()
    # Indistinguishable from a name that does not exist.
    unknown = api_as(bob).get(f"{V1}/users/alicf/").json()
    assert response.json()["detail"] == unknown["detail"].replace("alicf", "alice")


def test_a_user_can_still_see_the_profile_of_someone_they_block(api_as, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    assert api_as(alice).get(f"{V1}/users/bob/").status_code == 200


# --- bad input: every endpoint refuses with a 4xx and changes nothing ----------------------------


def assert_refused(response, status: int, before: dict) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body, "an error must say what was wrong"
    assert db_state() == before
    return body


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/friend-requests/", {"to_user": "nobody"}),
        ("get", "/users/nobody/", None),
        ("delete", "/friends/nobody/", None),
        ("post", "/blocks/", {"username": "nobody"}),
        ("delete", "/blocks/nobody/", None),
    ],
)
def test_unknown_user_is_404(api_as, alice, method, path, data):
    client = api_as(alice)
    before = db_state()
    response = getattr(client, method)(f"{V1}{path}", data, format="json")
    assert assert_refused(response, 404, before)["detail"] == "No user named 'nobody'."


@pytest.mark.parametrize(("path", "field"), [("/friend-requests/", "to_user"), ("/blocks/", "username")])
def test_acting_on_myself_is_400(api_as, alice, path, field):
    client = api_as(alice)
    before = db_state()
    response = client.post(f"{V1}{path}", {field: "alice"}, format="json")
    assert assert_refused(response, 400, before)["code"] == "self"


@pytest.mark.parametrize(
    ("earlier", "path", "data", "code"),
    [
        ("request", "/friend-requests/", {"to_user": "bob"}, "duplicate"),
        ("befriend", "/friend-requests/", {"to_user": "bob"}, "already_friends"),
        ("block", "/friend-requests/", {"to_user": "bob"}, "blocking"),
        ("block", "/blocks/", {"username": "bob"}, "duplicate"),
    ],
    ids=["duplicate_request", "request_to_a_friend", "request_to_someone_i_block", "blocking_twice"],
)
def test_what_conflicts_with_an_earlier_action_is_409(api_as, alice, bob, earlier, path, data, code):
    act(earlier, alice, bob)  # alice already requested, befriended or blocked bob
    client = api_as(alice)
    before = db_state()
    response = client.post(f"{V1}{path}", data, format="json")
    assert assert_refused(response, 409, before)["code"] == code


@pytest.mark.parametrize(("path", "what"), [("/friends/bob/", "friends with"), ("/blocks/bob/", "blocked")])
def test_removing_what_does_not_exist_is_404(api_as, alice, bob, path, what):
    client = api_as(alice)
    before = db_state()
    response = client.delete(f"{V1}{path}")
    assert what in assert_refused(response, 404, before)["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/users/",
        "/auth/token/",
        "/friend-requests/",
        "/friend-requests/{id}/accept/",
        "/friend-requests/{id}/decline/",
        "/blocks/",
    ],
)
def test_malformed_json_body_is_400(api_as, alice, pending, path):
    # Bob may act on the request, so only the body can be wrong.
    client = api_as(pending.to_user)
    before = db_state()
    response = client.post(f"{V1}{path.format(id=pending.id)}", "{bad", content_type="application/json")
    assert "JSON parse error" in assert_refused(response, 400, before)["detail"]


@pytest.mark.parametrize(
    ("path", "data", "missing"),
    [
        ("/users/", {}, {"username", "password"}),
        ("/users/", {"username": "dave"}, {"password"}),
        ("/users/", {"password": "a-long-Passphrase-9"}, {"username"}),
        ("/auth/token/", {"username": "alice"}, {"password"}),
        ("/friend-requests/", {}, {"to_user"}),
        ("/friend-requests/", {"username": "bob"}, {"to_user"}),
        ("/blocks/", {}, {"username"}),
    ],
)
def test_missing_fields_are_400_naming_each_field(api_as, alice, path, data, missing):
    client = api_as(alice)
    before = db_state()
    response = client.post(f"{V1}{path}", data, format="json")
    assert set(assert_refused(response, 400, before)) == missing


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/friend-requests/", {"to_user": None}),
        ("/friend-requests/", {"to_user": {"username": "bob"}}),
        ("/friend-requests/", {"to_user": ["bob"]}),
        ("/friend-requests/", {"to_user": ""}),
        ("/friend-requests/", {"to_user": "x" * 151}),
        ("/friend-requests/", {"to_user": "bo\x00b"}),
        ("/friend-requests/", ["bob"]),
        ("/blocks/", {"username": True}),
        ("/blocks/", "bob"),
        ("/users/", {"username": "dave", "password": "a-long-Passphrase-9", "email": "not-an-email"}),
        ("/users/", {"username": "da ve!", "password": "a-long-Passphrase-9"}),
        ("/users/", {"username": "dave", "password": "123"}),
        ("/users/", {"username": "   ", "password": "a-long-Passphrase-9"}),
    ],
)
def test_wrongly_typed_or_invalid_fields_are_400(api_as, alice, bob, path, data):
    client = api_as(alice)
    before = db_state()
    assert_refused(client.post(f"{V1}{path}", data, format="json"), 400, before)


def test_sign_up_with_a_taken_username_is_400_whatever_its_case(api, alice):
    before = db_state()
    response = api.post(f"{V1}/users/", {"username": "ALICE", "password": "a-long-Passphrase-9"}, format="json")
    assert assert_refused(response, 400, before)["code"] == "username"


def test_token_with_a_wrong_password_is_400(api, alice):
    before = db_state()
    response = api.post(f"{V1}/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    assert assert_refused(response, 400, before)


def test_token_ignores_a_stale_token_header(api, alice):
    api.credentials(HTTP_AUTHORIZATION="Token no-such-token")
    response = api.post(f"{V1}/auth/token/", {"username": "alice", "password": "correct-horse-42"}, format="json")
    assert response.status_code == 200


def test_token_endpoint_throttles_password_guessing_per_account(api, alice, settings):
    """`login_account` attempts per window for one account, then 429 with Retry-After, even for the right password.

    More in tests/socialsite/test_rate_limits.py (parallel, per address, forged X-Forwarded-For).
    """
    limit = int(settings.RATE_LIMITS["login_account"].split("/")[0])
    statuses = [
        api.post(f"{V1}/auth/token/", {"username": "alice", "password": f"guess{i}"}, format="json").status_code
        for i in range(limit)
    ]
    assert statuses == [400] * limit
    response = api.post(f"{V1}/auth/token/", {"username": "alice", "password": "correct-horse-42"}, format="json")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]


AUTHENTICATED = [
    ("get", "/me/"),
    ("get", "/users/bob/"),
    ("get", "/friends/"),
    ("delete", "/friends/bob/"),
    ("get", "/friend-requests/"),
    ("post", "/friend-requests/"),
    ("post", "/friend-requests/{id}/accept/"),
    ("post", "/friend-requests/{id}/decline/"),
    ("delete", "/friend-requests/{id}/"),
    ("get", "/blocks/"),
    ("post", "/blocks/"),
    ("delete", "/blocks/bob/"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
@pytest.mark.parametrize("authorization", [None, "Token not-a-real-token"])
def test_missing_or_bad_authentication_is_401(api, pending, method, path, authorization):
    if authorization:
        api.credentials(HTTP_AUTHORIZATION=authorization)
    before = db_state()
    response = getattr(api, method)(f"{V1}{path.format(id=pending.id)}", {"to_user": "bob"}, format="json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert db_state() == before


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "0x10", "%C2%B2", "99999999999999999999999", "1%00"])
@pytest.mark.parametrize(("method", "action"), [("post", "accept/"), ("post", "decline/"), ("delete", "")])
def test_non_integer_or_unknown_request_ids_are_json_404(api_as, pending, bad_id, method, action):
    client = api_as(pending.to_user)
    before = db_state()
    response = getattr(client, method)(f"{V1}/friend-requests/{bad_id}/{action}")
    assert assert_refused(response, 404, before)["detail"] == "No such friend request."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/auth/token/"),
        ("get", "/users/"),
        ("post", "/me/"),
        ("delete", "/users/bob/"),
        ("put", "/friends/"),
        ("get", "/friends/bob/"),
        ("patch", "/friend-requests/"),
        ("get", "/friend-requests/{id}/"),
        ("get", "/friend-requests/{id}/accept/"),
        ("delete", "/friend-requests/{id}/decline/"),
        ("put", "/blocks/"),
        ("post", "/blocks/bob/"),
    ],
)
def test_wrong_method_is_405(api_as, pending, method, path):
    client = api_as(pending.to_user)
    before = db_state()
    response = getattr(client, method)(f"{V1}{path.format(id=pending.id)}")
    assert_refused(response, 405, before)


@pytest.mark.parametrize("direction", ["sideways", "INCOMING", "incoming,outgoing"])
def test_unknown_listing_direction_is_400(api_as, alice, direction):
    response = api_as(alice).get(f"{V1}/friend-requests/", {"direction": direction})
    assert response.status_code == 400
    assert "direction" in response.json()


@pytest.mark.parametrize(("method", "path"), [("get", "/users/"), ("delete", "/friends/"), ("delete", "/blocks/")])
def test_a_nul_character_in_a_username_path_is_404_not_a_500(api_as, alice, bob, method, path):
    client = api_as(alice)
    before = db_state()
    assert_refused(getattr(client, method)(f"{V1}{path}b%00ob/"), 404, before)
