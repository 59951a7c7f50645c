"""Usernames: NFKC-normalised on every path, unique ignoring case in the database, reserved names refused,
and a sign-up race answered 400, never 500 (issue 11, acceptance 5)."""

from __future__ import annotations

import threading
import unicodedata

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import user_sign_up
from accounts.usernames import RESERVED
from socialsite.errors import ServiceError

User = get_user_model()
V1 = "/api/v1"
PASSWORD = "a-long-Passphrase-9"

# Each folds to "alice" or "ALICE"-in-some-case under NFKC: full-width, mathematical bold, script small
# l, modifier capital A, circled letters, a superscript-free mix.
LOOK_ALIKES = [
    "\uff41\uff4c\uff49\uff43\uff45",  # full-width "alice"
    "\uff21\uff2c\uff29\uff23\uff25",  # full-width "ALICE"
    "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e",  # mathematical bold "alice"
    "a\u2113ice",  # script small l
    "\u1d2clice",  # modifier letter capital A
    "\u24d0lice",  # circled small a
    "\uff41lice",  # one full-width letter
]


def api_sign_up(client: APIClient, username: str):
    return client.post(f"{V1}/users/", {"username": username, "password": PASSWORD}, format="json")


def test_the_look_alikes_are_what_they_claim():
    assert all(unicodedata.normalize("NFKC", name).casefold() == "alice" for name in LOOK_ALIKES)
    assert all(name != "alice" for name in LOOK_ALIKES)


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOOK_ALIKES, ids=[n.encode("unicode_escape").decode() for n in LOOK_ALIKES])
def test_an_nfkc_look_alike_of_an_existing_name_is_refused_by_the_api(api, alice, name):
    response = api_sign_up(api, name)
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "That username is taken.", "code": "username"}
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LOOK_ALIKES[:3], ids=["full-width", "full-width-upper", "math-bold"])
def test_an_nfkc_look_alike_of_an_existing_name_is_refused_by_the_page(alice, name):
    response = Client().post(
        reverse("signup"), {"username": name, "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["That username is taken."]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_new_name_is_stored_normalised_and_logs_in_through_every_door_in_either_form(api):
    fullwidth_fiona = "\ufb01ona"  # the "fi" ligature
    response = api_sign_up(api, fullwidth_fiona)
    assert response.status_code == 201
    assert response.json()["username"] == "fiona"
    assert User.objects.get().username == "fiona"
    for typed in ("fiona", fullwidth_fiona, "\uff46\uff49\uff4f\uff4e\uff41"):
        token = api.post(f"{V1}/auth/token/", {"username": typed, "password": PASSWORD}, format="json")
        assert token.status_code == 200, (typed, token.content)
        page = Client().post(reverse("login"), {"username": typed, "password": PASSWORD})
        assert page.status_code == 302, typed


@pytest.mark.django_db
def test_a_name_logs_in_in_any_letter_case_and_only_with_its_password(api):
    """Names are unique ignoring case, so "GWEN" is gwen at every door, as `/u/GWEN/` is her profile."""
    assert api_sign_up(api, "gwen").status_code == 201
    for typed in ("Gwen", "\uff27\uff37\uff25\uff2e"):  # and full-width capitals
        token = api.post(f"{V1}/auth/token/", {"username": typed, "password": PASSWORD}, format="json")
        assert token.status_code == 200, (typed, token.content)
        page = Client().post(reverse("login"), {"username": typed, "password": PASSWORD})
        assert page.status_code == 302, typed
    wrong = Client().post(reverse("login"), {"username": "GWEN", "password": PASSWORD + "x"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in wrong.client.session


@pytest.mark.django_db
def test_the_sign_up_page_says_a_taken_name_with_the_forms_other_errors(alice):
    """Found by a new user's trial: "That username is taken." came only once the e-mail and passwords
    were mended. Every error is said at once, and nothing is created."""
    response = Client().post(
        reverse("signup"), {"username": "ALICE", "email": "not-an-email", "password1": PASSWORD, "password2": "x"}
    )
    errors = response.context["form"].errors
    assert errors["username"] == ["That username is taken."]
    assert "email" in errors and errors["password2"] == ["The two passwords do not match."]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_the_page_sign_up_stores_the_normalised_name_too():
    client = Client()
    response = client.post(
        reverse("signup"), {"username": "\uff42\uff4f\uff42", "email": "", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get().username == "bob"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [*sorted(RESERVED), "Admin", "ROOT", "\uff41\uff44\uff4d\uff49\uff4e", "Me", "HealthZ"],
)
def test_reserved_names_are_refused_in_any_case_or_width(api, name):
    response = api_sign_up(api, name)
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "That username is reserved.", "code": "username"}
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", [".", "..", "...", "a/b", "a b", "%2e", "?", "#x", "a\\b", "\u200b", " "])
def test_names_that_do_not_make_a_working_profile_link_are_refused(api, name):
    response = api_sign_up(api, name)
    assert response.status_code == 400, response.content
    assert "username" in response.json().get("code", response.json())  # the service's code or a field error
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["a.b", "x..y", "ana-maria", "o_brien", "zoë", "user@home", "a+b"])
def test_names_with_allowed_punctuation_sign_up_and_their_profile_link_works(api, name):
    assert api_sign_up(api, name).status_code == 201
    user = User.objects.get()
    client = Client()
    client.force_login(user)
    assert client.get(reverse("profile", args=[user.username])).status_code == 200


@pytest.mark.django_db
def test_the_database_itself_refuses_a_second_name_differing_only_in_case(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_add_form_stores_the_normalised_name_and_refuses_a_look_alike(alice, admin_client):
    form = {"username": "\uff43\uff41\uff52\uff4f\uff4c", "password1": PASSWORD, "password2": PASSWORD}
    response = admin_client.post("/admin/auth/user/add/", {**form, "usable_password": "true"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert User.objects.filter(username="carol").exists()
    response = admin_client.post("/admin/auth/user/add/", {**form, "username": "\uff21LICE", "usable_password": "true"})
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert not User.objects.filter(username__iexact="alice").exclude(pk=alice.pk).exists()


# --- the race: two sign-ups of one name at the same moment ------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent transactions: PostgreSQL"
)


def _wait_for_a_lock_waiter(done: threading.Event, bound: float = 30.0) -> bool:
    """Until another session of this database waits on a lock, or `done` (bounded; polls the real
    condition). True if a waiter was seen."""
    import time

    deadline = time.monotonic() + bound
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and not done.is_set():
            # Inside a transaction PostgreSQL keeps serving its first snapshot of pg_stat_activity.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
    return False


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_that_loses_the_race_for_a_name_is_400_not_500():
    """Deterministic: the first sign-up has inserted "race" but not committed, so the second one's check
    finds nothing and its INSERT waits on the unique index; when the first commits, the second gets the
    database's refusal, which the service answers as "taken" (400)."""
    started, done = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def second() -> None:
        started.wait(10)
        try:
            results["second"] = api_sign_up(APIClient(), "RACE")
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        user_sign_up(username="race", password=PASSWORD)
        started.set()
        waited = _wait_for_a_lock_waiter(done)
    thread.join(30)
    response = results.get("second")
    assert waited, f"the second sign-up never waited on the first one's row: {response and response.content}"
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": "That username is taken.", "code": "username"}
    assert list(User.objects.values_list("username", flat=True)) == ["race"]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_of_one_name_give_one_201_and_the_rest_400():
    n = 6
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def sign_up(i: int) -> None:
        try:
            client = APIClient(REMOTE_ADDR=f"127.0.0.{i + 1}")  # each its own sign-up budget
            barrier.wait(10)
            response = api_sign_up(client, "Twin" if i % 2 else "twin")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [201] + [400] * (n - 1)
    assert User.objects.filter(username__iexact="twin").count() == 1


@pytest.mark.django_db
def test_the_service_refuses_an_empty_name():
    with pytest.raises(ServiceError, match="required"):
        user_sign_up(username="  ", password=PASSWORD)
