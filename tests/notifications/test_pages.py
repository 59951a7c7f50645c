"""Notification pages and the header badge, driven like a browser (with and without CSRF enforcement)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html import unescape as html_unescape

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification

from .conftest import note, share_and_announce

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
INBOX = "/notifications/"


def browser(user=None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def badge(html: str) -> re.Match | None:
    return re.search(r'<span\s+class="badge count" id="unread-badge"([^>]*)>(\d+)</span>', html)


def test_inbox_groups_close_notifications_of_one_kind_and_keeps_every_link(alice, make_user):
    ana, ben, cid, dee = (make_user(n) for n in ("ana", "ben", "cid", "dee"))
    shares = [
        note(alice, actor, Kind.SHARE_CREATED, ago=timedelta(minutes=i), text=f"{actor.username} shared a file")
        for i, actor in enumerate([ana, ben, cid, dee])
    ]
    request = note(
        alice, ben, Kind.FRIEND_REQUEST_RECEIVED, ago=timedelta(hours=5), text="ben sent you a friend request"
    )
    html = browser(alice).get(INBOX).content.decode()
    assert "ana and 3 others shared files or links" in html
    for n in shares:
        assert f'<a href="/shares/{n.share_id}/">{n.text}</a>' in html
    assert f'<a href="{request.url}">ben sent you a friend request</a>' in html
    assert html.count('<li class="notification unread">') == 2
    # The group's "Mark read" posts every unread id it shows.
    group_form = html.split("ana and 3 others shared files or links", 1)[1].split("</form>", 1)[0]
    assert sorted(map(int, re.findall(r'name="id" value="(\d+)"', group_form))) == sorted(n.pk for n in shares)


def test_empty_inbox_and_unread_filter(alice, bob):
    assert "No notifications yet" in browser(alice).get(INBOX).content.decode()
    note(alice, bob, read=True, text="old news")
    html = browser(alice).get(INBOX + "?unread=1").content.decode()
    assert "No unread notifications." in html and "old news" not in html


def test_mark_one_read_with_csrf_then_mark_all(alice, bob):
    first, second, third = note(alice, bob, text="one"), note(alice, bob, text="two"), note(alice, bob, text="three")
    client = browser(alice, csrf=True)
    page = client.get(INBOX)
    token = page.context["csrf_token"]

    refused = client.post(reverse("notifications-mark-read"), {"id": first.pk})  # no token
    assert refused.status_code == 403
    first.refresh_from_db()
    assert first.read_at is None

    response = client.post(
        reverse("notifications-mark-read"), {"id": first.pk, "csrfmiddlewaretoken": token, "next": INBOX}
    )
    assert response.status_code == 302 and response["Location"] == INBOX
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(client.get(INBOX).content.decode()).group(2) == "2"

    response = client.post(reverse("notifications-mark-all-read"), {"csrfmiddlewaretoken": token}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Marked 2 notifications read."]
    assert not Notification.objects.filter(pk__in=[second.pk, third.pk], read_at__isnull=True).exists()
    assert "hidden>0</span>" in response.content.decode()


def test_marking_someone_elses_or_nothing_changes_nothing(alice, bob):
    theirs = note(bob, alice)
    client = browser(alice)
    client.post(reverse("notifications-mark-read"), {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = client.post(reverse("notifications-mark-read"), {"id": "abc"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["No notification was given to mark read."]
    # An off-site `next` is not followed.
    response = client.post(reverse("notifications-mark-read"), {"id": theirs.pk, "next": "https://evil.example/"})
    assert response["Location"] == INBOX


def test_the_badge_is_on_every_page_with_its_count_and_polls_a_static_script(alice, bob):
    note(alice, bob)
    note(alice, bob)
    client = browser(alice)
    for url in (reverse("home"), reverse("friends"), INBOX, reverse("profile", args=["bob"])):
        html = client.get(url).content.decode()
        match = badge(html)
        assert match and match.group(2) == "2" and "hidden" not in match.group(1), url
        assert 'data-count-url="/api/v1/notifications/unread-count/"' in match.group(1)
        assert 'aria-label="2 unread"' in match.group(1)  # its accessible name, which replaces the text
        # The attribute's value is the ETag, quotes included (escaped as `&quot;` or `&#34;`, the same to HTML).
        etag = re.search(r'data-etag="([^"]+)"', match.group(1))
        assert etag and re.fullmatch(r'"n-[0-9a-f]+"', html_unescape(etag.group(1)))
        assert '<script src="/static/js/badge.js" defer></script>' in html
    inbox = client.get(INBOX).content.decode()
    assert all("src=" in attrs for attrs in re.findall(r"<script([^>]*)>", inbox)), "no inline script"
    assert "style=" not in inbox
    assert finders.find("js/badge.js") and finders.find("css/notifications.css")


def test_the_badge_hides_at_zero_and_anonymous_pages_have_none(alice, db):
    html = browser(alice).get(reverse("home")).content.decode()
    assert badge(html).group(1).rstrip().endswith("hidden")
    anonymous = browser().get(reverse("login")).content.decode()
    assert "unread-badge" not in anonymous and "badge.js" not in anonymous


def test_the_page_etag_matches_the_poll_so_an_idle_tab_gets_304s(alice, bob):
    note(alice, bob)
    client = browser(alice)
    html = client.get(reverse("home")).content.decode()
    etag = html_unescape(re.search(r'data-etag="([^"]+)"', html).group(1))
    poll = client.get("/api/v1/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag)
    assert poll.status_code == 304
    note(alice, bob)
    poll = client.get("/api/v1/notifications/unread-count/", HTTP_IF_NONE_MATCH=etag)
    assert poll.status_code == 200 and poll.json() == {"unread_count": 2}


def test_inbox_requires_login(db):
    response = browser().get(INBOX)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# Session + user (2: the badge's count comes with the user), the page's count and slice (2) = 4.
INBOX_MAX_QUERIES = 4


@pytest.mark.parametrize("count", [3, 150])
def test_inbox_queries_do_not_grow_with_the_number_of_notifications(
    alice, make_user, django_assert_max_num_queries, count
):
    actors = [make_user() for _ in range(10)]
    for i in range(count):
        note(alice, actors[i % 10], Kind.SHARE_CREATED if i % 3 else Kind.FRIEND_REQUEST_ACCEPTED)
    client = browser(alice)
    with django_assert_max_num_queries(INBOX_MAX_QUERIES):
        response = client.get(INBOX)
    assert response.status_code == 200
    assert sum(len(g.items) for g in response.context["groups"]) == min(count, 50)


def test_home_page_pays_one_query_for_the_badge(alice, bob):
    """The context processor is lazy and the template reads it twice: still one query reads
    notifications, the user's own (the count comes with the user's row)."""
    client = browser(alice)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    badge_queries = [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(badge_queries) == 1
    assert badge_queries[0]["sql"].startswith('SELECT "auth_user"."id"')  # the session's user


def test_opening_a_shared_item_reads_its_notification_and_no_other(alice, bob, carol):
    """A notification links to a share's page; opening that page reads the notification (and the badge
    drawn on it already counts it out). Other notifications stay unread, and nobody else's change."""
    from notifications import services
    from tests.support.factories import befriend

    befriend((alice, bob), (bob, carol))
    first, _ = share_and_announce(bob)
    second, _ = share_and_announce(bob, url="https://example.com/other", caption="another")
    for share in (first, second):
        services.notifications_create_for_share(share_id=share.pk, event_id=uuid.uuid4())
    assert Notification.objects.filter(read_at__isnull=True).count() == 4  # alice and carol, two shares each

    assert browser(alice).head(reverse("share-detail", args=[first.pk])).status_code == 200
    assert Notification.objects.filter(read_at__isnull=True).count() == 4  # a HEAD reads nothing

    page = browser(alice).get(reverse("share-detail", args=[first.pk]))
    assert page.status_code == 200
    found = badge(page.content.decode())
    assert found and found.group(2) == "1"  # the other share's notification
    unread = Notification.objects.filter(read_at__isnull=True)
    assert sorted((n.recipient.username, n.share_id) for n in unread) == [
        ("alice", second.pk),
        ("carol", first.pk),
        ("carol", second.pk),
    ]
    # The owner opening their own share reads nothing (they were never notified of it).
    assert browser(bob).get(reverse("share-detail", args=[second.pk])).status_code == 200
    assert unread.count() == 3
