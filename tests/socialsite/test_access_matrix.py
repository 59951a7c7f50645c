"""Two users, A and B, over every URL that takes an id or a username (issue 11, acceptance 2).

Routes are enumerated from the URL resolver; each route that takes a parameter must be classified
below (`USER_ROUTES`: the parameter names a user; `OWNED_ROUTES`: it names something A owns), else
`test_every_route_that_takes_a_parameter_is_classified` fails, so a new route is covered or noticed.
Request bodies that name a user or an object are enumerated from the OpenAPI schema the same way.

For each relation between A and B (strangers, friends, A blocks B, B blocks A, A inactive), B calls
each route with every method, naming A or A's objects, and:

- when A may not be visible to B (A blocks B, A is inactive), every answer equals the answer for a name
  nobody has: same status, same content type, same body once the name itself is replaced;
- A's private objects (A's friend request to someone else, A's notification, task, token, and A's share
  unless B is A's friend) answer exactly as an id that does not exist;
- nothing B does to A's private objects, or to an A it may not see, changes the database;
- no answer B gets carries A's e-mail, A's token, the people A blocks or has asked, who asked A, or
  A's friends (A shows the list to nobody).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import Profile
from accounts.services import profile_settings_update
from friends import services as friend_services
from friends.models import Block, FriendRequest, Friendship, Share, SuggestionDismissal
from friends.shares import services as share_services
from notifications.models import Notification
from notifications.services import notification_create
from socialsite.models import TaskRecord
from tests.friends.shares import samples
from tests.support.routes import routes

User = get_user_model()
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<re_name>\w+)>[^)]*\)")

A, B, NOBODY = "anna_x7q", "bert_x7q", "nobody_x7q"
A_EMAIL = "anna-private-mail@example.org"
# People only A's private objects name: B must never see these names (or A's e-mail, or A's token).
ASKED_BY_A, ASKED_A, BLOCKED_BY_A, FRIEND_OF_A = "cee_x7q", "eve_x7q", "dee_x7q", "eff_x7q"

RELATIONS = ["strangers", "friends", "a_blocks_b", "b_blocks_a", "a_inactive"]
INVISIBLE = {"a_blocks_b", "a_inactive"}  # A must look exactly like NOBODY to B

# Routes whose parameter is a username. (The friend-request page takes a request id and an action.)
USER_ROUTES = {
    "/u/<str:username>/",
    "/u/<str:username>/friends/",
    "/u/<str:username>/mutual-friends/",
    "/u/<str:username>/request/",
    "/u/<str:username>/unfriend/",
    "/u/<str:username>/block/",
    "/u/<str:username>/unblock/",
    "/suggestions/<str:username>/dismiss/",
    "/api/v1/users/<str:username>/",
    "/api/v1/users/<str:username>/mutual-friends/",
    "/api/v1/users/<str:username>/friends/",
    "/api/v1/friends/<str:username>/",
    "/api/v1/blocks/<str:username>/",
    "/api/v1/suggestions/<str:username>/dismiss/",
}
# Routes whose parameters name A's objects: parameter -> which object (see `World.owned`).
OWNED_ROUTES = {
    "/tasks/<uuid:task_id>/": {"task_id": "task"},
    "/api/v1/tasks/<uuid:id>/": {"id": "task"},
    "/requests/<int:request_id>/<str:action>/": {"request_id": "request", "action": "action"},
    "/api/v1/notifications/<str:notification_id>/read/": {"notification_id": "notification"},
    "/api/v1/auth/tokens/<str:token_id>/": {"token_id": "token"},
    # A request or a share, then what is done with it.
    **{
        f"/api/v1/friend-requests/<str:request_id>/{then}": {"request_id": "request"}
        for then in ("", "accept/", "decline/")
    },
    **{f"/shares/<int:share_id>/{then}": {"share_id": "share"} for then in ("", "download/", "thumbnail/", "delete/")},
    **{f"/api/v1/shares/<str:share_id>/{then}": {"share_id": "share"} for then in ("", "download/", "thumbnail/")},
}
# Django admin: staff only; B (not staff) is sent to the admin log-in whatever the id.
ADMIN_PREFIX = "/admin/"
# What shares let a friend do: read (B, A's friend, reads A's share like A's other friends).
SHARE_ROUTES = {r for r, params in OWNED_ROUTES.items() if "share_id" in params}

# Request bodies that name a user or one of A's objects: (method, path) -> body, "{name}"/"{id}" filled in.
BODY_CASES = {
    ("post", "/api/v1/friend-requests/"): {"to_user": "{name}"},
    ("post", "/api/v1/blocks/"): {"username": "{name}"},
    ("post", "/api/v1/auth/token/"): {"username": "{name}", "password": "not-the-password-1"},
    ("post", "/login/"): {"username": "{name}", "password": "not-the-password-1"},
    ("post", "/notifications/read/"): {"id": "{notification}"},
}
# Bodies the schema walk finds that are not about visibility: sign-up says a name is taken (it must,
# to refuse it), whoever holds it.
BODY_EXEMPT = {("post", "/api/v1/users/")}

API_METHODS = ("get", "post", "put", "patch", "delete")
PAGE_METHODS = ("get", "post")


def routes_with_params() -> list[str]:
    return sorted({r for r in routes() if PARAM.search(r)})


ROUTES = routes_with_params()
CHECKED = sorted(USER_ROUTES | set(OWNED_ROUTES))


def test_every_route_that_takes_a_parameter_is_classified():
    unclassified = [
        r for r in ROUTES if r not in USER_ROUTES and r not in OWNED_ROUTES and not r.startswith(ADMIN_PREFIX)
    ]
    assert not unclassified, f"classify these routes in {__name__}: {unclassified}"
    stale = sorted((USER_ROUTES | set(OWNED_ROUTES)) - set(ROUTES))
    assert not stale, f"these classified routes no longer exist: {stale}"
    assert len(CHECKED) >= 25 and any(r.startswith(ADMIN_PREFIX) for r in ROUTES)


def test_every_request_body_that_names_a_user_or_an_object_is_covered():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    naming = {"username", "to_user", "id", "ids", "user", "user_id", "share_id", "request_id", "notification_id"}
    found = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                if naming & set(properties):
                    found.add((method, path))
    assert found, "the schema walk found no request body naming a user"
    missing = found - set(BODY_CASES) - BODY_EXEMPT
    assert not missing, f"cover these request bodies in BODY_CASES: {sorted(missing)}"


# --- the world ------------------------------------------------------------------------------------------


@dataclass
class World:
    a: object
    b: object
    owned: dict[str, str]  # A's objects, as the URL spells them
    unknown: dict[str, str]  # ids nothing has
    forbidden: list[bytes]  # never in an answer to B


@pytest.fixture
def world(make_user, media_root) -> World:
    a = make_user(A)
    User.objects.filter(pk=a.pk).update(email=A_EMAIL)
    b = make_user(B)
    cee, eve, dee, eff = (make_user(n) for n in (ASKED_BY_A, ASKED_A, BLOCKED_BY_A, FRIEND_OF_A))
    request = friend_services.friend_request_send(from_user=a, to_user=cee)
    friend_services.friend_request_send(from_user=eve, to_user=a)
    friend_services.block_create(blocker=a, blocked=dee)
    friend_services.friendship_create(user=a, friend=eff)
    profile_settings_update(user=a, friend_list_visibility="only_me")
    share = share_services.share_create(owner=a, file=SimpleUploadedFile("holiday.png", samples.png()), caption="ours")
    share_services.share_process(share_id=share.pk)
    notification_create(
        recipient_id=a.pk,
        event_id=uuid.uuid4(),
        kind=Notification.Kind.FRIEND_REQUEST_RECEIVED,
        text=f"{ASKED_A} sent you a friend request.",
        actor_id=eve.pk,
        url=f"/u/{ASKED_A}/",
    )
    notification = Notification.objects.get(recipient=a)
    task = TaskRecord.objects.create(
        id=uuid.uuid4(), actor_name="compute_mutual_friends", queue_name="graph", owner=a, message={}
    )
    token, token_key = tokens.token_create(user=a)
    owned = {
        "request": str(request.pk),
        "notification": str(notification.pk),
        "task": str(task.pk),
        "token": tokens.token_id(token),
        "share": str(share.pk),
    }
    unknown = {"request": "999999", "notification": "999999", "task": str(uuid.uuid4()), "token": "0" * 16}
    unknown["share"] = "999999"
    forbidden = [A_EMAIL, token_key, token.digest, ASKED_BY_A, ASKED_A, BLOCKED_BY_A, FRIEND_OF_A]
    return World(a=a, b=b, owned=owned, unknown=unknown, forbidden=[f.encode() for f in forbidden])


def relate(world: World, relation: str) -> None:
    a, b = world.a, world.b
    if relation == "friends":
        friend_services.friendship_create(user=a, friend=b)
    elif relation == "a_blocks_b":
        friend_services.block_create(blocker=a, blocked=b)
    elif relation == "b_blocks_a":
        friend_services.block_create(blocker=b, blocked=a)
    elif relation == "a_inactive":
        User.objects.filter(pk=a.pk).update(is_active=False)


@pytest.fixture(params=RELATIONS)
def relation(request, world: World) -> str:
    """How A and B are related: each test that takes it runs once per relation."""
    relate(world, request.param)
    return request.param


@pytest.fixture
def as_b(world: World, relation: str) -> AsB:
    """B, calling after A and B were related."""
    return AsB(world)


def db_state() -> list:
    """Everything B could change about A (or anyone): compared before and after B's calls."""
    return [
        sorted(Friendship.objects.values_list("user_id", "friend_id")),
        sorted(FriendRequest.objects.values_list("id", "from_user_id", "to_user_id", "state")),
        sorted(Block.objects.values_list("blocker_id", "blocked_id")),
        sorted(SuggestionDismissal.objects.values_list("user_id", "dismissed_id")),
        sorted(Share.objects.values_list("id", "owner_id", "state", "file", "thumbnail")),
        sorted(Notification.objects.values_list("id", "recipient_id", "read_at")),
        sorted(TaskRecord.objects.values_list("id", "owner_id", "state")),
        sorted(AuthToken.objects.values_list("digest", "user_id")),
        sorted(Profile.objects.values_list("user_id", "friend_list_visibility")),
        sorted(User.objects.values_list("id", "username", "email", "is_active")),
    ]


