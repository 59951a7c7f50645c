"""Redis failing under a running site (issue 10, acceptance 2 and 3), on a PRIVATE redis-server.

gunicorn and a worker run with `REDIS_URL` pointing at a `redis-server` of this test alone (own port,
started and stopped by its PID: tests/support/redis_server.py); the shared Redis is never touched.

- Redis hung (the process stopped by SIGSTOP): reads answer "computing" within the short timeouts.
- Redis stopped: every page and endpoint of SPEC.md answers, none with a 500 (listed below, and checked
  against the URL resolver so a new route cannot be forgotten); log-in (page and API) and sign-up work
  (rate limits fail open, sessions fall back to the database); writes succeed; only `/healthz` says 503.
  A friend request sent and accepted during the outage is then fully reflected once Redis is back (friend
  sets, suggestions, notifications): the graph events were retried, not dead-lettered.
- Redis emptied under the running site: readers never get an empty (or any wrong) list marked "ready";
  the loss is detected and repaired by one rebuild, and every user's suggestions and mutual friends equal
  a fresh computation from the database within a bounded time.
"""

from __future__ import annotations

import itertools
import random
import re
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.tokens import token_create
from friends import friend_sets, graph_cache, services
from friends.models import FriendRequest, Friendship
from friends.shares.services import share_create
from friends.suggestions import compute, store
from notifications.models import Notification
from socialsite.models import TaskRecord
from tests.friends.test_suggestions import db_reference
from tests.integration.test_http_flow import Browser
from tests.support.factories import befriend
from tests.support.redis_server import private_redis_fixture  # noqa: F401 - fixture
from tests.support.redis_site import RedisSite, site_on_private_redis_fixture  # noqa: F401 - fixture
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

User = get_user_model()
PASSWORD = "correct-horse-42"
# After Redis is back, graph events are retried within the subscribers' backoff cap (30 s) plus their own
# run; the repair of an emptied Redis is one rebuild (well under a second for these graphs).
CONVERGE_TIMEOUT = 90


# Every page and endpoint of SPEC.md, as (method, route pattern as the resolver spells it). Admin pages are
# Django's own and left out; `test_every_route_is_listed` keeps this list equal to the URL configuration.
ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/favicon.ico"),
    ("GET", "/api/schema/"),
    ("GET", "/api/docs/"),
    ("POST", "/api/v1/auth/token/"),
    ("GET", "/api/v1/auth/tokens/"),
    ("DELETE", "/api/v1/auth/tokens/<str:token_id>/"),
    ("POST", "/api/v1/auth/logout-all/"),
    ("POST", "/api/v1/users/"),
    ("GET", "/api/v1/me/"),
    ("GET", "/api/v1/users/<str:username>/"),
    ("GET", "/api/v1/users/<str:username>/mutual-friends/"),
    ("GET", "/api/v1/users/<str:username>/friends/"),
    ("GET", "/api/v1/friends/"),
    ("DELETE", "/api/v1/friends/<str:username>/"),
    ("POST", "/api/v1/friend-requests/"),
    ("GET", "/api/v1/friend-requests/"),
    ("DELETE", "/api/v1/friend-requests/<str:request_id>/"),
    ("POST", "/api/v1/friend-requests/<str:request_id>/accept/"),
    ("POST", "/api/v1/friend-requests/<str:request_id>/decline/"),
    ("POST", "/api/v1/blocks/"),
    ("GET", "/api/v1/blocks/"),
    ("DELETE", "/api/v1/blocks/<str:username>/"),
    ("GET", "/api/v1/suggestions/"),
    ("POST", "/api/v1/suggestions/<str:username>/dismiss/"),
    ("POST", "/api/v1/shares/"),
    ("GET", "/api/v1/shares/"),
    ("GET", "/api/v1/shares/<str:share_id>/"),
    ("GET", "/api/v1/shares/<str:share_id>/download/"),
    ("GET", "/api/v1/shares/<str:share_id>/thumbnail/"),
    ("GET", "/api/v1/notifications/"),
    ("GET", "/api/v1/notifications/unread-count/"),
    ("POST", "/api/v1/notifications/<str:notification_id>/read/"),
    ("POST", "/api/v1/notifications/read-all/"),
    ("GET", "/api/v1/tasks/<uuid:id>/"),
    ("GET", "/api/v1/stats/"),
    ("GET", "/signup/"),
    ("POST", "/signup/"),
    ("GET", "/login/"),
    ("POST", "/login/"),
    ("POST", "/logout/"),
    ("GET", "/settings/"),
    ("GET", "/"),
    ("GET", "/friends/"),
    ("GET", "/people/"),
    ("GET", "/u/<str:username>/"),
    ("GET", "/u/<str:username>/friends/"),
    ("GET", "/u/<str:username>/mutual-friends/"),
    ("POST", "/u/<str:username>/request/"),
    ("POST", "/u/<str:username>/unfriend/"),
    ("POST", "/u/<str:username>/block/"),
    ("POST", "/u/<str:username>/unblock/"),
    ("POST", "/requests/<int:request_id>/<str:action>/"),
    ("GET", "/suggestions/"),
    ("POST", "/suggestions/<str:username>/dismiss/"),
    ("GET", "/notifications/"),
    ("POST", "/notifications/read/"),
    ("POST", "/notifications/read-all/"),
    ("GET", "/shares/new/"),
    ("GET", "/shares/<int:share_id>/"),
    ("GET", "/shares/<int:share_id>/download/"),
    ("GET", "/shares/<int:share_id>/thumbnail/"),
    ("POST", "/shares/<int:share_id>/delete/"),
    ("GET", "/tasks/"),
    ("GET", "/tasks/<uuid:task_id>/"),
    ("GET", "/stats/"),
}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + str(entry.pattern))
    return found


