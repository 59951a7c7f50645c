"""The mutual-friends drawing on a profile: a small SVG, readable (sampled) whatever the number of mutual
friends, accessible, and free of script and inline style."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from friends.drawing import SAMPLE, mutual_friends_svg
from tests.support.factories import befriend, fill_mutual, make_users
from tests.support.pages import browser

User = get_user_model()


def _people(n: int) -> list:
    return [User(username=f"fb{i}", first_name=f"First{i}", last_name=f"Last{i}") for i in range(n)]


def test_hundreds_of_mutual_friends_draw_a_sample_and_count_the_rest():
    viewer, owner = User(username="ana", first_name="Ana", last_name="Díaz"), User(username="bob")
    svg = mutual_friends_svg(viewer=viewer, owner=owner, mutual=_people(300), mutual_count=800, are_friends=True)
    assert svg.count("<rect ") == SAMPLE + 1  # the sample, and one "+N more" node
    assert f"+{800 - SAMPLE} more" in svg
    assert "First11 L." in svg and "First12 L." not in svg
    assert 'role="img"' in svg and 'aria-labelledby="mutual-drawing-title"' in svg
    assert '<title id="mutual-drawing-title">You, bob and your mutual friends</title>' in svg
    assert re.search(r"<desc[^>]*>You and bob are friends\. 800 mutual friends, 12 drawn: First0 Last0, ", svg)
    assert "friends</text>" in svg  # the arc between the two
    assert "style=" not in svg and "<script" not in svg


def test_no_friends_in_common_and_not_friends():
    svg = mutual_friends_svg(
        viewer=User(username="ana"), owner=User(username="bob"), mutual=[], mutual_count=0, are_friends=False
    )
    assert "No friends in common" in svg and "<rect " not in svg and "<path " not in svg
    assert "You and bob are not friends and have no friends in common." in svg


def test_names_in_the_drawing_are_escaped():
    evil = User(username="x", first_name="<b>", last_name="&")
    svg = mutual_friends_svg(viewer=evil, owner=evil, mutual=[evil], mutual_count=1, are_friends=False)
    assert "<b>" not in svg and "&lt;b&gt; &amp;" in svg


@pytest.mark.django_db
def test_a_profile_draws_the_viewer_the_owner_and_their_mutual_friends(make_user):
    alice, bob = make_user("alice"), make_user("bob", first_name="Bob", last_name="Builder")
    common = make_users(20, "common")
    befriend((alice, bob), *[(alice, c) for c in common], *[(bob, c) for c in common])
    fill_mutual(alice, bob)
    html = browser(alice).get(reverse("profile", args=["bob"])).content.decode()
    figure = re.search(r'<figure class="drawing">.*?</figure>', html, re.S)
    assert figure, "no drawing on the profile"
    assert figure.group(0).count("<rect ") == SAMPLE + 1
    assert "+8 more" in figure.group(0)
    assert "You and Bob Builder, with 12 of your 20 mutual friends." in figure.group(0)


@pytest.mark.django_db
def test_no_drawing_while_the_mutual_friends_are_computing_nor_on_ones_own_profile(alice, bob):
    html = browser(alice).get(reverse("profile", args=["bob"])).content.decode()
    assert "computing…" in html and "<figure" not in html
    assert "<figure" not in browser(alice).get(reverse("profile", args=["alice"])).content.decode()