# --- calling as B -----------------------------------------------------------------------------------------

_VOLATILE = [
    re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(rb'nonce="[^"]*"'),
]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    location: str

    def masked(self, name: str = "") -> Answer:
        """The answer with `name` replaced, and what differs on every render (CSRF token, nonce) blanked."""
        body, location = self.body, self.location
        if name:
            body, location = body.replace(name.encode(), b"<NAME>"), location.replace(name, "<NAME>")
        for pattern in _VOLATILE:
            body = pattern.sub(b"<VOLATILE>", body)
        return Answer(self.status, self.content_type, body, location)


class AsB:
    """B's two clients: the API with B's token, the pages with B's session."""

    def __init__(self, world: World) -> None:
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=world.b)[1]}")
        self.page = Client()
        self.page.force_login(world.b)
        self.anonymous = APIClient()
        self.forbidden = world.forbidden

    def call(self, method: str, path: str, body: dict | None = None, *, anonymous: bool = False) -> Answer:
        if path.startswith("/api/"):
            client = self.anonymous if anonymous else self.api
            response = getattr(client, method)(path, body or {}, format="json")
        else:
            response = getattr(self.page, method)(path, body or {})
        content = b"".join(response.streaming_content) if response.streaming else response.content
        answer = Answer(response.status_code, response.get("Content-Type", ""), content, response.get("Location", ""))
        assert answer.status < 500, (method, path, answer)
        leaked = [f for f in self.forbidden if f in content or f.decode() in answer.location]
        assert not leaked, f"{method.upper()} {path} showed B {leaked}"
        return answer


