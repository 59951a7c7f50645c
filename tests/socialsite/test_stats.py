"""Site counters (the regular job's service), their history, and the stats page and API that show them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from friends import services as friend_services
from friends.models import FriendRequest, Friendship, Share
from notifications.models import Notification
from socialsite import charts, services
from socialsite.models import SiteCounters, TaskRecord
from socialsite.tasks import update_site_counters


@pytest.fixture
def site(make_user):
    """alice-bob friends today, alice-carol friends for a week; a share, two notifications (one read)."""
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    make_user("ghost", is_active=False)
    friend_services.friendship_create(user=alice, friend=bob)
    friend_services.friendship_create(user=alice, friend=carol)
    week_ago = timezone.now() - timedelta(days=7)
    Friendship.objects.filter(user__in=[alice, carol], friend__in=[alice, carol]).update(is_friend_since=week_ago)
    Share.objects.create(owner=bob, url="https://example.com/a", caption="a link")
    Notification.objects.create(
        recipient=carol, kind="x", text="hello", event_id="00000000-0000-0000-0000-000000000001"
    )
    Notification.objects.create(
        recipient=dave, kind="x", text="hi", event_id="00000000-0000-0000-0000-000000000002", read_at=timezone.now()
    )
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}


def test_counters_count_pairs_active_users_and_the_last_day(site):
    row = services.site_counters_record()
    assert row.counts() == {
        "users": 4,  # the inactive account is not counted
        "friendships": 2,  # pairs, not the four rows
        "shares": 1,
        "notifications": 2,
        "friendships_last_24h": 1,
        # bob shared, dave read a notification; alice made friends through the service only (no request,
        # no log-in) and carol did nothing
        "active_users_last_24h": 2,
    }
    assert abs((row.computed_at - timezone.now()).total_seconds()) < 5


def test_friendships_of_a_deactivated_account_are_not_counted(site):
    site["bob"].is_active = False
    site["bob"].save()
    counts = services.site_counters_record().counts()
    assert (counts["users"], counts["friendships"], counts["friendships_last_24h"]) == (3, 1, 0)
    site["bob"].is_active = True
    site["bob"].save()
    assert services.site_counters_record().friendships == 2  # back with the account


def test_log_ins_and_friend_requests_count_as_activity(site, make_user):
    site["carol"].last_login = timezone.now()
    site["carol"].save()
    eve = make_user("eve")
    request = friend_services.friend_request_send(from_user=eve, to_user=site["dave"])
    FriendRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert services.site_counters_record().active_users_last_24h == 3  # bob, dave, carol; eve's request is old
    friend_services.friend_request_accept(request_id=request.pk, user=site["dave"])
    assert services.site_counters_record().active_users_last_24h == 3  # dave answered: already counted


def test_every_run_adds_a_history_row_and_old_rows_are_pruned(db, settings):
    settings.SITE_COUNTERS_HISTORY_DAYS = 30
    now = timezone.now()
    services.site_counters_record(now=now - timedelta(days=31))
    services.site_counters_record(now=now - timedelta(days=29))
    assert SiteCounters.objects.count() == 2  # pruning is relative to each run's own time
    services.site_counters_record(now=now)
    assert list(SiteCounters.objects.order_by("computed_at").values_list("computed_at", flat=True)) == [
        now - timedelta(days=29),
        now,
    ]


def test_actor_result_is_the_counts_and_time(site):
    result = update_site_counters()
    assert result["users"] == 4 and result["friendships"] == 2 and result["computed_at"]


def test_api_before_any_run_says_computing_and_asks_once(api_as, alice, bob, stub_broker):
    first = api_as(alice).get("/api/v1/stats/")
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "computing" and body["users"] is None and body["updated_at"] is None
    assert body["history"] == [] and body["task_id"]
    again = api_as(alice).get("/api/v1/stats/").json()
    assert again["task_id"] == body["task_id"]
    assert stub_broker.queues["maintenance"].qsize() == 1  # shared by every reader
    task = TaskRecord.objects.get(id=body["task_id"])
    assert (task.actor_name, task.owner_id) == ("update_site_counters", alice.pk)
    # The first asker follows the task; another reader gets no id they could not read, and no second task.
    assert api_as(alice).get(f"/api/v1/tasks/{body['task_id']}/").json()["state"] == "enqueued"
    other = api_as(bob).get("/api/v1/stats/").json()
    assert other["status"] == "computing" and other["task_id"] is None
    assert stub_broker.queues["maintenance"].qsize() == 1


def test_the_empty_stats_page_links_the_task_only_for_its_owner_and_the_link_answers(alice, bob, stub_broker):
    from django.test import Client

    pages = {}
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        pages[user.username] = (client, client.get("/stats/").content.decode())
    task_id = TaskRecord.objects.get(actor_name="update_site_counters").id
    client, html = pages["alice"]
    assert f"/tasks/{task_id}/" in html and client.get(f"/tasks/{task_id}/").status_code == 200
    assert "/tasks/" not in pages["bob"][1].split("<main", 1)[1] and "being computed now" in pages["bob"][1]


def test_api_shows_latest_counters_their_time_and_history(site, api_as):
    now = timezone.now()
    services.site_counters_record(now=now - timedelta(days=3))
    services.site_counters_record(now=now - timedelta(days=10))
    latest = services.site_counters_record(now=now)
    body = api_as(site["alice"]).get("/api/v1/stats/").json()
    assert body["status"] == "ready" and body["task_id"] is None
    assert (body["users"], body["friendships"], body["shares"], body["notifications"]) == (4, 2, 1, 2)
    assert body["friendships_last_24h"] == 1 and body["active_users_last_24h"] == 2
    assert body["updated_at"] == latest.computed_at.isoformat().replace("+00:00", "Z")
    assert [p["computed_at"][:10] for p in body["history"]] == [
        f"{now - timedelta(days=3):%Y-%m-%d}",
        f"{now:%Y-%m-%d}",
    ]  # last 7 days, oldest first
    longer = api_as(site["alice"]).get("/api/v1/stats/?days=30").json()
    assert len(longer["history"]) == 3 and longer["history"][0]["users"] == 4


@pytest.mark.parametrize("days", ["0", "-1", "abc", "1000"])
def test_api_refuses_a_bad_history_length(alice, api_as, days):
    response = api_as(alice).get(f"/api/v1/stats/?days={days}")
    assert response.status_code == 400 and "days" in response.json()


def test_api_needs_authentication(api, db):
    assert api.get("/api/v1/stats/").status_code in (401, 403)


def test_page_before_any_run_says_not_computed_yet(alice):
    client = Client()
    client.force_login(alice)
    html = client.get("/stats/").content.decode()
    assert "have not been computed yet" in html and 'http-equiv="refresh"' in html


def test_page_shows_figures_time_and_an_svg_chart_per_counter(site):
    now = timezone.now()
    services.site_counters_record(now=now - timedelta(hours=2))
    Share.objects.create(owner=site["alice"], url="https://example.com/b")
    latest = services.site_counters_record(now=now)
    client = Client()
    client.force_login(site["alice"])
    response = client.get("/stats/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'counter-shares">\s*<dt>Shares</dt>\s*<dd><strong class="figure">2</strong>', html)
    assert re.search(r'counter-users">\s*<dt>Users</dt>\s*<dd><strong class="figure">4</strong>', html)
    assert latest.computed_at.isoformat() in html  # <time datetime="...">
    assert html.count("<svg") == 6 and html.count("<polyline") == 6
    assert "<script" not in html.split("<main")[1] and "style=" not in html.split("<main")[1]
    assert 'aria-labelledby="chart-shares-title chart-shares-desc"' in html
    assert "lowest 1, highest 2, latest 2" in html  # the shares chart's description


def test_chart_escapes_its_title_and_says_when_there_is_no_data():
    svg = charts.line_chart_svg([], title="<b>x</b>", chart_id="c")
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "No data yet" in svg and "<polyline" not in svg
    now = timezone.now()
    one = charts.line_chart_svg([(now, 5)], title="t", chart_id="c")
    assert "<polyline" in one and "latest 5" in one


def test_chart_description_counts_values_in_words_and_groups_thousands_as_the_page_does():
    now = timezone.now()
    one = charts.line_chart_svg([(now, 4040)], title="t", chart_id="c")
    assert "1 value from" in one and "latest 4,040." in one
    two = charts.line_chart_svg([(now - timedelta(days=1), 999), (now, 12345)], title="t", chart_id="c")
    assert "2 values from" in two and "lowest 999, highest 12,345, latest 12,345." in two
