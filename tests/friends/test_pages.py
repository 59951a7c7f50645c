"""The server-rendered pages, driven like a browser with the Django test client."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from friends import services
from friends.models import Block, FriendRequest, Friendship
from tests.support.factories import act
from tests.support.pages import browser, page_messages

User = get_user_model()
PASSWORD = "correct-horse-42"


def since_text(user, friend) -> str:
    since = Friendship.objects.get(user=user, friend=friend).is_friend_since
    return dateformat.format(timezone.localtime(since), "j M Y")


def signup(client: Client, username: str, password: str = PASSWORD, password2: str | None = None):
    return client.post(
        reverse("signup"),
        {"username": username, "email": "", "password1": password, "password2": password2 or password},
        follow=True,
    )


@pytest.mark.django_db
def test_signup_request_accept_flow_shows_the_friendship_and_its_date_on_both_profiles(bob):
    alice = browser()
    response = signup(alice, "alice")
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Welcome, alice" in response.content.decode()
    me = User.objects.get(username="alice")
    assert response.context["user"] == me

    profile = alice.get(reverse("profile", args=["bob"]))
    assert "Add friend" in profile.content.decode()
    response = alice.post(
        reverse("send-request", args=["bob"]), {"next": reverse("profile", args=["bob"])}, follow=True
    )
    assert page_messages(response) == ["Friend request sent to bob."]
    assert "Cancel request" in response.content.decode()
    request = FriendRequest.objects.get(from_user=me, to_user=bob, state="pending")

    bob_browser = browser()
    response = bob_browser.post(reverse("login"), {"username": "bob", "password": PASSWORD}, follow=True)
    assert response.context["user"] == bob
    friends_page = bob_browser.get(reverse("friends")).content.decode()
    accept_url = reverse("request-action", args=[request.pk, "accept"])
    assert f'action="{accept_url}"' in friends_page
    response = bob_browser.post(accept_url, {"next": reverse("friends")}, follow=True)
    assert page_messages(response) == ["You are now friends with alice."]
    assert Friendship.objects.filter(user=me, friend=bob).exists()
    assert Friendship.objects.filter(user=bob, friend=me).exists()

    date = since_text(me, bob)
    for viewer, owner, friend_name in ((alice, "bob", "alice"), (bob_browser, "alice", "bob")):
        html = viewer.get(reverse("profile", args=[owner])).content.decode()
        assert "Friends since" in html and date in html
        assert "Unfriend" in html
        # The owner's friends list names the viewer, with the date the friendship started.
        friend_item = re.search(rf'<li>\s*(?:<span>)?<a href="/u/{friend_name}/">{friend_name}</a>.*?</li>', html, re.S)
        assert friend_item and date in friend_item.group(0)


@pytest.mark.django_db
def test_friends_page_lists_friends_requests_and_blocks_with_their_buttons(alice, bob, carol, make_user):
    dave = make_user("dave")
    services.friendship_create(user=alice, friend=bob)
    incoming = services.friend_request_send(from_user=carol, to_user=alice)
    outgoing = services.friend_request_send(from_user=alice, to_user=dave)
    eve = make_user("eve")
    services.block_create(blocker=alice, blocked=eve)

    html = browser(alice).get(reverse("friends")).content.decode()
    assert since_text(alice, bob) in html
    assert reverse("unfriend", args=["bob"]) in html
    assert reverse("request-action", args=[incoming.pk, "accept"]) in html
    assert reverse("request-action", args=[incoming.pk, "decline"]) in html
    assert reverse("request-action", args=[outgoing.pk, "cancel"]) in html
    assert reverse("unblock", args=["eve"]) in html


@pytest.mark.django_db
def test_home_shows_friend_and_incoming_request_counts(alice, bob, carol):
    services.friendship_create(user=alice, friend=bob)
    services.friend_request_send(from_user=carol, to_user=alice)
    html = browser(alice).get(reverse("home")).content.decode()
    assert "<strong>1</strong> friend</a>" in html
    assert "<strong>1</strong> friend request</a> waiting" in html


@pytest.mark.django_db
def test_profile_buttons_follow_the_relationship(alice, bob):
    client = browser(alice)
    url = reverse("profile", args=["bob"])
    assert "Add friend" in client.get(url).content.decode()
    request = services.friend_request_send(from_user=bob, to_user=alice)
    html = client.get(url).content.decode()
    assert reverse("request-action", args=[request.pk, "accept"]) in html
    assert reverse("request-action", args=[request.pk, "decline"]) in html
    client.post(reverse("request-action", args=[request.pk, "decline"]))
    assert FriendRequest.objects.get(pk=request.pk).state == "declined"
    client.post(reverse("block", args=["bob"]))
    html = client.get(url).content.decode()
    assert "Unblock" in html and "Add friend" not in html
    client.post(reverse("unblock", args=["bob"]))
    assert not Block.objects.exists()
    assert "This is your profile" in client.get(reverse("profile", args=["alice"])).content.decode()


def profile_buttons(client: Client, username: str) -> list[tuple[str, str]]:
    """(target, label) of each action on the profile, in page order: a button of the action form (its
    formaction), or a link to an action's own page that asks first (its address, without `?next=`)."""
    html = client.get(reverse("profile", args=[username])).content.decode()
    found = re.findall(
        r'<button type="submit"[^>]*formaction="([^"]+)"[^>]*>([^<]+)</button>'
        r'|<a class="button[^"]*" href="([^"?]+)\?next=[^"]*">([^<]+)</a>',
        html,
    )
    return [(posts or asks, label or label2) for posts, label, asks, label2 in found]