def fill(route: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values[m["name"] or m["re_name"]], route)


def methods_of(route: str) -> tuple[str, ...]:
    return API_METHODS if route.startswith("/api/") else PAGE_METHODS


# --- the matrix ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(USER_ROUTES))
def test_b_naming_a_in_the_url(as_b, relation, route):
    before = db_state()
    for method in methods_of(route):
        named_a = as_b.call(method, fill(route, {"username": A}))
        if relation in INVISIBLE:
            named_nobody = as_b.call(method, fill(route, {"username": NOBODY}))
            assert named_a.masked(A) == named_nobody.masked(NOBODY), (method, route)
    if relation in INVISIBLE:
        assert db_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(BODY_CASES))
def test_b_naming_a_or_as_objects_in_a_request_body(world, as_b, relation, method, path):
    template = BODY_CASES[(method, path)]
    anonymous = path in ("/api/v1/auth/token/",)
    before = db_state()

    def body(name: str, ids: dict[str, str]) -> dict:
        return {k: v.format(name=name, **ids) for k, v in template.items()}

    named_a = as_b.call(method, path, body(A, world.owned), anonymous=anonymous)
    if relation in INVISIBLE or "{name}" not in str(template) or path in ("/api/v1/auth/token/", "/login/"):
        named_nobody = as_b.call(method, path, body(NOBODY, world.unknown), anonymous=anonymous)
        assert named_a.masked(A) == named_nobody.masked(NOBODY), (method, path)
    if relation in INVISIBLE or "{name}" not in str(template):
        assert db_state() == before


