"""The demo's people: reproducible names and dates (`friends.bulk`), and what `seed_demo` leaves waiting
for the demo account (`friends.demo`), idempotently."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from friends import bulk
from friends.demo import DEMO_SHARES, INCOMING_REQUESTS, OUTGOING_REQUESTS, demo_picture, demo_seed
from friends.models import FriendRequest, Friendship, Share
from socialsite.models import OutboxEvent
from tests.support.pages import browser

User = get_user_model()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# A small graph: node 0 with friends 1..6; 1..3 know 7..10, who are not node 0's friends.
EDGES = [(0, n) for n in range(1, 7)] + [(1, 7), (2, 7), (2, 8), (3, 9), (3, 10), (1, 2)]


def test_names_are_the_same_every_time_and_do_not_depend_on_who_else_is_loaded():
    everyone = bulk.demo_names(range(50))
    assert bulk.demo_names([7, 3]) == {7: everyone[7], 3: everyone[3]}
    assert all(first and last for first, last in everyone.values())
    assert len(set(everyone.values())) > 45  # readable and varied, not one name for all


def test_friendship_dates_are_reproducible_spread_over_years_and_after_both_joined():
    dates = [bulk.demo_friend_since(u, v, now=NOW) for u, v in EDGES]
    assert dates == [bulk.demo_friend_since(v, u, now=NOW) for u, v in EDGES]  # either direction
    for (u, v), since in zip(EDGES, dates, strict=True):
        assert max(bulk.demo_joined(u, now=NOW), bulk.demo_joined(v, now=NOW)) < since < NOW
    many = [bulk.demo_friend_since(0, n, now=NOW) for n in range(1, 300)]
    assert max(many) - min(many) > timedelta(days=3 * 365)


@pytest.mark.django_db
def test_the_load_gives_names_join_dates_and_friendship_dates(make_user):
    old = make_user("fb7")  # loaded before names existed: named now, password kept
    bulk.graph_load(edges=EDGES, password="pw-for-tests", now=NOW)
    names = bulk.demo_names([0, 7])
    fb0 = User.objects.get(username="fb0")
    assert (fb0.first_name, fb0.last_name) == names[0]
    assert fb0.date_joined == bulk.demo_joined(0, now=NOW)
    old.refresh_from_db()
    assert (old.first_name, old.last_name) == names[7] and old.check_password("correct-horse-42")
    row = Friendship.objects.get(user=fb0, friend__username="fb3")
    assert row.is_friend_since == bulk.demo_friend_since(0, 3, now=NOW)
    assert Friendship.objects.get(user__username="fb3", friend=fb0).is_friend_since == row.is_friend_since


@pytest.mark.django_db
def test_a_named_user_keeps_their_name_on_a_second_load(make_user):
    make_user("fb1", first_name="Chosen", last_name="Name")
    result = bulk.graph_load(edges=EDGES, password="pw", now=NOW)
    assert result.users_named == 0
    assert User.objects.get(username="fb1").get_full_name() == "Chosen Name"


def test_demo_pictures_are_real_pngs_and_reproducible():
    data = demo_picture("Lake at sunset", seed=1)
    assert data == demo_picture("Lake at sunset", seed=1)
    assert data != demo_picture("Lake at sunset", seed=2)
    # Read from the PNG header: PIL's own reader is limited by other tests' decompression-bomb settings.
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (800, 520)


@pytest.mark.django_db
def test_seed_demo_leaves_requests_both_ways_friends_shares_and_events_and_a_rerun_keeps_them():
    bulk.graph_load(edges=EDGES, password="pw", now=NOW)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    fb0 = User.objects.get(username="fb0")
    pending_in = FriendRequest.objects.filter(to_user=fb0, state="pending")
    pending_out = FriendRequest.objects.filter(from_user=fb0, state="pending")
    accepted = FriendRequest.objects.filter(from_user=fb0, state="accepted")
    assert pending_in.count() == INCOMING_REQUESTS
    assert pending_out.count() == 1  # the graph has 4 friends of friends: 3 ask, 1 is asked, none left
    assert accepted.count() == 0
    assert Share.objects.filter(owner__friendships__friend=fb0).count() == len(DEMO_SHARES)
    assert Share.objects.exclude(file="").count() == sum(1 for _, picture, _ in DEMO_SHARES if picture)
    # Notifications, suggestion updates and thumbnails follow through the ordinary events.
    kinds = set(OutboxEvent.objects.values_list("name", flat=True))
    assert {"friend_request.sent", "share.created"} <= kinds
    assert "4 friend requests sent" in out.getvalue()

    events = OutboxEvent.objects.count()
    FriendRequest.objects.filter(pk=pending_in.first().pk).update(state="declined")  # what fb0 did meanwhile
    assert demo_seed(user=fb0).requests_sent == demo_seed(user=fb0).shares_created == 0
    assert OutboxEvent.objects.count() == events
    assert FriendRequest.objects.filter(to_user=fb0).count() == INCOMING_REQUESTS  # the declined one stays so


@pytest.mark.django_db
def test_seed_demo_with_enough_friends_of_friends_also_has_an_accepted_request():
    edges = [(0, n) for n in range(1, 7)] + [(1, n) for n in range(7, 14)]
    bulk.graph_load(edges=edges, password="pw", now=NOW)
    fb0 = User.objects.get(username="fb0")
    result = demo_seed(user=fb0)
    assert result.requests_sent == INCOMING_REQUESTS + OUTGOING_REQUESTS + 1
    assert result.requests_accepted == 1
    assert Friendship.objects.filter(user=fb0).count() == 7
    # The accepted one is a friend now; a re-run still picks the same people, and so adds nothing.
    again = demo_seed(user=fb0)
    assert (again.requests_sent, again.requests_accepted, again.shares_created) == (0, 0, 0)
    assert FriendRequest.objects.count() == INCOMING_REQUESTS + OUTGOING_REQUESTS + 1


@pytest.mark.django_db
def test_pages_show_display_names_with_the_username(make_user):
    bulk.graph_load(edges=EDGES, password="pw", now=NOW)
    fb0 = User.objects.get(username="fb0")
    fb3 = User.objects.get(username="fb3")
    html = browser(fb0).get(reverse("friends")).content.decode()
    assert f'<a href="/u/fb3/">{fb3.get_full_name()}</a> <span class="handle">@fb3</span>' in html
    html = browser(fb0).get(reverse("profile", args=["fb3"])).content.decode()
    assert f'<h1>{fb3.get_full_name()} <span class="handle">@fb3</span></h1>' in html
