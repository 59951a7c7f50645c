"""Pages of mutual friends and "people you may know": the home panel, the suggestions page, the profile's
mutual friends; "computing…" that fills in by itself, dismiss as POST/redirect/GET, bounded SQL.

The cache is filled by calling the real computations, as the graph actors do.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from friends import services
from friends.models import FriendRequest, SuggestionDismissal
from friends.suggestions import compute
from socialsite.models import OutboxEvent, TaskRecord
from tests.support.factories import crowd, fill_mutual, fill_suggestions
from tests.support.pages import browser, page_messages

NOSCRIPT_REFRESH = '<noscript><meta http-equiv="refresh" content="3"></noscript>'

pytestmark = pytest.mark.django_db


def suggestion_names(html: str) -> list[str]:
    """The people offered, in order: each suggestion has a dismiss form naming them."""
    return re.findall(r'action="/suggestions/([^/"]+)/dismiss/"', html)


@pytest.fixture
def people(make_graph):
    """alice's friends bob, carol, dan; people she may know, best first:

    erin (3 mutual: bob, carol, dan), fay (2), then gus, hal, ivy, jay, kim (1 each, by id).
    """
    return make_graph(
        [
            *[("alice", f) for f in ("bob", "carol", "dan")],
            *[("erin", f) for f in ("bob", "carol", "dan")],
            *[("fay", f) for f in ("bob", "carol")],
            *[(s, "bob") for s in ("gus", "hal", "ivy", "jay", "kim")],
        ],
        names=("alice", "bob", "carol", "dan", "erin", "fay", "gus", "hal", "ivy", "jay", "kim"),
    )


def assert_computing(html: str, task_id: str) -> None:
    assert "computing…" in html
    assert NOSCRIPT_REFRESH in html
    assert f'"/api/v1/tasks/{task_id}/"' in html  # what static/js/computing.js polls
    assert reverse("task-detail", args=[task_id]) in html


# --- suggestions page ------------------------------------------------------------------------------


def test_suggestions_page_shows_computing_then_all_results_once_the_cache_is_filled(people):
    alice = people["alice"]
    client = browser(alice)

    response = client.get(reverse("suggestions"))
    assert response.status_code == 200
    task = TaskRecord.objects.get(actor_name="compute_suggestions")
    assert task.owner_id == alice.pk
    assert_computing(response.content.decode(), str(task.pk))
    assert suggestion_names(response.content.decode()) == []
    assert client.get(reverse("task-detail", args=[task.pk])).status_code == 200  # the link works

    fill_suggestions(alice)
    html = client.get(reverse("suggestions")).content.decode()
    assert "computing…" not in html and NOSCRIPT_REFRESH not in html and "/api/v1/tasks/" not in html
    assert suggestion_names(html) == ["erin", "fay", "gus", "hal", "ivy", "jay", "kim"]
    erin = re.search(r"3 mutual friends: (.*?)</span>", html).group(1)
    assert re.findall(r">(\w+)</a>", erin) == ["bob", "carol", "dan"]
    assert "2 mutual friends: " in html and "1 mutual friend: " in html
    assert f'action="{reverse("send-request", args=["erin"])}"' in html
    # Just computed: said in seconds ("now", "12 seconds ago"), as everywhere else, never "0 minutes".
    updated = re.search(r"Updated <time [^>]*>([^<]*)</time>", html).group(1)
    assert updated == "now" or updated.endswith("seconds ago"), updated


def test_two_cold_page_views_wait_for_the_same_task(people):
    client = browser(people["alice"])
    client.get(reverse("suggestions"))
    client.get(reverse("home"))
    assert TaskRecord.objects.filter(actor_name="compute_suggestions").count() == 1


def test_suggestions_page_never_shows_blocked_users(people):
    alice = people["alice"]
    services.block_create(blocker=alice, blocked=people["erin"])
    fill_suggestions(alice)
    services.block_create(blocker=people["fay"], blocked=alice)  # after the computation: still hidden
    html = browser(alice).get(reverse("suggestions")).content.decode()
    assert suggestion_names(html) == ["gus", "hal", "ivy", "jay", "kim"]


def test_add_friend_from_a_suggestion_sends_the_request(people):
    alice = people["alice"]
    fill_suggestions(alice)
    response = browser(alice).post(
        reverse("send-request", args=["erin"]), {"next": reverse("suggestions")}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("suggestions")
    assert page_messages(response) == ["Friend request sent to erin."]
    assert FriendRequest.objects.filter(from_user=alice, to_user=people["erin"], state="pending").exists()


# --- dismiss ---------------------------------------------------------------------------------------


def test_dismiss_redirects_with_a_message_and_the_user_is_gone_after_the_recompute(people, deliver_events):
    alice = people["alice"]
    fill_suggestions(alice)
    client = browser(alice)

    response = client.post(reverse("dismiss-suggestion", args=["erin"]), follow=True)
    assert response.redirect_chain == [(reverse("suggestions"), 302)]
    assert page_messages(response) == ["erin will not be suggested to you again."]
    assert SuggestionDismissal.objects.filter(user=alice, dismissed=people["erin"]).exists()

    deliver_events(drain=False)
    assert "computing…" in client.get(reverse("suggestions")).content.decode()  # stale is never shown
    compute.suggestions_recompute([alice.pk])
    assert suggestion_names(client.get(reverse("suggestions")).content.decode())[0] == "fay"


def test_dismiss_from_home_returns_home(people):
    fill_suggestions(people["alice"])
    response = browser(people["alice"]).post(reverse("dismiss-suggestion", args=["fay"]), {"next": reverse("home")})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_dismissing_myself_is_refused_with_a_message_and_changes_nothing(people):
    events = OutboxEvent.objects.count()
    response = browser(people["alice"]).post(reverse("dismiss-suggestion", args=["alice"]), follow=True)
    assert page_messages(response) == ["You cannot dismiss yourself."]
    assert not SuggestionDismissal.objects.exists() and OutboxEvent.objects.count() == events


def test_dismissing_a_friend_is_refused_with_a_message_and_changes_nothing(people):
    events = OutboxEvent.objects.count()
    response = browser(people["alice"]).post(reverse("dismiss-suggestion", args=["bob"]), follow=True)
    assert page_messages(response) == ["You are already friends with bob: only people you may know can be dismissed."]
    assert not SuggestionDismissal.objects.exists() and OutboxEvent.objects.count() == events


def test_dismiss_by_get_only_asks_and_unknown_users_are_404(people):
    client = browser(people["alice"])
    assert "<h1>Stop suggesting erin?</h1>" in client.get(reverse("dismiss-suggestion", args=["erin"])).content.decode()
    assert client.post(reverse("dismiss-suggestion", args=["nobody"])).status_code == 404
    assert not SuggestionDismissal.objects.exists()


def test_suggestion_pages_require_login(people):
    client = browser()
    for response in (client.get(reverse("suggestions")), client.post(reverse("dismiss-suggestion", args=["erin"]))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not SuggestionDismissal.objects.exists() and not TaskRecord.objects.exists()


# --- home ------------------------------------------------------------------------------------------


def test_home_panel_shows_computing_then_the_top_five_with_mutual_counts(people):
    alice = people["alice"]
    client = browser(alice)
    response = client.get(reverse("home"))
    task = TaskRecord.objects.get(actor_name="compute_suggestions", owner=alice)
    assert_computing(response.content.decode(), str(task.pk))

    fill_suggestions(alice)
    html = client.get(reverse("home")).content.decode()
    assert "computing…" not in html and NOSCRIPT_REFRESH not in html
    assert suggestion_names(html) == ["erin", "fay", "gus", "hal", "ivy"]
    assert "3 mutual friends</span>" in html and "2 mutual friends</span>" in html
    assert html.count(f'action="{reverse("send-request", args=["erin"])}"') == 1
    assert f'href="{reverse("suggestions")}"' in html


def test_every_page_links_to_suggestions(people):
    html = browser(people["alice"]).get(reverse("friends")).content.decode()
    assert f'<a href="{reverse("suggestions")}">People you may know</a>' in html


# --- profile: mutual friends with the viewer -------------------------------------------------------


def test_profile_shows_mutual_friends_computing_then_count_and_list(people):
    alice, erin = people["alice"], people["erin"]
    client = browser(alice)
    response = client.get(reverse("profile", args=["erin"]))
    task = TaskRecord.objects.get(actor_name="compute_mutual_friends")
    assert task.owner_id == alice.pk
    assert_computing(response.content.decode(), str(task.pk))

    fill_mutual(alice, erin)
    html = client.get(reverse("profile", args=["erin"])).content.decode()
    assert "computing…" not in html and NOSCRIPT_REFRESH not in html
    assert 'Mutual friends <span class="muted">(3)</span>' in html
    mutual = re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r">(\w+)</a>", mutual) == ["bob", "carol", "dan"]


def test_profile_mutual_friends_leave_out_blocked_users(people):
    alice, erin = people["alice"], people["erin"]
    fill_mutual(alice, erin)
    services.block_create(blocker=people["carol"], blocked=alice)
    html = browser(alice).get(reverse("profile", args=["erin"])).content.decode()
    mutual = re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r">(\w+)</a>", mutual) == ["bob", "dan"]
    assert 'Mutual friends <span class="muted">(2)</span>' in html


def test_own_profile_has_no_mutual_friends_and_enqueues_nothing(people):
    html = browser(people["alice"]).get(reverse("profile", args=["alice"])).content.decode()
    assert "Mutual friends" not in html and "computing…" not in html
    assert not TaskRecord.objects.exists()


def test_profile_says_when_there_is_no_friend_in_common(people, make_user):
    alice = people["alice"]
    fill_mutual(alice, make_user("zed"))
    html = browser(alice).get(reverse("profile", args=["zed"])).content.decode()
    assert "You and zed have no friends in common." in html


# --- SQL per page does not grow with friends or suggestions --------------------------------------

SIZES = [5, 500]
# As measured, whatever the number of friends or suggestions (the session comes from the cache, the
# header's unread badge with the user). The suggestions page: the user, the exclusions since the
# computation (1) and the shown users of the cached result (1).
SUGGESTIONS_PAGE_MAX_QUERIES = 3
# Home: the user, the counts of friends, incoming requests and shares in one query, the exclusions (1)
# and the shown users; a page of the shares feed only when there are shares (none here).
HOME_MAX_QUERIES = 4
# A profile with cached mutual friends: the user, `user_profile` (1), the newest of the owner's friends (its
# count is the profile's), the first mutual friends still listable with their names and their count (1).
PROFILE_MAX_QUERIES = 4


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    ("name", "ceiling"), [("suggestions", SUGGESTIONS_PAGE_MAX_QUERIES), ("home", HOME_MAX_QUERIES)]
)
def test_suggestion_pages_queries_do_not_grow_with_friends_or_suggestions(
    alice, bob, n, name, ceiling, get_within_queries
):
    crowd(alice, bob, n)
    html = get_within_queries(browser(alice), reverse(name), ceiling).content.decode()
    shown = suggestion_names(html)
    assert shown[0] == "bob" and f"{n} mutual friends" in html
    assert len(shown) == min(n + 1, compute.TOP_K if name == "suggestions" else 5)


@pytest.mark.parametrize("n", SIZES)
def test_profile_with_mutual_friends_queries_do_not_grow_with_friends(alice, bob, n, get_within_queries):
    """The profile lists the first few mutual friends and links the whole list, whose page lists 50 and
    counts the rest; neither page's queries grow with their number."""
    from friends.selectors import MUTUAL_PAGE, MUTUAL_PREVIEW

    crowd(alice, bob, n)
    client = browser(alice)
    html = get_within_queries(client, reverse("profile", args=["bob"]), PROFILE_MAX_QUERIES).content.decode()
    assert f'Mutual friends <span class="muted">({n})</span>' in html
    mutual = re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1)
    assert mutual.count("<li>") == min(n, MUTUAL_PREVIEW)
    whole_url = reverse("profile-mutual-friends", args=["bob"])
    assert (f'<a href="{whole_url}">See all {n} mutual friends</a>' in html) is (n > MUTUAL_PREVIEW)
    # The whole list: the user, `user_profile`, the mutual friends still listable, the badge.
    html = get_within_queries(client, whole_url, PROFILE_MAX_QUERIES - 1).content.decode()
    assert f"({n})</span></h1>" in html
    mutual = re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1)
    assert mutual.count("<li>") == min(n, MUTUAL_PAGE)
    assert (f"Page 1 of {-(-n // MUTUAL_PAGE)}" in html) is (n > MUTUAL_PAGE)
    # The last page costs the same, and a page past it is the last page (one query more: its count).
    last = -(-n // MUTUAL_PAGE)
    html = get_within_queries(client, whole_url, PROFILE_MAX_QUERIES - 1, page=last).content.decode()
    listed = re.search(r'<ul class="people mutual">(.*?)</ul>', html, re.S).group(1)
    assert listed.count("<li>") == n - (last - 1) * MUTUAL_PAGE
    past = get_within_queries(client, whole_url, PROFILE_MAX_QUERIES + 1, page=last + 1).content.decode()
    assert re.search(r'<ul class="people mutual">(.*?)</ul>', past, re.S).group(1) == listed