@pytest.mark.django_db
def test_each_profile_button_posts_to_its_own_action_in_every_relationship(alice, bob):
    client = browser(alice)
    assert profile_buttons(client, "bob") == [
        (reverse("send-request", args=["bob"]), "Add friend"),
        (reverse("block", args=["bob"]), "Block"),
    ]
    outgoing = services.friend_request_send(from_user=alice, to_user=bob)
    assert profile_buttons(client, "bob") == [
        (reverse("request-action", args=[outgoing.pk, "cancel"]), "Cancel request"),
        (reverse("block", args=["bob"]), "Block"),
    ]
    services.friend_request_accept(request_id=outgoing.pk, user=bob)
    assert profile_buttons(client, "bob") == [
        (reverse("unfriend", args=["bob"]), "Unfriend"),
        (reverse("block", args=["bob"]), "Block"),
    ]
    services.block_create(blocker=alice, blocked=bob)
    assert profile_buttons(client, "bob") == [(reverse("unblock", args=["bob"]), "Unblock")]
    assert profile_buttons(client, "alice") == []


@pytest.mark.django_db
def test_blocking_a_friend_says_it_ends_the_friendship(alice, bob):
    services.friendship_create(user=alice, friend=bob)
    response = browser(alice).post(reverse("block", args=["bob"]), follow=True)
    assert page_messages(response) == [
        "You blocked bob. A block ends any friendship and pending request between you; unblocking does not "
        "bring them back."
    ]
    assert not Friendship.objects.exists() and Block.objects.filter(blocker=alice, blocked=bob).exists()


@pytest.mark.django_db
def test_unknown_usernames_and_actions_are_404(alice):
    client = browser(alice)
    assert client.get(reverse("profile", args=["nobody"])).status_code == 404
    for name in ("send-request", "unfriend", "block", "unblock"):
        assert client.post(reverse(name, args=["nobody"])).status_code == 404
    assert client.post("/requests/1/approve/").status_code == 404


