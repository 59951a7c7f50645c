"""Finding someone by username: the newcomer's way to a first friend, before any suggestion exists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from friends import services
from tests.support.pages import browser

pytestmark = pytest.mark.django_db
FIND = reverse("find-person")


@pytest.mark.parametrize("typed", ["@bob ", "BOB", "Bob"])
def test_a_known_username_goes_to_the_profile_whatever_its_letter_case(alice, bob, typed):
    response = browser(alice).get(FIND, {"username": typed})
    assert response.status_code == 302 and response["Location"] == reverse("profile", args=["bob"])


def test_an_unknown_or_blocking_user_shows_the_same_error_and_keeps_what_was_typed(alice, bob):
    services.block_create(blocker=bob, blocked=alice)
    for typed in ("bob", "nobody"):
        html = browser(alice).get(FIND, {"username": typed}).content.decode()
        assert f"Nobody is called @{typed} here." in html
        assert f'value="{typed}"' in html and 'aria-invalid="true"' in html


def test_an_empty_search_asks_for_a_username_and_the_bare_page_has_no_error(alice):
    assert "Type a username." in browser(alice).get(FIND, {"username": " "}).content.decode()
    html = browser(alice).get(FIND).content.decode()
    assert "Find someone by username" in html and 'role="alert"' not in html


def test_a_newcomers_home_offers_the_search_and_asks_for_no_computation(alice, stub_broker):
    html = browser(alice).get(reverse("home")).content.decode()
    assert "Add a first friend" in html and 'id="find-username"' in html
    assert "computing…" not in html
    assert sum(q.qsize() for q in stub_broker.queues.values()) == 0  # nothing to compute without friends


def test_a_null_character_is_refused_and_never_echoed(alice, bob):
    html = browser(alice).get(FIND, {"username": "bo\x00b"}).content.decode()
    assert "Null characters are not allowed." in html and "\x00" not in html
    assert 'value="bob"' in html  # what was typed, without it
