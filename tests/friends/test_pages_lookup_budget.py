"""The profile's mutual friends spend the per-user look-up budget only when they are looked up cold
(enqueued): reading a cached answer is as cheap as the rest of the page, so it is never refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from socialsite.models import TaskRecord
from tests.support.factories import crowd
from tests.support.pages import browser

SPENT = "looked up many people's mutual friends recently"


@pytest.fixture
def tiny_budget(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "mutual_friends": "2/d"}


@pytest.mark.django_db
def test_cached_mutual_friends_show_however_often_the_profile_is_read(alice, bob, tiny_budget):
    crowd(alice, bob, 3)
    client = browser(alice)
    for _ in range(5):
        html = client.get(reverse("profile", args=["bob"])).content.decode()
        assert 'Mutual friends <span class="muted">(3)</span>' in html and SPENT not in html
    assert not TaskRecord.objects.exists()


@pytest.mark.django_db
def test_cold_look_ups_still_spend_the_budget(alice, make_user, tiny_budget):
    client = browser(alice)
    for name in ("p1", "p2"):
        make_user(name)
        assert SPENT not in client.get(reverse("profile", args=[name])).content.decode()
    make_user("p3")
    assert SPENT in client.get(reverse("profile", args=["p3"])).content.decode()
    assert TaskRecord.objects.count() == 2