def graph_rows() -> tuple:
    """Everything a refused action must leave alone."""
    return (
        sorted(FriendRequest.objects.values_list("from_user_id", "to_user_id", "state")),
        sorted(Friendship.objects.values_list("user_id", "friend_id")),
        sorted(Block.objects.values_list("blocker_id", "blocked_id")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("earlier", "action", "target", "message"),
    [
        (None, "send-request", "alice", "You cannot send a friend request to yourself."),
        ("request", "send-request", "bob", "You already sent bob a friend request."),
        (None, "unfriend", "bob", "You are not friends with bob."),
        (None, "unblock", "bob", "You have not blocked bob."),
    ],
    ids=["request_to_self", "duplicate_request", "unfriend_a_stranger", "unblock_someone_not_blocked"],
)
def test_refused_action_shows_the_service_message_and_changes_nothing(alice, bob, earlier, action, target, message):
    if earlier:
        act(earlier, alice, bob)  # alice already did it once
    before = graph_rows()
    response = browser(alice).post(reverse(action, args=[target]), follow=True)
    assert page_messages(response) == [message]
    assert graph_rows() == before


@pytest.mark.django_db
def test_an_actions_address_opened_by_get_asks_first_and_changes_nothing(alice, bob):
    """Block and Unfriend link to it from the profile; a log-in returns to it (found by a new user's
    trial: the log-in's `next` led to a blank 405 and the action was lost). Its one button POSTs there."""
    services.friendship_create(user=alice, friend=bob)
    for name, question in (("block", "Block bob?"), ("unfriend", "Unfriend bob?"), ("unblock", "Unblock bob?")):
        response = browser(alice).get(reverse(name, args=["bob"]), {"next": "/u/bob/"})
        html = response.content.decode()
        assert response.status_code == 200 and f"<h1>{question}</h1>" in html
        action = reverse(name, args=["bob"])
        assert (
            f'<form class="actions" method="post" action="{action}">' in html and 'name="next" value="/u/bob/"' in html
        )
    offsite = browser(alice).get(reverse("block", args=["bob"]), {"next": "https://evil.example/"}).content.decode()
    assert 'value="https://evil.example/"' not in offsite
    assert not Block.objects.exists() and Friendship.objects.count() == 2
    assert browser(alice).get(reverse("block", args=["nobody"])).status_code == 404


@pytest.mark.django_db
def test_a_log_in_returns_to_the_action_it_interrupted_and_its_button_does_it(alice, bob):
    from django.test import Client

    client = Client()
    response = client.post(reverse("block", args=["bob"]))
    assert response.status_code == 302 and not Block.objects.exists()
    login = client.post(response["Location"], {"username": "alice", "password": "correct-horse-42"})
    assert login.status_code == 302 and login["Location"] == reverse("block", args=["bob"])
    assert "<h1>Block bob?</h1>" in client.get(login["Location"]).content.decode()
    client.post(reverse("block", args=["bob"]))
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


@pytest.mark.django_db
def test_redirect_after_an_action_ignores_an_offsite_next(alice, bob):
    response = browser(alice).post(reverse("send-request", args=["bob"]), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("friends")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "friends"])
def test_pages_require_login(name):
    response = browser().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_profile_and_actions_require_login(alice):
    client = browser()
    assert client.get(reverse("profile", args=["alice"]))["Location"].startswith(reverse("login"))
    assert client.post(reverse("send-request", args=["alice"]))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_logout_is_a_post_that_ends_the_session(alice):
    client = browser(alice)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_login_with_a_wrong_password_is_refused(alice):
    response = browser().post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not response.context["user"].is_authenticated


@pytest.mark.django_db
def test_a_profile_shows_the_newest_friends_and_links_the_whole_list_paginated_fifty_per_page(alice, make_user):
    from friends.views import PROFILE_PREVIEW

    others = [make_user() for _ in range(55)]
    for other in others:
        services.friendship_create(user=alice, friend=other)
    client = browser(alice)
    profile = client.get(reverse("profile", args=["alice"]))
    by_date = Friendship.objects.filter(user=alice).order_by("-is_friend_since", "friend_id")  # the list's order
    newest = [f.friend.username for f in by_date.select_related("friend")[:PROFILE_PREVIEW]]
    assert [row["username"] for row in profile.context["friend_rows"]] == newest
    whole_url = reverse("profile-friends", args=["alice"])
    assert f'<a href="{whole_url}">See all 55 friends</a>' in profile.content.decode()
    first = client.get(whole_url)
    assert len(first.context["friends"].object_list) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(whole_url, {"page": 2})
    assert len(second.context["friends"].object_list) == 5
    shown = {f.friend_id for f in first.context["friends"]} | {f.friend_id for f in second.context["friends"]}
    assert shown == {o.pk for o in others}


