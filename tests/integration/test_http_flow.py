"""The browser flow over real HTTP: live server, real worker, real RabbitMQ and Redis; stdlib client only."""

from __future__ import annotations

import html
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

from django.utils import dateformat, timezone

from friends import friend_sets
from friends.models import Block, FriendRequest, Friendship
from tests.support.waiting import wait_for

PASSWORD = "correct-horse-42"


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Send `Secure` cookies to http://localhost, as browsers do (loopback is a secure context).

    The settings keep secure session and CSRF cookies in tests, as in production.
    """

    def return_ok_secure(self, cookie, request) -> bool:
        host = urllib.parse.urlsplit(request.get_full_url()).hostname
        return host in {"localhost", "127.0.0.1"} or super().return_ok_secure(cookie, request)


class Browser:
    """A cookie-keeping HTTP client that fills in the CSRF token from the page's form, like a browser."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base_url + path))

    def submit(self, page_path: str, form_action: str, fields: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Load `page_path`, find the form posting to `form_action` (its own `action`, or a submit button's
        `formaction`, as on list pages where one form holds every row's buttons) and post it with its CSRF
        token, as a browser does when that button is pressed."""
        status, _, page = self.get(page_path)
        assert status == 200, page
        target = re.escape(form_action)
        form = re.search(rf'<form[^>]*\saction="{target}".*?</form>', page, re.S) or re.search(
            rf'<form(?:(?!</form>).)*<button[^>]*\sformaction="{target}".*?</form>', page, re.S
        )
        assert form, f"no form posting to {form_action} on {page_path}"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
        hidden = dict(re.findall(r'<input type="hidden" name="(next)" value="([^"]*)"', form.group(0)))
        data = urllib.parse.urlencode({**hidden, **(fields or {}), "csrfmiddlewaretoken": token}).encode()
        return self._open(urllib.request.Request(self.base_url + html.unescape(form_action), data=data))

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        """Status, final path (after redirects) and body."""
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, urllib.parse.urlsplit(response.geturl()).path, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, urllib.parse.urlsplit(exc.geturl()).path, exc.read().decode()


def test_signup_request_accept_over_http_reaches_redis_and_both_profiles(live_server, worker, bob):
    alice = Browser(live_server.url)
    status, path, page = alice.submit(
        "/signup/", "/signup/", {"username": "alice", "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert (status, path) == (200, "/")
    assert "Welcome, alice" in page

    status, path, page = alice.submit("/u/bob/", "/u/bob/request/")
    assert (status, path) == (200, "/u/bob/")
    assert "Friend request sent to bob." in page
    request = FriendRequest.objects.get(from_user__username="alice", to_user=bob, state="pending")

    bob_browser = Browser(live_server.url)
    status, path, page = bob_browser.submit("/login/", "/login/", {"username": "bob", "password": PASSWORD})
    assert (status, path) == (200, "/")
    status, path, page = bob_browser.submit("/friends/", f"/requests/{request.pk}/accept/")
    assert (status, path) == (200, "/friends/")
    assert "You are now friends with alice." in page

    alice_id = request.from_user_id
    wait_for(
        lambda: friend_sets.friend_ids(alice_id) == {bob.pk} and friend_sets.friend_ids(bob.pk) == {alice_id},
        what="both users' Redis friend sets to hold each other",
    )

    since = Friendship.objects.get(user_id=alice_id, friend=bob).is_friend_since
    date = dateformat.format(timezone.localtime(since), "j M Y")
    for browser, owner, friend in ((alice, "bob", "alice"), (bob_browser, "alice", "bob")):
        status, _, page = browser.get(f"/u/{owner}/")
        assert status == 200
        assert re.search(rf"Friends since <time[^>]*>{date}</time>", page)
        friend_row = rf'<a href="/u/{friend}/">{friend}</a>(?:</span>)?\s*<span class="muted">since <time[^>]*>{date}'
        assert re.search(friend_row, page)


def test_post_without_csrf_token_is_refused_over_http(live_server, bob, carol):
    browser = Browser(live_server.url)
    status, _, _ = browser.submit("/login/", "/login/", {"username": "bob", "password": PASSWORD})
    assert status == 200
    request = urllib.request.Request(live_server.url + "/u/carol/block/", data=b"next=/")
    assert browser._open(request)[0] == 403
    assert not Block.objects.exists()