def _readable_by_friend(route: str, method: str) -> bool:
    return route in SHARE_ROUTES and method == "get"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(OWNED_ROUTES))
def test_b_naming_as_private_objects(world, as_b, relation, route):
    params = OWNED_ROUTES[route]
    actions = ["accept", "decline", "cancel"] if "action" in params.values() else [""]
    before = db_state()
    for action in actions:
        a_values = {p: (action if kind == "action" else world.owned[kind]) for p, kind in params.items()}
        unknown_values = {p: (action if kind == "action" else world.unknown[kind]) for p, kind in params.items()}
        for method in methods_of(route):
            as_a = as_b.call(method, fill(route, a_values))
            nothing = as_b.call(method, fill(route, unknown_values))
            if relation == "friends" and route in SHARE_ROUTES:
                if _readable_by_friend(route, method) and not route.endswith("/delete/"):
                    assert as_a.status == 200, (method, route)
                continue  # a friend may read A's share; changing it is refused (the database check below)
            assert as_a.masked() == nothing.masked(), (method, route)
    assert db_state() == before


@pytest.mark.django_db
def test_b_is_sent_to_the_admin_log_in_from_every_admin_route(make_user):
    a, b = make_user(A), make_user(B)
    page = Client()
    page.force_login(b)
    before = db_state()
    values = {"object_id": str(a.pk), "app_label": "auth", "content_type_id": "1", "url": "x"}
    admin_routes = [r for r in ROUTES if r.startswith(ADMIN_PREFIX)]
    assert len(admin_routes) > 20
    for route in admin_routes:
        path = PARAM.sub(lambda m: values.get(m["name"] or m["re_name"], "1"), route).replace("^", "").replace("$", "")
        for method in PAGE_METHODS:
            response = getattr(page, method)(path)
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"].startswith("/admin/login/"), (method, path)
    assert db_state() == before


@pytest.mark.django_db
def test_the_api_reference_is_public_as_the_readme_says():
    """The schema and its docs page answer without logging in (drf-spectacular's default, kept on
    purpose: the footer of the log-in page links them); nothing else of the API does."""
    from django.test import Client

    client = Client()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 401
