"""`Route`: a URL reversed once and filled per row gives exactly what `reverse()` gives."""

import pytest
from django.urls import reverse

from socialsite.routes import Route


@pytest.mark.parametrize("name", ["fb0", "a.b+c@d-e_f", "é x", "x%y", "100", "a~b.c-d_e", "a'b&c", "x?y#z"])
def test_a_filled_route_equals_reverse_for_any_username(name):
    assert Route("profile", str)(name) == reverse("profile", args=[name])
    assert Route("send-request", str)(name) == reverse("send-request", args=[name])


def test_a_route_with_an_int_and_a_str_fills_both_in_place():
    route = Route("request-action", int, str)
    assert route(7, "accept") == reverse("request-action", args=[7, "accept"])
    assert route(123456, "cancel") == reverse("request-action", args=[123456, "cancel"])


def test_a_route_follows_a_script_prefix_set_after_it_was_first_used():
    from django.urls import set_script_prefix

    assert Route("profile", str)("fb0") == "/u/fb0/"
    set_script_prefix("/social/")
    try:
        assert Route("profile", str)("fb0") == reverse("profile", args=["fb0"]) == "/social/u/fb0/"
    finally:
        set_script_prefix("/")


def test_favicon_ico_leads_to_the_sites_icon(client):
    """Pages that name no icon (the admin's) make browsers ask for /favicon.ico: not a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    assert "favicon" in response["Location"]
