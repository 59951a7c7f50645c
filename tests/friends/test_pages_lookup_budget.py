"""The mutual friends (a profile's first few, and their own page) spend the per-user look-up budget only
when they are looked up cold (enqueued): reading a cached answer is as cheap as the rest of the page, so
it is never refused."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from socialsite.models import TaskRecord
from tests.support.factories import crowd
from tests.support.pages import browser

SPENT = "looked up many people's mutual friends recently"


@pytest.fixture
def tiny_budget(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "mutual_friends": "2/d"}


PAGES = ["profile", "profile-mutual-friends"]


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_cached_mutual_friends_show_however_often_the_page_is_read(alice, bob, tiny_budget, page):
    crowd(alice, bob, 3)
    client = browser(alice)
    for _ in range(5):
        html = client.get(reverse(page, args=["bob"])).content.decode()
        assert '<span class="muted">(3)</span>' in html and SPENT not in html
        assert re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1).count("<li>") == 3
    assert not TaskRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_cold_look_ups_still_spend_the_budget(alice, make_user, tiny_budget, page):
    """The budget is one per user, whichever page spends it."""
    client = browser(alice)
    for name, where in (("p1", page), ("p2", "profile")):
        make_user(name)
        html = client.get(reverse(where, args=[name])).content.decode()
        assert SPENT not in html and "Mutual friends: computing" in html
    make_user("p3")
    for where in PAGES:
        html = client.get(reverse(where, args=["p3"])).content.decode()
        assert SPENT in html and "computing" not in html
    assert TaskRecord.objects.count() == 2
