"""Rate limits hold under parallel requests, against a live server and the real Redis.

Each parallel test fires 50 requests at once (threads released together by a barrier) at a live,
threaded HTTP server in this process (`live_url`), and counts what got past the limit. Rates
are the production counts with a one-day window, so a run never straddles a window edge (a fixed
window lets up to twice the budget through across one edge, by design).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import RequestFactory
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from friends.models import FriendRequest
from socialsite import ratelimits
from socialsite.models import TaskRecord

PARALLEL = 50
TEST_RATES = {
    "anon": "1000/d",
    "user": "1000/d",
    "login_account": "10/d",
    "login_ip": "20/d",
    "sign_up": "10/d",
    "friend_requests": "7/d",
    "mutual_friends": "9/d",
    "shares": "30/d",
}


def limit(scope: str) -> int:
    return int(TEST_RATES[scope].split("/")[0])


@pytest.fixture(autouse=True)
def rates(settings):
    settings.RATE_LIMITS = dict(TEST_RATES)
    return settings.RATE_LIMITS


# --- a live server that takes fifty connections at once, and a small HTTP client for it -----------------


class _WideServer(ThreadedWSGIServer):
    # Django's listen backlog is 10: the kernel would reset most of fifty simultaneous connections.
    request_queue_size = 128


class _WideLiveServerThread(LiveServerThread):
    server_class = _WideServer


@pytest.fixture(scope="module")
def _wide_server():
    thread = _WideLiveServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def live_url(_wide_server, transactional_db):
    """The server's URL; the test's data is committed (each request thread has its own connection)."""
    return _wide_server


class Http:
    """urllib against the live server, with a cookie jar (for the CSRF cookie of the log-in forms)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self, method: str, path: str, *, form: dict | None = None, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf_token(self, path: str) -> str:
        status, _, html = self.request("GET", path)
        assert status == 200, path
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def in_parallel(fn: Callable[[int], tuple], n: int = PARALLEL) -> list[tuple]:
    """Run fn(0..n-1) in n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i: int) -> tuple:
        barrier.wait(timeout=60)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def forged(i: int) -> dict[str, str]:
    """A different X-Forwarded-For on every request: what an attacker sends to look like many clients."""
    return {"X-Forwarded-For": f"198.51.100.{i + 1}"}


def assert_429(status: int, headers: dict[str, str]) -> None:
    assert status == 429
    assert int(headers["Retry-After"]) > 0


def login_failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "socialsite.auth" and "log-in failed" in r.getMessage()]


# --- password guessing: API token, page log-in, admin log-in --------------------------------------------


@pytest.mark.parametrize("proxies", [0, 1], ids=["no-proxy", "one-trusted-proxy"])
def test_parallel_wrong_api_passwords_with_forged_addresses_pass_at_most_the_account_limit(
    live_url, make_user, caplog, settings, proxies
):
    """With no proxy the forged header is ignored; with one declared, every request is a different
    address (the header is believed) and the per-account budget alone holds the line."""
    settings.NUM_PROXIES = proxies
    make_user("alice")
    http = Http(live_url)
    caplog.set_level(logging.WARNING, logger="socialsite.auth")

    results = in_parallel(
        lambda i: http.request(
            "POST",
            "/api/v1/auth/token/",
            body={"username": "alice", "password": f"guess-{i}-secret"},
            headers=forged(i),
        )
    )

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) == {400, 429}, statuses
    assert 1 <= statuses[400] <= limit("login_account")
    for status, headers, body in results:
        if status == 429:
            assert_429(status, headers)
            assert headers["Content-Type"] == "application/json"
            assert "throttled" in json.loads(body)["detail"]
    # Every checked password was logged as a failure, and no password reached the log.
    failures = login_failures(caplog)
    assert len(failures) == statuses[400]
    assert all("'alice'" in r.getMessage() for r in failures)
    assert not any("secret" in r.getMessage() for r in caplog.records)
    # The account stays closed for the window, even to its right password.
    status, headers, _ = http.request(
        "POST", "/api/v1/auth/token/", body={"username": "alice", "password": "correct-horse-42"}
    )
    assert_429(status, headers)


@pytest.mark.parametrize(
    ("login_path", "username"),
    [("/login/", "alice"), ("/admin/login/?next=/admin/", "root")],
    ids=["page", "admin"],
)
def test_parallel_wrong_form_passwords_with_forged_addresses_pass_at_most_the_account_limit(
    live_url, make_user, django_user_model, caplog, settings, login_path, username
):
    settings.CSRF_COOKIE_SECURE = False  # the live server speaks plain HTTP; a Secure cookie is never sent back
    if username == "root":
        django_user_model.objects.create_superuser("root", "root@example.com", "admin-pass-123")
    else:
        make_user(username)
    http = Http(live_url)
    token = http.csrf_token(login_path)
    caplog.set_level(logging.WARNING, logger="socialsite.auth")

    results = in_parallel(
        lambda i: http.request(
            "POST",
            login_path,
            form={"username": username, "password": f"guess-{i}-secret", "csrfmiddlewaretoken": token},
            headers={**forged(i), "Referer": live_url + login_path},
        )
    )

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) == {200, 429}, statuses  # 200: the form again, with its error
    assert 1 <= statuses[200] <= limit("login_account")
    for status, headers, html in results:
        if status == 429:
            assert_429(status, headers)
            assert headers["Content-Type"].startswith("text/html")
            assert "Too many requests" in html and f"wait {headers['Retry-After']} second" in html
    assert len(login_failures(caplog)) == statuses[200]
    assert not any("secret" in r.getMessage() for r in caplog.records)


def test_the_three_doors_share_one_budget_per_account(client, make_user):
    """Switching between the API, the page and the admin log-in gives no extra guesses."""
    make_user("alice")
    budget = limit("login_account")
    doors = [
        lambda: client.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, "application/json"),
        lambda: client.post("/login/", {"username": "alice", "password": "x"}),
        lambda: client.post("/admin/login/", {"username": "alice", "password": "x"}),
    ]
    statuses = [doors[i % 3]().status_code for i in range(budget + 3)]
    assert 429 not in statuses[:budget]
    assert statuses[budget:] == [429, 429, 429]


def test_successful_log_ins_give_their_attempt_back_and_wrong_guesses_still_count(make_user):
    """Logging in often (the shared demo user, several devices) never locks an account out; guesses do,
    whether or not right passwords come between them (found by a new user's trial: ten log-ins as the
    demo user in 15 minutes locked it out). Each attempt from a client not logged in, as a device's."""
    from django.test import Client

    make_user("alice")
    budget = limit("login_account")
    right = {"username": "alice", "password": "correct-horse-42"}
    wrong = {"username": "alice", "password": "x"}
    for i in range(budget * 2):  # twice the budget of right passwords, through the page and the API
        if i % 2:
            assert Client().post("/login/", right).status_code == 302
        else:
            assert Client().post("/api/v1/auth/token/", right, "application/json").status_code == 200
    guesses = [Client().post("/login/", wrong).status_code for _ in range(budget - 1)]
    assert guesses == [200] * (budget - 1)  # the form again, with its error
    assert Client().post("/login/", right).status_code == 302  # a right one still passes, and gives back
    assert Client().post("/login/", wrong).status_code == 200  # the budget's last guess
    assert Client().post("/login/", wrong).status_code == 429
    assert Client().post("/login/", right).status_code == 429  # spent: even the right password waits