def test_unfriend_on_the_friends_page_asks_first_and_returns_to_the_same_page(alice, make_user):
    """As on a profile, Unfriend on `/friends/` opens the page that asks first (no one-click unfriend in
    a list of 50 names: the list has no form at all), and that page's button returns to the list's page."""
    from tests.support.factories import befriend

    people = [make_user(f"pal{i}") for i in range(5)]
    befriend(*[(alice, p) for p in people])
    client = browser(alice)
    html = client.get(reverse("friends"), {"page": 1}).content.decode()
    friends_section = html.split('id="friends-h"')[1].split("</section>")[0]
    assert "<form" not in friends_section and "formaction" not in friends_section
    back = "next=%2Ffriends%2F%3Fpage%3D1"
    for p in people:
        confirm_url = f"{reverse('unfriend', args=[p.username])}?{back}"
        assert f'<a class="button" href="{confirm_url.replace("&", "&amp;")}" aria-label="Unfriend: {p.username}">' in (
            friends_section
        )
        assert f'href="{reverse("profile", args=[p.username])}"' in friends_section

    confirm = client.get(f"{reverse('unfriend', args=['pal3'])}?{back}")
    assert "Unfriend pal3?" in confirm.content.decode()
    assert Friendship.objects.filter(user=alice, friend__username="pal3").exists()  # asking changed nothing
    done = client.post(reverse("unfriend", args=["pal3"]), {"next": confirm.context["next"]})
    assert done.status_code == 302 and done["Location"] == "/friends/?page=1"
    assert not Friendship.objects.filter(user=alice, friend__username="pal3").exists()
    assert Friendship.objects.filter(user=alice).count() == 4


@pytest.mark.parametrize("action", ["unfriend", "block"])
def test_unfriend_and_block_on_a_profile_ask_first_and_return_to_the_profile(alice, bob, action):
    """The profile's Unfriend and Block links carry the page they are on, as the friends list's do
    (`rows.next_query`), and the confirmation's button comes back to it, query string included."""
    from html import unescape

    from tests.support.factories import befriend

    befriend((alice, bob))
    client = browser(alice)
    profile = f"{reverse('profile', args=['bob'])}?shares=1"
    html = client.get(profile).content.decode()
    link = re.search(rf'<a class="button[^"]*" href="({reverse(action, args=["bob"])}\?next=[^"]+)">', html)
    confirm = client.get(unescape(link.group(1)))
    assert confirm.status_code == 200 and confirm.context["next"] == profile
    assert Friendship.objects.filter(user=alice, friend=bob).exists()  # asking changed nothing
    done = client.post(reverse(action, args=["bob"]), {"next": confirm.context["next"]})
    assert done.status_code == 302 and done["Location"] == profile
    assert not Friendship.objects.filter(user=alice, friend=bob).exists()


@pytest.mark.django_db
def test_opening_a_post_only_action_in_the_browser_is_a_readable_405_page(alice, bob):
    request = services.friend_request_send(from_user=bob, to_user=alice)
    response = browser(alice).get(reverse("request-action", args=[request.pk, "accept"]))
    html = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "This address is an action, not a page" in html and "<nav" in html
    assert FriendRequest.objects.get(pk=request.pk).state == "pending"


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_the_sites_own_403_page(alice, bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("send-request", args=["bob"]))
    html = response.content.decode()
    assert response.status_code == 403 and "This form could not be sent" in html and "<nav" in html
    assert "<style" not in html  # Django's own page has an inline style, which the CSP refuses
    assert not FriendRequest.objects.exists()


def test_the_mutual_friends_page_is_only_for_someone_else(alice):
    """Mutual friends are always the viewer's own pair with another user: there are none with oneself."""
    assert browser(alice).get(reverse("profile-mutual-friends", args=["alice"])).status_code == 404


def test_the_whole_lists_pages_answer_at_the_names_own_spelling(alice, bob):
    services.friendship_create(user=alice, friend=bob)
    client = browser(alice)
    for name in ("profile-friends", "profile-mutual-friends"):
        response = client.get(reverse(name, args=["BOB"]), {"page": "2"})
        assert (response.status_code, response["Location"]) == (301, reverse(name, args=["bob"]) + "?page=2")


