"""Everything under /api/ answers errors as JSON with the right status, whatever failed before the view ran.

Routes are enumerated from the URL resolver, so a route added later (shares, notifications, …) is
covered by these tests without being listed here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

API = "/api/"
WRITE_METHODS = ("post", "put", "patch")
ALL_METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    route: str  # "/api/v1/users/<str:username>/"
    methods: frozenset[str]  # what its view answers (lower case, without options/head)

    @property
    def has_params(self) -> bool:
        return bool(PARAM.search(self.route))

    def url(self, value: str | None = None) -> str:
        """The route with every parameter set to `value`, or to a well-formed sample of its converter."""

        def fill(match: re.Match) -> str:
            if value is not None:
                return value
            return {"int": "1", "uuid": str(uuid.uuid4()), "slug": "bob", "path": "bob"}.get(
                match["converter"] or "str", "bob"
            )

        return PARAM.sub(fill, self.route)

    def __str__(self) -> str:
        return self.route


def _walk(patterns: list, prefix: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def api_routes() -> list[Route]:
    routes = []
    for route, callback in _walk(get_resolver().url_patterns, "/"):
        if not route.startswith(API):
            continue
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        methods = {m for m in ALL_METHODS if view is not None and hasattr(view, m)}
        routes.append(Route(route, frozenset(methods)))
    assert len(routes) > 10, "the resolver walk found too few API routes"
    return routes


ROUTES = api_routes()
ROUTES_WITH_IDS = [r for r in ROUTES if r.has_params]
WRITE_ROUTES = [(r, m) for r in ROUTES for m in sorted(r.methods & set(WRITE_METHODS))]
UNANSWERED = [(r, m) for r in ROUTES for m in ALL_METHODS if m not in r.methods]
# Values no route can take as an id or a username: wrong type, out of range, NUL, overlong, unknown.
MALFORMED_IDS = [
    "not-an-id",
    "0",
    "-1",
    "99999999999999999999999",
    "1.5",
    "%00",
    "a%00b",
    "%C2%B2",
    "x" * 300,
    "00000000-0000-0000-0000-000000000000",
]


@pytest.fixture
def alice_api(api_as, make_user):
    make_user("bob")
    return api_as(make_user("alice"))


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, dict) and body, body
    return body


def test_the_route_walk_sees_the_routes_that_take_an_id():
    routes = {str(r) for r in ROUTES_WITH_IDS}
    assert "/api/v1/tasks/<uuid:id>/" in routes
    assert "/api/v1/friend-requests/<str:request_id>/accept/" in routes
    assert "/api/v1/users/<str:username>/mutual-friends/" in routes
    assert "/api/v1/auth/tokens/<str:token_id>/" in routes


# --- bodies that never reach validation -------------------------------------------------------------------


def test_deeply_nested_json_on_the_anonymous_token_endpoint_is_a_json_400(db):
    response = APIClient().post("/api/v1/auth/token/", b"[" * 100_000, content_type="application/json")
    assert "JSON parse error" in assert_json_error(response, 400)["detail"]


BAD_BODIES = {
    "deeply nested": (b"[" * 100_000, "application/json", 400),
    "malformed JSON": (b'{"to_user": ', "application/json", 400),
    "3 MiB of JSON": (b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}', "application/json", 413),
    "3 MiB of form": (b"x=" + b"a" * (3 * 1024 * 1024), "application/x-www-form-urlencoded", 413),
    "text/plain": (b"to_user=bob", "text/plain", 415),
    "XML": (b"<to_user>bob</to_user>", "application/xml", 415),
}


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize(("route", "method"), WRITE_ROUTES, ids=[f"{m} {r}" for r, m in WRITE_ROUTES])
def test_bad_bodies_on_every_write_route_are_json_4xx(alice_api, route, method, kind):
    body, content_type, status = BAD_BODIES[kind]
    response = getattr(alice_api, method)(route.url(), body, content_type=content_type)
    assert_json_error(response, status)


# --- routes and ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/", "/api/v1/", "/api/v1/nope/", "/api/v2/users/", "/api/v1/users/alice/nope/", "/api/x%00/"],
)
def test_unknown_api_routes_are_json_404(alice_api, path):
    assert assert_json_error(alice_api.get(path), 404)["detail"]


def test_unknown_api_routes_are_json_404_for_anonymous_clients_too(db):
    assert_json_error(APIClient().post("/api/v1/no-such-thing/", {}), 404)


@pytest.mark.parametrize("value", MALFORMED_IDS)
@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=str)
def test_malformed_or_unknown_ids_on_every_route_are_json_404(alice_api, route, value):
    for method in sorted(route.methods):
        response = getattr(alice_api, method)(route.url(value))
        # One code for every 404, DRF's lookups' and the services' ("No such share.") alike.
        assert assert_json_error(response, 404)["code"] == "not_found", (method, route)


@pytest.mark.parametrize(("route", "method"), UNANSWERED, ids=[f"{m} {r}" for r, m in UNANSWERED])
def test_wrong_methods_on_every_route_are_json_405(alice_api, route, method):
    body = assert_json_error(getattr(alice_api, method)(route.url(), {}, format="json"), 405)
    assert method.upper() in body["detail"]


def test_a_task_id_that_is_not_a_uuid_is_the_same_json_404_as_an_unknown_one(alice_api):
    malformed = assert_json_error(alice_api.get("/api/v1/tasks/not-a-uuid/"), 404)
    unknown = assert_json_error(alice_api.get(f"/api/v1/tasks/{uuid.uuid4()}/"), 404)
    # Neither names an internal model ("No TaskRecord matches the given query.").
    assert malformed == unknown == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/notifications/?page=999", 404, "not_found"),  # DRF's "Invalid page."
        ("/api/v1/nope/", 404, "not_found"),
    ],
)
def test_every_error_body_carries_a_code(alice_api, path, status, code):
    body = assert_json_error(alice_api.get(path), status)
    assert body["code"] == code and body["detail"]


# --- what Django refuses before routing, and crashes ---------------------------------------------------------


def test_a_bad_host_header_under_the_api_is_a_json_400(db):
    assert_json_error(APIClient().get("/api/v1/me/", HTTP_HOST="evil.example"), 400)


def test_a_token_header_that_is_not_utf8_is_a_json_401(db):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Token \xff\xfe")
    assert_json_error(response, 401)


@pytest.mark.urls("tests.socialsite.urls_crash")
def test_a_crash_under_the_api_is_a_json_500_without_details(db):
    client = APIClient(raise_request_exception=False)
    body = assert_json_error(client.get("/api/v1/crash/"), 500)
    assert "a bug" not in str(body) and "Traceback" not in str(body)


@pytest.mark.urls("tests.socialsite.urls_crash")
def test_a_crash_on_a_page_is_still_the_sites_html_500(db):
    from django.test import Client

    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_pages_keep_their_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "Not found" in response.content.decode()