def test_a_refund_reaches_the_counter_that_django_ratelimit_counts():
    """`refund` finds django-ratelimit's counter through its private helpers: an upgrade that moves them
    must fail here, not silently stop refunding."""
    from django_ratelimit.core import get_usage

    from socialsite import ratelimits

    key = "account:refund-check"
    assert ratelimits.hit(request=None, scope="login_account", key=key) is None
    assert ratelimits.hit(request=None, scope="login_account", key=key) is None
    ratelimits.refund(scope="login_account", key=key)
    usage = get_usage(None, group="login_account", key=lambda _g, _r: key, rate=TEST_RATES["login_account"])
    assert usage["count"] == 1


def test_one_address_guessing_many_accounts_passes_at_most_the_address_limit(live_url, make_user):
    for i in range(PARALLEL):
        make_user(f"user-{i}")
    http = Http(live_url)

    results = in_parallel(
        lambda i: http.request(
            "POST", "/api/v1/auth/token/", body={"username": f"user-{i}", "password": "wrong"}, headers=forged(i)
        )
    )

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) == {400, 429}
    assert 1 <= statuses[400] <= limit("login_ip")


def test_look_alike_spellings_of_a_name_share_its_budget(client, make_user):
    make_user("alice")
    spellings = ["alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45", " Alice"]  # the third is full-width
    statuses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": spellings[i % len(spellings)], "password": "x"},
            "application/json",
            REMOTE_ADDR=f"192.0.2.{i}",
        ).status_code
        for i in range(limit("login_account") + 1)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:-1]