def test_the_mutual_friends_page_pages_through_every_mutual_friend_once(alice, bob):
    from friends.selectors import MUTUAL_PAGE
    from tests.support.factories import crowd

    crowd(alice, bob, MUTUAL_PAGE + 10)
    client = browser(alice)
    url = reverse("profile-mutual-friends", args=["bob"])
    first, second = (client.get(url, {"page": n}) for n in (1, 2))
    assert "Page 1 of 2" in first.content.decode() and "Page 2 of 2" in second.content.decode()
    shown = [p.username for p in first.context["mutual"].results + second.context["mutual"].results]
    expected = sorted(set(Friendship.objects.filter(user=alice).values_list("friend_id", flat=True)))
    assert [get_user_model().objects.get(username=name).pk for name in shown] == expected[: len(shown)]
    assert len(shown) == len(set(shown)) == MUTUAL_PAGE + 10  # every one, once, smallest ids first
    # As every paginated page: past the end is the last page, an unreadable number the first.
    for asked, number in (("99", 2), ("abc", 1), ("0", 1), ("-3", 1)):
        assert client.get(url, {"page": asked}).context["mutual_page"].number == number


@pytest.mark.django_db
def test_head_of_an_action_page_answers_like_its_get_and_does_nothing(alice, bob):
    """HEAD is answered wherever GET is (a monitor, a link checker), and on an action's address it is
    the confirmation page's HEAD: the action is not done."""
    services.friendship_create(user=alice, friend=bob)
    client = browser(alice)
    for name in ("unfriend", "block"):
        response = client.head(reverse(name, args=["bob"]))
        assert response.status_code == 200
    assert Friendship.objects.filter(user=alice, friend=bob).exists()
    assert not Block.objects.exists()
    assert client.head(reverse("notifications")).status_code == 200


@pytest.mark.django_db
def test_an_actions_next_with_surrounding_spaces_still_returns_to_that_page(alice, bob):
    """A `next` of " /friends/" was kept as it was and redirected to `%20/friends/`, a relative path that
    answered 404 (found by a new user's trial)."""
    services.friendship_create(user=alice, friend=bob)
    client = browser(alice)
    confirm = client.get(reverse("unfriend", args=["bob"]), {"next": " /friends/?page=2 "})
    assert confirm.context["next"] == "/friends/?page=2"
    done = client.post(reverse("unfriend", args=["bob"]), {"next": "\t/friends/ "})
    assert done.status_code == 302 and done["Location"] == "/friends/"
    evil = client.post(reverse("send-request", args=["bob"]), {"next": " //evil.example/"})
    assert evil["Location"] == reverse("friends")


@pytest.mark.django_db
def test_page_messages_name_people_as_the_pages_do(alice, make_user):
    """Pages show a person's name ("Bea Stone", with the @handle beside it); the messages after an action
    said the handle alone."""
    bea = make_user("bea")
    bea.first_name, bea.last_name = "Bea", "Stone"
    bea.save()
    services.friendship_create(user=alice, friend=bea)
    response = browser(alice).post(reverse("unfriend", args=["bea"]), {"next": reverse("friends")}, follow=True)
    assert page_messages(response) == ["You are no longer friends with Bea Stone."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "after_log_in", "after_log_out"),
    [
        (" /friends/ ", "/friends/", "/friends/"),
        ("\t/u/alice/", "/u/alice/", "/u/alice/"),
        (" //evil.example/", "/", "/login/"),  # refused: each view's own default
        ("https://evil.example/", "/", "/login/"),
    ],
)
def test_log_in_and_log_out_follow_a_next_with_surrounding_spaces_and_refuse_another_site(
    make_user, given, after_log_in, after_log_out
):
    """The log-in's and log-out's `next` obey the same rule as every form's (`socialsite.redirects.local_next`):
    the log-in redirected " /friends/" to `%20/friends/`, a 404."""
    make_user("alice", password="correct-horse-42")
    client = Client()
    logged_in = client.post(reverse("login"), {"username": "alice", "password": "correct-horse-42", "next": given})
    assert logged_in.status_code == 302 and logged_in["Location"] == after_log_in
    logged_out = client.post(reverse("logout"), {"next": given})
    assert logged_out.status_code == 302 and logged_out["Location"] == after_log_out
