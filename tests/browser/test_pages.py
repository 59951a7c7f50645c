"""Every page of the site, with the demo's own data, in a real browser: each passes axe-core with no
serious or critical violation, and (the `visits` fixture) no page requests anything from another host.

The data is what `scripts/run.sh` gives the demo account fb0, on a slice of the ego-Facebook graph:
`friends.bulk.graph_load` (named people, friendship dates), the Redis rebuild, `friends.demo.demo_seed`
(requests both ways, an accepted request, friends' shares), and the worker's notifications and
thumbnails. With SOCIALSITE_SCREENSHOTS=1 the pages are saved to docs/screenshots/ for the README.
"""

from __future__ import annotations

import collections
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from friends import bulk
from friends.demo import demo_seed
from friends.graph_cache import graph_cache_rebuild
from friends.models import FriendRequest, Share
from notifications.models import Notification
from socialsite.models import TaskRecord
from socialsite.services import site_counters_record
from tests.browser.conftest import PASSWORD, WAIT_MS, check_accessible, log_in, screenshot
from tests.support.waiting import wait_for

User = get_user_model()
# Friends of node 0 whose own friends reach outside node 0's circle: they make fb0's suggestions.
BRIDGES = (34, 58, 136, 171, 173, 198, 107)


def demo_slice() -> list[tuple[int, int]]:
    """67 people around node 0 of the shipped graph: low ids (most are node 0's friends), the
    bridges, and some of the bridges' friends outside node 0's circle (fb0's friends of friends)."""
    edges = list(bulk.read_edge_file(bulk.SHIPPED_GRAPH))
    adj: dict[int, set[int]] = collections.defaultdict(set)
    for u, v in edges:
        adj[u].add(v)
        adj[v].add(u)
    outside = sorted(set().union(*(adj[b] - adj[0] - {0} for b in BRIDGES[:-1])))[:30]
    keep = set(range(30)) | set(BRIDGES) | set(outside)
    return [(u, v) for u, v in edges if u in keep and v in keep]


def test_every_page_is_accessible_and_asks_only_its_own_site(open_context, live_server):
    bulk.graph_load(edges=demo_slice(), password=PASSWORD)
    graph_cache_rebuild()
    fb0 = User.objects.get(username="fb0")
    demo_seed(user=fb0)
    now = timezone.now()
    for hours in (72, 48, 24, 0):  # a few days of counter history for the charts
        site_counters_record(now=now - timedelta(hours=hours))
    # The worker delivers the seed's events: notifications for fb0, thumbnails of the pictures.
    wait_for(
        lambda: (
            not Share.objects.filter(state="processing").exists()
            and Notification.objects.filter(recipient=fb0, kind="share.created").count() >= 4
        ),
        timeout=WAIT_MS / 1000,
        what="the demo's shares processed and their notifications made",
    )

    _, page = open_context()
    for path, name, heading in (("/login/", "login", "Log in"), ("/signup/", "signup", "Create your account")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        check_accessible(page)
        screenshot(page, name)

    log_in(page, "fb0")
    friend = User.objects.get(username="fb21")  # one of fb0's friends with the most friends in common
    asker = FriendRequest.objects.filter(to_user=fb0, state="pending").order_by("pk").first().from_user
    picture = Share.objects.exclude(file="").order_by("pk").first()
    pages = [
        ("/", "home", f"Welcome, {fb0.get_full_name()}"),
        ("/friends/", "friends", "Friends and requests"),
        ("/suggestions/", "suggestions", "People you may know"),
        (f"/u/{friend.username}/", "profile", friend.get_full_name()),
        (f"/u/{asker.username}/", "profile-request", asker.get_full_name()),
        (f"/u/{friend.username}/friends/", "profile-friends", f"{friend.get_full_name()}'s friends"),
        (f"/u/{friend.username}/mutual-friends/", "profile-mutual", "Your mutual friends with"),
        ("/notifications/", "notifications", "Notifications"),
        ("/shares/new/", "share-new", "Share with your friends"),
        (f"/shares/{picture.pk}/", "share", f"Share by {picture.owner.get_full_name()}"),
        ("/stats/", "stats", "Site stats"),
        ("/people/?username=fb4038", "find", "Find a person"),
        ("/u/nobody-by-that-name/", None, "Not found"),
    ]
    for path, name, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if path.startswith("/u/fb") and path.count("/") == 3:
            # The mutual friends are computed by the worker on this first visit; the page fills in by itself.
            owner = friend if path == f"/u/{friend.username}/" else asker
            expect(
                page.get_by_role("img", name=f"You, {owner.get_full_name()} and your mutual friends")
            ).to_be_visible()
        if path == "/":
            expect(page.get_by_role("img", name="Preview of lake-at-sunset.png")).to_be_visible()
        check_accessible(page)
        if name:
            screenshot(page, name)

    task = TaskRecord.objects.filter(owner=fb0).order_by("-enqueued_at").first()
    assert task is not None, "visiting a profile enqueued a computation owned by fb0"
    page.goto("/tasks/")
    expect(page.get_by_role("link", name="Mutual friends for a profile").first).to_be_visible()
    check_accessible(page)
    screenshot(page, "tasks")
    page.goto(f"/tasks/{task.id}/")
    expect(page.locator("#task-state")).to_have_text("Done")
    check_accessible(page)
    screenshot(page, "task")

    # The API documentation is served from this site too (drf-spectacular-sidecar), not from a CDN.
    page.goto("/api/docs/")
    expect(page.get_by_text("Socialsite API", exact=False).first).to_be_visible()

    # A phone-sized screen: the same home page, one column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    check_accessible(page, what="the home page on a phone-sized screen")
    screenshot(page, "home-phone")
    # No page scrolls sideways on a small phone (found by a new user's trial: the stats table and a
    # share's checksum did); a wide table scrolls in its own box.
    page.set_viewport_size({"width": 360, "height": 740})
    for path, _, _ in pages:
        page.goto(path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} is {width[0]} px wide on a {width[1]} px screen"
