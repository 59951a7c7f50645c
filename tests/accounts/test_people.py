"""How people are named on the pages: display name, @username, and a profile link that needs no reversal."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.people import display_name, person_html, profile_url, short_name

User = get_user_model()


@pytest.mark.parametrize("username", ["bob", "a.b@c+d-e_f", "Zoë", "fb4038", "x y", "%2f"])
def test_profile_url_is_what_reverse_gives(username):
    assert profile_url(username) == reverse("profile", args=[username])


def test_a_named_user_is_shown_by_name_with_the_username_beside_it():
    ana = User(username="fb12", first_name="Ana", last_name="Díaz")
    assert display_name(ana) == "Ana Díaz"
    assert short_name(ana) == "Ana D."
    assert person_html(ana) == '<a href="/u/fb12/">Ana Díaz</a> <span class="handle">@fb12</span>'


def test_a_user_without_a_name_is_shown_by_username_alone():
    bob = User(username="bob")
    assert display_name(bob) == short_name(bob) == "bob"
    assert person_html(bob) == '<a href="/u/bob/">bob</a>'


def test_names_are_escaped():
    eve = User(username="eve", first_name="<script>", last_name="&")
    assert "<script>" not in person_html(eve)
    assert "&lt;script&gt; &amp;" in person_html(eve)