# --- sign-up ----------------------------------------------------------------------------------------------


def test_sign_up_is_limited_per_address_across_the_api_and_the_page(client, db):
    budget = limit("sign_up")
    for i in range(budget - 1):
        response = client.post(
            "/api/v1/users/",
            {"username": f"new{i}", "password": "a-long-Passphrase-9"},
            "application/json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        )
        assert response.status_code == 201
    page = client.post(
        "/signup/", {"username": "last", "password1": "a-long-Passphrase-9", "password2": "a-long-Passphrase-9"}
    )
    assert page.status_code == 302
    client.logout()

    api = client.post("/api/v1/users/", {"username": "more", "password": "a-long-Passphrase-9"}, "application/json")
    assert_429(api.status_code, api.headers)
    page = client.post(
        "/signup/", {"username": "more", "password1": "a-long-Passphrase-9", "password2": "a-long-Passphrase-9"}
    )
    assert_429(page.status_code, page.headers)
    assert "Too many requests" in page.content.decode()
    # Another address has its own budget.
    other = client.post(
        "/api/v1/users/",
        {"username": "elsewhere", "password": "a-long-Passphrase-9"},
        "application/json",
        REMOTE_ADDR="192.0.2.77",
    )
    assert other.status_code == 201


# --- per-user budgets: friend requests and mutual-friend look-ups -----------------------------------------


def test_parallel_friend_requests_of_one_user_pass_at_most_the_user_limit(live_url, make_user, api_as):
    from accounts.tokens import token_create

    alice = make_user("alice")
    for i in range(PARALLEL):
        make_user(f"target-{i}")
    auth = {"Authorization": f"Token {token_create(user=alice)[1]}"}
    http = Http(live_url)

    results = in_parallel(
        lambda i: http.request(
            "POST", "/api/v1/friend-requests/", body={"to_user": f"target-{i}"}, headers={**auth, **forged(i)}
        )
    )

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) == {201, 429}, statuses
    assert statuses[201] == limit("friend_requests")  # nothing else can refuse these
    assert FriendRequest.objects.filter(from_user=alice).count() == statuses[201]
    for status, headers, _ in results:
        if status == 429:
            assert_429(status, headers)


def test_parallel_mutual_friend_look_ups_of_one_user_enqueue_at_most_the_user_limit(live_url, make_user):
    from accounts.tokens import token_create

    alice = make_user("alice")
    for i in range(PARALLEL):
        make_user(f"other-{i}")
    auth = {"Authorization": f"Token {token_create(user=alice)[1]}"}
    http = Http(live_url)

    results = in_parallel(lambda i: http.request("GET", f"/api/v1/users/other-{i}/mutual-friends/", headers=auth))

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) == {200, 429}, statuses
    assert statuses[200] == limit("mutual_friends")
    computing = [json.loads(body) for status, _, body in results if status == 200]
    assert all(body["status"] == "computing" for body in computing)
    assert TaskRecord.objects.filter(owner=alice).count() <= limit("mutual_friends")


