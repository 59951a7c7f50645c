"""REST API of notifications, exactly as SPEC.md lists it: own notifications only, JSON errors, bounded
queries, and the conditional unread count the badge polls."""

from __future__ import annotations

import pytest
from django.test import Client

from friends.models import Block
from notifications.models import Notification

from .conftest import note

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
Kind = Notification.Kind


def test_list_is_paginated_newest_first_with_actor_and_target(api_as, alice, bob, carol):
    older = note(alice, bob, Kind.SHARE_CREATED, text="bob shared a link")
    newer = note(alice, carol, Kind.FRIEND_REQUEST_RECEIVED, text="carol sent you a friend request")
    note(bob, alice)  # someone else's
    body = api_as(alice).get(f"{V1}/notifications/").json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [n["id"] for n in body["results"]] == [newer.pk, older.pk]
    share = body["results"][1]
    assert share == {
        "id": older.pk,
        "kind": "share.created",
        "text": "bob shared a link",
        "url": f"/shares/{older.share_id}/",
        "actor": "bob",
        "target": {"type": "share", "id": older.share_id},
        "unread": True,
        "created_at": share["created_at"],
        "read_at": None,
    }


def test_unread_filter_and_bad_filter_value(api_as, alice, bob):
    unread = note(alice, bob)
    note(alice, bob, read=True)
    api = api_as(alice)
    assert [n["id"] for n in api.get(f"{V1}/notifications/?unread=true").json()["results"]] == [unread.pk]
    assert api.get(f"{V1}/notifications/?unread=false").json()["count"] == 2
    response = api.get(f"{V1}/notifications/?unread=perhaps")
    assert response.status_code == 400 and "unread" in response.json()


def test_unread_count_is_conditional_on_its_etag(api_as, alice, bob):
    api = api_as(alice)
    note(alice, bob)
    first = api.get(f"{V1}/notifications/unread-count/")
    assert first.status_code == 200 and first.json() == {"unread_count": 1}
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"]

    unchanged = api.get(f"{V1}/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == etag

    note(alice, bob)
    changed = api.get(f"{V1}/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json() == {"unread_count": 2} and changed["ETag"] != etag


def test_a_badge_poll_costs_one_query_besides_authentication(alice, bob, api_as, django_assert_num_queries):
    """The cost of an idle open tab: a browser's poll is ONE query (the session comes from Redis, the count
    with the user's row); a token client's, the token with its user plus ONE count."""
    note(alice, bob)
    browser = Client()
    browser.force_login(alice)
    etag = browser.get(f"{V1}/notifications/unread-count/")["ETag"]
    with django_assert_num_queries(1):  # the user with the count
        assert browser.get(f"{V1}/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    api = api_as(alice)
    with django_assert_num_queries(2):  # token with its user, the count
        assert api.get(f"{V1}/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_mark_one_read_then_all(api_as, alice, bob):
    a, b, c = note(alice, bob), note(alice, bob), note(alice, bob)
    api = api_as(alice)
    response = api.post(f"{V1}/notifications/{a.pk}/read/")
    assert response.status_code == 200 and response.json()["unread"] is False and response.json()["read_at"]
    assert api.get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 2}
    assert api.post(f"{V1}/notifications/read-all/").json() == {"marked": 2}
    assert api.get(f"{V1}/notifications/?unread=true").json()["count"] == 0
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[b.pk, c.pk]))


def test_mark_all_read_counts_and_marks_what_the_badge_counts(api_as, alice, bob, carol):
    """Found by a new user's trial: "Marked 8 notifications read." under a badge of 7. A blocked
    sender's notifications are hidden: neither counted nor marked."""
    from friends import services as friends_services

    note(alice, bob)
    hidden = note(alice, carol)
    friends_services.block_create(blocker=alice, blocked=carol)
    api = api_as(alice)
    assert api.get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 1}
    assert api.post(f"{V1}/notifications/read-all/").json() == {"marked": 1}  # bob's; carol's stays hidden
    hidden.refresh_from_db()
    assert hidden.read_at is None and api.get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 0}


def test_nobody_reads_marks_or_counts_another_users_notifications(api_as, alice, bob, carol):
    theirs = note(bob, carol)
    api = api_as(alice)
    assert api.get(f"{V1}/notifications/").json()["count"] == 0
    assert api.get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 0}
    response = api.post(f"{V1}/notifications/{theirs.pk}/read/")
    assert response.status_code == 404 and response.json()["detail"] == "No such notification."
    assert api.post(f"{V1}/notifications/read-all/").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert api_as(bob).get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 1}


def test_notifications_about_a_blocker_are_neither_listed_counted_nor_markable(api_as, alice, bob):
    about_bob = note(alice, bob)
    Block.objects.create(blocker=bob, blocked=alice)
    api = api_as(alice)
    assert api.get(f"{V1}/notifications/").json()["count"] == 0
    assert api.get(f"{V1}/notifications/unread-count/").json() == {"unread_count": 0}
    assert api.post(f"{V1}/notifications/{about_bob.pk}/read/").status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "%D9%A3", "99999999999999999999999", "0"])
def test_malformed_or_unknown_ids_are_json_404s(api_as, alice, bad_id):
    response = api_as(alice).post(f"{V1}/notifications/{bad_id}/read/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and "detail" in response.json()


def test_a_malformed_body_is_a_400_and_changes_nothing(api_as, alice, bob):
    n = note(alice, bob)
    api = api_as(alice)
    for url in (f"{V1}/notifications/{n.pk}/read/", f"{V1}/notifications/read-all/"):
        response = api.post(url, data="{not json", content_type="application/json")
        assert response.status_code == 400 and "detail" in response.json()
    n.refresh_from_db()
    assert n.read_at is None


def test_anonymous_clients_get_json_401s(api, db):
    for method, url in (
        ("get", "/notifications/"),
        ("get", "/notifications/unread-count/"),
        ("post", "/notifications/1/read/"),
        ("post", "/notifications/read-all/"),
    ):
        response = getattr(api, method)(f"{V1}{url}")
        assert response.status_code in (401, 403) and "detail" in response.json(), url


@pytest.mark.parametrize("count", [3, 120])
def test_list_queries_do_not_grow_with_the_number_of_notifications(
    api_as, alice, make_user, django_assert_max_num_queries, count
):
    actors = [make_user() for _ in range(min(count, 10))]
    for i in range(count):
        note(alice, actors[i % len(actors)], Kind.SHARE_CREATED if i % 2 else Kind.FRIEND_REQUEST_RECEIVED)
    api = api_as(alice)
    with django_assert_max_num_queries(3):  # token, count, page (actors joined)
        body = api.get(f"{V1}/notifications/").json()
    assert len(body["results"]) == min(count, 50) and body["count"] == count