def test_every_route_is_listed():
    """Each route of the URL configuration (but Django's admin) is in ROUTES, and nothing else is."""
    routes = {p for p in _patterns(get_resolver()) if not p.startswith("/admin/")}
    assert {pattern for _, pattern in ROUTES} == routes


class Calls:
    """Records every answer by route, so the test can say which route answered what."""

    def __init__(self, site: RedisSite) -> None:
        self.site = site
        self.seen: dict[tuple[str, str], list[int]] = {}

    def note(self, method: str, route: str, status: int, body: object = "") -> None:
        self.seen.setdefault((method, route), []).append(status)
        assert status < 500 or route == "/healthz", f"{method} {route} answered {status}: {str(body)[:800]}"

    def api(self, method: str, route: str, path: str, *, token: str | None, body=None, expect: int | None = None):
        status, data = self.site.api(method, path, token=token, body=body)
        self.note(method, "/api/v1/" + route, status, data)
        if expect is not None:
            assert status == expect, f"{method} /api/v1/{path}: {status} {str(data)[:800]}"
        return data

    def page(self, browser: Browser, route: str, path: str, *, expect: int = 200) -> str:
        status, _, body = browser.get(path)
        self.note("GET", route, status, body)
        assert status == expect, f"GET {path}: {status} {body[:800]}"
        return body

    def post_page(self, browser: Browser, route: str, page: str, action: str, fields=None, *, expect=200) -> str:
        status, _, body = browser.submit(page, action, fields)
        self.note("POST", route, status, body)
        assert status == expect, f"POST {action}: {status} {body[:800]}"
        return body

    def post_form(self, browser: Browser, route: str, path: str, fields=None, *, expect=200) -> str:
        """POST `fields` to `path` as a form of the site would (with the CSRF token of any page's form)."""
        _, _, page = browser.get("/friends/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**(fields or {}), "csrfmiddlewaretoken": token}).encode()
        status, _, body = browser._open(urllib.request.Request(self.site.url + path, data=data))
        self.note("POST", route, status, body)
        assert status == expect, f"POST {path}: {status} {body[:800]}"
        return body


def _cached_suggestions(user) -> list[tuple[int, int]] | None:
    found = store.suggestions_cached(user.pk)
    return None if found is None else [(row[0], row[1]) for row in found[1]]


def test_redis_down_every_page_and_endpoint_answers_and_a_request_made_meanwhile_is_reflected_after(
    site_on_private_redis, make_user
):
    site = site_on_private_redis
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "gus", "harry", "ivy"]
    u = {n: make_user(n) for n in names}
    befriend((u["alice"], u["bob"]), (u["bob"], u["carol"]), (u["carol"], u["dave"]), (u["erin"], u["frank"]))
    befriend((u["erin"], u["alice"]))
    declined = services.friend_request_send(from_user=u["harry"], to_user=u["erin"])
    share = share_create(owner=u["erin"], file=SimpleUploadedFile("notes.txt", b"Meeting notes\nBring the slides.\n"))
    graph_cache.graph_cache_rebuild()  # into the private Redis, as `load_graph` leaves it
    assert _cached_suggestions(u["alice"]) == [(u["carol"].pk, 1), (u["frank"].pk, 1)]
    wait_for(lambda: Notification.objects.filter(recipient=u["erin"]).exists(), what="erin's request notification")
    wait_for(lambda: TaskRecord.objects.filter(id=share.processing_task_id, state="done").exists(), what="share")
    token_of = {n: token_create(user=u[n])[1] for n in ("bob", "dave", "ivy")}

    # Hung first (SIGSTOP: connections accepted, nothing answered): the short timeouts answer for Redis.
    site.redis.pause()
    try:
        status, data = site.api("GET", "suggestions/", token=token_of["bob"])
        assert (status, data["status"], data["task_id"]) == (200, "computing", None), data
        status, _, page = Browser(site.url).get("/login/")
        assert status == 200, page[:800]
        assert Browser(site.url).get("/healthz")[0] == 503
    finally:
        site.redis.resume()

    site.redis.stop(keep_data=True)
    calls = Calls(site)

    # --- log-in and sign-up (their rate limits count in Redis: they fail open) ----------------------
    for name in ("alice", "carol", "erin"):
        data = calls.api(
            "POST", "auth/token/", "auth/token/", token=None, body={"username": name, "password": PASSWORD}
        )
        token_of[name] = data["token"]
    calls.api("POST", "users/", "users/", token=None, body={"username": "newbie", "password": PASSWORD, "email": ""})
    status, _, page = Browser(site.url).submit(
        "/signup/", "/signup/", {"username": "newpage", "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    calls.note("POST", "/signup/", status, page)
    assert status == 200 and "Welcome, newpage" in page
    alice = Browser(site.url)
    calls.page(alice, "/login/", "/login/")
    calls.post_page(alice, "/login/", "/login/", "/login/", {"username": "alice", "password": PASSWORD})
    erin = Browser(site.url)
    erin.submit("/login/", "/login/", {"username": "erin", "password": PASSWORD})
    t_alice, t_carol, t_erin = token_of["alice"], token_of["carol"], token_of["erin"]

    # --- the friend request made during the outage: sent and accepted ---------------------------------
    sent = calls.api(
        "POST", "friend-requests/", "friend-requests/", token=t_alice, body={"to_user": "carol"}, expect=201
    )
    body = {"to_user": "gus"}  # stays pending: gus is notified
    calls.api("POST", "friend-requests/", "friend-requests/", token=token_of["ivy"], body=body, expect=201)
    incoming = calls.api("GET", "friend-requests/", "friend-requests/?direction=incoming", token=t_carol, expect=200)
    assert [r["id"] for r in incoming["results"]] == [sent["id"]]
    accept = f"friend-requests/{sent['id']}/accept/"
    calls.api("POST", "friend-requests/<str:request_id>/accept/", accept, token=t_carol, expect=200)

    # --- every other endpoint -------------------------------------------------------------------------
    calls.api("GET", "me/", "me/", token=t_alice, expect=200)
    profile = calls.api("GET", "users/<str:username>/", "users/bob/", token=t_carol, expect=200)
    assert profile["mutual_friend_count"] is None  # not known while Redis is down
    mutual = calls.api("GET", "users/<str:username>/mutual-friends/", "users/bob/mutual-friends/", token=t_carol)
    assert mutual["status"] == "computing" and mutual["task_id"] is None
    calls.api("GET", "users/<str:username>/friends/", "users/bob/friends/", token=t_alice, expect=200)
    calls.api("GET", "friends/", "friends/", token=t_alice, expect=200)
    suggestions = calls.api("GET", "suggestions/", "suggestions/", token=t_alice, expect=200)
    assert suggestions["status"] == "computing" and suggestions["results"] == []
    calls.api("POST", "suggestions/<str:username>/dismiss/", "suggestions/ivy/dismiss/", token=t_erin, expect=204)
    calls.api("DELETE", "friends/<str:username>/", "friends/frank/", token=t_erin, expect=204)
    calls.api("POST", "blocks/", "blocks/", token=t_erin, body={"username": "gus"}, expect=201)
    calls.api("GET", "blocks/", "blocks/", token=t_erin, expect=200)
    calls.api("DELETE", "blocks/<str:username>/", "blocks/gus/", token=t_erin, expect=204)
    decline = f"friend-requests/{declined.pk}/decline/"
    calls.api("POST", "friend-requests/<str:request_id>/decline/", decline, token=t_erin, expect=200)
    cancelled = calls.api("POST", "friend-requests/", "friend-requests/", token=t_erin, body={"to_user": "ivy"})
    route = "friend-requests/<str:request_id>/"
    calls.api("DELETE", route, f"friend-requests/{cancelled['id']}/", token=t_erin, expect=204)
    link = calls.api("POST", "shares/", "shares/", token=t_erin, body={"url": "https://example.org/", "caption": "x"})
    assert link["id"]
    calls.api("GET", "shares/", "shares/", token=t_alice, expect=200)
    calls.api("GET", "shares/<str:share_id>/", f"shares/{share.pk}/", token=t_alice, expect=200)
    calls.api("GET", "shares/<str:share_id>/download/", f"shares/{share.pk}/download/", token=t_alice, expect=200)
    calls.api("GET", "shares/<str:share_id>/thumbnail/", f"shares/{share.pk}/thumbnail/", token=t_alice, expect=404)
    notes = calls.api("GET", "notifications/", "notifications/?unread=true", token=t_erin, expect=200)
    calls.api("GET", "notifications/unread-count/", "notifications/unread-count/", token=t_erin, expect=200)
    note = f"notifications/{notes['results'][0]['id']}/read/"
    calls.api("POST", "notifications/<str:notification_id>/read/", note, token=t_erin, expect=200)
    calls.api("POST", "notifications/read-all/", "notifications/read-all/", token=t_erin, expect=200)
    task = f"tasks/{share.processing_task_id}/"
    calls.api("GET", "tasks/<uuid:id>/", task, token=t_erin, expect=200)
    calls.api("GET", "stats/", "stats/", token=t_alice, expect=200)
    listed = calls.api("GET", "auth/tokens/", "auth/tokens/", token=token_of["dave"], expect=200)
    token_id = listed["results"][0]["token_id"] if isinstance(listed, dict) else listed[0]["token_id"]
    calls.api("DELETE", "auth/tokens/<str:token_id>/", f"auth/tokens/{token_id}/", token=token_of["dave"], expect=204)
    calls.api("POST", "auth/logout-all/", "auth/logout-all/", token=token_of["bob"])

    # --- every page -----------------------------------------------------------------------------------
    home = calls.page(alice, "/", "/")
    assert "computing" in home
    for route, path in [
        ("/friends/", "/friends/"),
        ("/people/", "/people/?q=carol"),
        ("/u/<str:username>/", "/u/bob/"),
        ("/u/<str:username>/friends/", "/u/bob/friends/"),
        ("/u/<str:username>/mutual-friends/", "/u/bob/mutual-friends/"),
        ("/suggestions/", "/suggestions/"),
        ("/notifications/", "/notifications/"),
        ("/shares/new/", "/shares/new/"),
        ("/shares/<int:share_id>/", f"/shares/{share.pk}/"),
        ("/shares/<int:share_id>/download/", f"/shares/{share.pk}/download/"),
        ("/tasks/", "/tasks/"),
        ("/stats/", "/stats/"),
        ("/settings/", "/settings/"),
        ("/signup/", "/signup/"),
    ]:
        calls.page(alice, route, path)
    # A redirect to the icon, a static file, which this test's server does not serve (no collectstatic).
    calls.page(alice, "/favicon.ico", "/favicon.ico", expect=404)
    calls.page(alice, "/shares/<int:share_id>/thumbnail/", f"/shares/{share.pk}/thumbnail/", expect=404)
    calls.page(erin, "/tasks/<uuid:task_id>/", f"/tasks/{share.processing_task_id}/")
    calls.post_page(erin, "/u/<str:username>/request/", "/u/dave/", "/u/dave/request/")
    # Block and Unfriend ask first: their buttons are on the actions' own pages, which the profile links.
    calls.post_page(erin, "/u/<str:username>/block/", "/u/gus/block/", "/u/gus/block/")
    calls.post_page(erin, "/u/<str:username>/unblock/", "/u/gus/", "/u/gus/unblock/")
    calls.post_page(erin, "/u/<str:username>/unfriend/", "/u/alice/unfriend/", "/u/alice/unfriend/")
    # Its button is on the suggestions page, which has none while Redis is down: posted as that form would.
    calls.post_form(erin, "/suggestions/<str:username>/dismiss/", "/suggestions/dave/dismiss/")
    pending = FriendRequest.objects.get(from_user=u["erin"], to_user=u["dave"], state="pending")
    dave = Browser(site.url)
    dave.submit("/login/", "/login/", {"username": "dave", "password": PASSWORD})
    route = "/requests/<int:request_id>/<str:action>/"
    calls.post_page(dave, route, "/friends/", f"/requests/{pending.pk}/decline/")
    last = Notification.objects.filter(recipient=u["erin"]).latest("pk").pk  # read already: no form shows it
    calls.post_form(erin, "/notifications/read/", "/notifications/read/", {"id": str(last)})
    calls.post_form(erin, "/notifications/read-all/", "/notifications/read-all/")
    calls.post_page(
        erin, "/shares/<int:share_id>/delete/", f"/shares/{link['id']}/delete/", f"/shares/{link['id']}/delete/"
    )
    calls.post_page(alice, "/logout/", "/", "/logout/")
    for route in ("/api/schema/", "/api/docs/"):
        status, _, body = Browser(site.url).get(route)
        calls.note("GET", route, status, body)
        assert status == 200
    status, _, body = Browser(site.url).get("/healthz")
    calls.note("GET", "/healthz", status, body)
    assert status == 503 and body == '{"status": "unavailable"}'

    assert set(calls.seen) == ROUTES, sorted(ROUTES - set(calls.seen))
    # Writes succeeded: the friendship is in the database, its events are kept (outbox or queues).
    assert Friendship.objects.filter(user=u["alice"], friend=u["carol"]).exists()

    # --- Redis back (with its data): the request is fully reflected ---------------------------------------
    site.redis.start()
    alice_id, carol_id = u["alice"].pk, u["carol"].pk
    wait_for(
        lambda: (
            friend_sets.friend_ids(alice_id) == {u["bob"].pk, carol_id} and alice_id in friend_sets.friend_ids(carol_id)
        ),
        timeout=CONVERGE_TIMEOUT,
        what="alice and carol in each other's friend sets",
    )

    def suggestions_converged() -> bool:
        for user in u.values():
            cached, fresh = _cached_suggestions(user), db_reference(user)
            if cached != fresh and not (cached is None and not fresh):  # nobody to suggest, never read: no entry
                return False
        return True

    wait_for(suggestions_converged, timeout=CONVERGE_TIMEOUT, what="every cached list equal to the database's")
    status, data = site.api("GET", "suggestions/", token=t_alice)
    assert status == 200 and data["status"] == "ready"
    assert [(r["user"]["username"], r["mutual_count"]) for r in data["results"]] == [("dave", 1)]
    kinds = {(n.recipient.username, n.kind) for n in Notification.objects.select_related("recipient")}
    # (carol's "request received" is not made: the request was accepted before its subscriber ran)
    assert {("gus", "friend_request.sent"), ("alice", "friend_request.accepted")} <= kinds
    assert not TaskRecord.objects.filter(state=TaskRecord.State.FAILED).exists()  # nothing dead-lettered


def _readers_never_see_wrong_ready(site: RedisSite, users: list, tokens: dict[int, str], pairs: list) -> bool:
    """Poll every user's suggestions and some pairs' mutual friends over HTTP once; AssertionError on any
    answer marked "ready" that differs from a fresh computation; True when every answer is ready."""
    fresh_friends = {}
    for a, b in Friendship.objects.values_list("user_id", "friend_id"):
        fresh_friends.setdefault(a, set()).add(b)
    names = {user.pk: user.username for user in users}
    all_ready = True
    for user in users:
        status, data = site.api("GET", "suggestions/", token=tokens[user.pk])
        assert status == 200, data
        if data["status"] != "ready":
            all_ready = False
            continue
        got = [(r["user"]["username"], r["mutual_count"]) for r in data["results"]]
        assert got == [(names[uid], count) for uid, count in db_reference(user)], (user.username, data)
    for a, b in pairs:
        status, data = site.api("GET", f"users/{b.username}/mutual-friends/", token=tokens[a.pk])
        assert status == 200, data
        if data["status"] != "ready":
            all_ready = False
            continue
        expected = sorted(fresh_friends.get(a.pk, set()) & fresh_friends.get(b.pk, set()))
        assert data["count"] == len(expected), (a.username, b.username, data)
        assert [r["username"] for r in data["results"]] == [names[uid] for uid in expected]
    return all_ready


def test_redis_emptied_under_a_running_site_is_repaired_and_never_served_empty_as_ready(
    site_on_private_redis, make_user
):
    site = site_on_private_redis
    rng = random.Random(10)
    users = [make_user(f"p{i}") for i in range(24)]
    edges = {tuple(sorted(rng.sample(range(len(users)), 2))) for _ in range(60)}
    befriend(*[(users[a], users[b]) for a, b in sorted(edges)])
    tokens = {user.pk: token_create(user=user)[1] for user in users}
    pairs = [(users[a], users[b]) for a, b in itertools.islice(itertools.combinations(range(8), 2), 12)]
    graph_cache.graph_cache_rebuild()
    for a, b in pairs:
        compute.mutual_recompute(a.pk, b.pk)
    wait_for(lambda: _readers_never_see_wrong_ready(site, users, tokens, pairs), what="a warm cache")

    site.redis.client().flushall()  # the private server: a Redis restarted empty, under the running site
    # Life goes on meanwhile: a new friendship's event reaches the worker while the graph is lost.
    a, b = next((x, y) for x, y in itertools.combinations(users, 2) if (users.index(x), users.index(y)) not in edges)
    services.friendship_create(user=a, friend=b)

    wait_for(
        lambda: _readers_never_see_wrong_ready(site, users, tokens, pairs),
        timeout=CONVERGE_TIMEOUT,
        interval=0.2,
        what="every reader answered ready with a fresh computation's result",
    )
    assert friend_sets.friend_sets_built()
    for user in users:  # everyone, not only those who read: the repair rebuilt all
        assert _cached_suggestions(user) == db_reference(user), user.username
    repairs = TaskRecord.objects.filter(actor_name="repair_graph_cache")
    assert [r.state for r in repairs] == ["done"], list(repairs.values("state", "error"))
    assert repairs[0].progress_done == repairs[0].progress_total == len(users)