def test_page_and_api_friend_requests_share_one_budget(client, api_as, make_user):
    alice = make_user("alice")
    targets = [make_user(f"t{i}") for i in range(limit("friend_requests") + 1)]
    api = api_as(alice)
    for target in targets[:-2]:
        assert api.post("/api/v1/friend-requests/", {"to_user": target.username}, format="json").status_code == 201
    client.force_login(alice)
    assert client.post(f"/u/{targets[-2].username}/request/").status_code == 302
    refused = client.post(f"/u/{targets[-1].username}/request/")
    assert_429(refused.status_code, refused.headers)
    assert not FriendRequest.objects.filter(to_user=targets[-1]).exists()


def test_profile_pages_past_the_look_up_budget_still_show_but_enqueue_nothing(client, make_user):
    alice = make_user("alice")
    others = [make_user(f"p{i}") for i in range(limit("mutual_friends") + 1)]
    client.force_login(alice)
    for other in others[:-1]:
        assert client.get(f"/u/{other.username}/").status_code == 200
    tasks = TaskRecord.objects.count()

    response = client.get(f"/u/{others[-1].username}/")

    assert response.status_code == 200
    assert "looked up many people's mutual friends recently" in response.content.decode()
    assert TaskRecord.objects.count() == tasks


def test_get_requests_are_not_counted_against_the_friend_request_budget(api_as, make_user):
    alice = make_user("alice")
    api = api_as(alice)
    for _ in range(limit("friend_requests") + 1):
        assert api.get("/api/v1/friend-requests/").status_code == 200


def test_every_authenticated_request_counts_against_the_user_budget(api_as, make_user, rates):
    rates["user"] = "3/d"
    api = api_as(make_user("alice"))
    statuses = [api.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_anonymous_requests_count_per_address(client, db, rates):
    rates["anon"] = "2/d"

    def post(addr: str) -> int:
        body = {"username": "x", "password": "y"}
        return client.post("/api/v1/auth/token/", body, "application/json", REMOTE_ADDR=addr).status_code

    assert [post("192.0.2.1"), post("192.0.2.1"), post("192.0.2.1")] == [400, 400, 429]
    assert post("192.0.2.2") == 400


# --- the client address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.1"),  # no proxy declared: the header is the client's own words
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the left part was written by the client
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),  # fewer entries than proxies: the leftmost
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_address_trusts_exactly_the_configured_number_of_proxies(settings, proxies, forwarded, expected):
    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimits.client_ip(request) == expected


def test_ipv6_clients_share_the_budget_of_their_64_prefix():
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    two = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::2")
    assert ratelimits.ip_key(one) == ratelimits.ip_key(two) == "2001:db8:1:2::"


@pytest.mark.parametrize("rate", ["10/x", "ten/m", "10/0m", "0/m", "10/", "10 /m", "10/m "])
def test_a_malformed_rate_is_refused_at_start_up(rate):
    from socialsite.checks import rate_limits_check

    with pytest.raises(ValueError):
        ratelimits.validate_rate(rate)
    with override_rates(broken=rate):
        assert [e.id for e in rate_limits_check()] == ["socialsite.E002"]


def override_rates(**extra):
    from django.test import override_settings

    return override_settings(RATE_LIMITS={**TEST_RATES, **extra})


# --- Redis down ------------------------------------------------------------------------------------------


def test_with_redis_down_limits_fail_open_and_say_so_in_the_log(client, make_user, settings, caplog):
    """Rate limits fail open: a Redis outage must not also lock everyone out. The log says so."""
    make_user("alice")
    settings.CACHES = {
        "default": {
            "BACKEND": "socialsite.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    caplog.set_level(logging.WARNING, logger="socialsite.ratelimits")
    for _ in range(limit("login_account") + 2):
        response = client.post(
            "/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-42"}, "application/json"
        )
        assert response.status_code == 200
    assert client.post("/login/", {"username": "alice", "password": "correct-horse-42"}).status_code == 302
    warnings = [r.getMessage() for r in caplog.records if r.name == "socialsite.ratelimits"]
    assert warnings and all("Redis unavailable" in w for w in warnings)
