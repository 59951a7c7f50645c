"""What people do on the site, in a real browser (Chromium), against the live server, a real worker,
RabbitMQ and Redis. Each journey checks what the person sees; the `visits` fixture then checks that no
page asked any other host for anything, and that no Content-Security-Policy violation was reported."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from friends import services
from friends.demo import demo_picture
from friends.graph_cache import graph_cache_rebuild
from friends.models import FriendRequest, Share
from socialsite.taskstatus import send_tracked
from tests.browser.conftest import PASSWORD, WAIT_MS, check_accessible, log_in, screenshot
from tests.support import tasks as probes
from tests.support.factories import befriend

PASSWORD_LABEL = re.compile(r"^Password:?$")  # not "Password again"


def reload_until_visible(page, locator, *, timeout_ms: int = WAIT_MS) -> None:
    """Wait for `locator`, reloading now and then as a person would when a page does not update by itself.

    A page with a "computing…" placeholder reloads itself once the result is there (static/js/computing.js),
    so it is left alone; another page may show a result that the worker is about to replace.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            expect(locator).to_be_visible(timeout=2500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            if not page.locator(".computing").count():
                page.reload()


def test_sign_up_find_a_suggestion_send_a_request_badge_goes_up_live_accept_and_both_profiles_show_it(
    open_context, make_user
):
    carol = make_user("carol", password=PASSWORD, first_name="Carol", last_name="Jones")
    bob = make_user("bob", password=PASSWORD, first_name="Bob", last_name="Builder")
    befriend((carol, bob))
    graph_cache_rebuild()  # the Redis copy of that friendship, as `load_graph` leaves it

    # Bob is logged in elsewhere, on his home page, with nothing unread.
    _, bob_page = open_context()
    log_in(bob_page, "bob")
    badge = bob_page.locator("#unread-badge")
    expect(badge).to_be_hidden()

    # Dana signs up.
    _, dana = open_context()
    dana.goto("/")
    dana.get_by_role("link", name="Sign up").click()
    dana.get_by_label("Username").fill("dana")
    dana.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    dana.get_by_label("Password again").fill(PASSWORD)
    dana.get_by_role("button", name="Sign up").click()
    expect(dana.get_by_role("heading", name="Welcome, dana")).to_be_visible()
    # No friends yet: the suggestions panel says how to start, and she finds Carol by username.
    panel = dana.get_by_role("region", name="People you may know")
    expect(panel).to_contain_text("Add a first friend")
    panel.get_by_label("Find someone by username").fill("carol")
    panel.get_by_role("button", name="Find").click()
    expect(dana.get_by_role("heading", name="Carol Jones")).to_be_visible()
    dana.get_by_role("button", name="Add friend").click()
    expect(dana.get_by_role("status").filter(has_text="Friend request sent to Carol Jones.")).to_be_visible()
    services.friend_request_accept(request_id=FriendRequest.objects.get(to_user=carol).pk, user=carol)

    # Carol's friends are now Dana's suggestions: Bob is in the panel once the worker has computed it.
    dana.goto("/")
    add_bob = panel.get_by_role("button", name="Add friend: Bob Builder")
    reload_until_visible(dana, add_bob)
    expect(panel).to_contain_text("1 mutual friend")
    add_bob.click()
    expect(dana.get_by_role("status").filter(has_text="Friend request sent to Bob Builder.")).to_be_visible()

    # Bob's badge goes up without a reload (static/js/badge.js polls the unread count).
    navigations = []
    bob_page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(badge).to_have_text("1", timeout=WAIT_MS)
    assert navigations == [], "the badge must update without a reload"
    bob_page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    bob_page.get_by_role("link", name="dana sent you a friend request").click()
    expect(bob_page.get_by_role("heading", name="dana")).to_be_visible()
    bob_page.get_by_role("button", name="Accept").click()
    expect(bob_page.get_by_role("status").filter(has_text="You are now friends with dana.")).to_be_visible()

    # Both profiles show the friendship and the mutual-friends drawing (computed by the worker: the
    # "computing…" placeholder fills in by itself).
    for page, owner in ((bob_page, "dana"), (dana, "bob")):
        page.goto(f"/u/{owner}/")
        expect(page.get_by_text(re.compile(r"^Friends since "))).to_be_visible()
        drawing = page.get_by_role("img", name=re.compile(r"^You, .* and your mutual friends$"))
        expect(drawing).to_be_visible(timeout=WAIT_MS)
        expect(drawing.locator("desc")).to_contain_text("are friends. 1 mutual friend: Carol Jones.")
        check_accessible(page, what=f"/u/{owner}/")


def test_a_shared_picture_reaches_the_friends_inbox_and_its_preview_appears(open_context, tmp_path, make_user):
    alice = make_user("alice", password=PASSWORD, first_name="Alice", last_name="Liddell")
    bob = make_user("bob", password=PASSWORD)
    befriend((alice, bob))
    picture = tmp_path / "lake.png"
    picture.write_bytes(demo_picture("Lake at sunset", seed=1))

    _, alice_page = open_context()
    log_in(alice_page, "alice")
    alice_page.get_by_role("link", name="Share", exact=True).click()
    alice_page.get_by_label("File").set_input_files(str(picture))
    alice_page.get_by_label("Caption").fill("Sunset over the lake")
    alice_page.get_by_role("button", name="Share").click()
    expect(alice_page.get_by_role("heading", name="Share by Alice Liddell")).to_be_visible()
    # The worker makes the thumbnail; the page refreshes itself until it is there.
    expect(alice_page.get_by_role("img", name="Preview of lake.png")).to_be_visible(timeout=WAIT_MS)

    _, bob_page = open_context()
    log_in(bob_page, "bob")
    expect(bob_page.locator("#unread-badge")).to_have_text("1", timeout=WAIT_MS)
    bob_page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    bob_page.get_by_role("link", name="Alice Liddell shared a file").click()
    preview = bob_page.get_by_role("img", name="Preview of lake.png")
    expect(preview).to_be_visible()
    bob_page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    expect(bob_page.get_by_text("Sunset over the lake")).to_be_visible()
    check_accessible(bob_page, what="a share's page")

    bob_page.get_by_role("link", name="Home", exact=True).click()
    expect(bob_page.get_by_role("img", name="Preview of lake.png")).to_be_visible()
    assert Share.objects.get().state == "ready"


def test_a_long_task_page_shows_progress_then_done(open_context, make_user):
    alice = make_user("alice", password=PASSWORD)
    _, page = open_context()
    log_in(page, "alice")
    # A tracked task of alice's with five steps (tests/support/tasks.py), reporting progress after each.
    send_tracked(probes.count_steps, 5, 0.5, owner_id=alice.pk)

    page.get_by_role("link", name="Tasks", exact=True).click()
    page.get_by_role("link", name="count_steps").click()
    # The page follows the task (static/js/task.js; without JavaScript it refreshes itself).
    expect(page.locator("#task-progress-text")).to_have_text(re.compile(r"^[1-4]/5 step [1-4] of 5$"), timeout=WAIT_MS)
    expect(page.locator("#task-state")).to_have_text("Running")
    check_accessible(page, what="a running task's page")
    expect(page.locator("#task-state")).to_have_text("Done", timeout=WAIT_MS)
    expect(page.locator("#task-progress-text")).to_have_text("5/5 step 5 of 5")
    expect(page.locator("#task-progress")).to_have_attribute("value", "5")


def test_bad_input_shows_its_error_and_keeps_what_was_typed(open_context, make_user):
    make_user("taken", password=PASSWORD)
    _, page = open_context()
    page.goto("/signup/")
    page.get_by_label("Username").fill("taken")
    page.get_by_label("Email (optional)").fill("someone@example.com")
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("please correct what is marked below")
    expect(page.get_by_text("The two passwords do not match.")).to_be_visible()
    expect(page.get_by_label("Password again")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Username")).to_have_value("taken")
    expect(page.get_by_label("Email (optional)")).to_have_value("someone@example.com")
    screenshot(page, "signup-errors")
    check_accessible(page, what="the sign-up form with errors")

    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)  # password fields are never sent back filled
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("That username is taken.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Username")).to_have_value("taken")  # taken: said on the field, kept

    page.get_by_label("Username").fill("newcomer")
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Welcome, newcomer")).to_be_visible()

    page.goto("/shares/new/")
    page.get_by_label("Link").fill("javascript:alert(1)")
    page.get_by_label("Caption").fill("Look at this")
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was shared")
    expect(page.get_by_label("Link")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Link")).to_have_value("javascript:alert(1)")
    expect(page.get_by_label("Caption")).to_have_value("Look at this")
    check_accessible(page, what="the share form with an error")
    assert not Share.objects.exists()

    page.goto("/people/")
    page.get_by_label("Find someone by username").fill("nobody-here")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("alert")).to_contain_text("Nobody is called @nobody-here here.")
    expect(page.get_by_label("Find someone by username")).to_have_value("nobody-here")


def _tab_to(page, description: str, is_target: str, *, max_tabs: int = 60) -> None:
    """Press Tab until `is_target` (a JS predicate on document.activeElement) holds; fail after `max_tabs`."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {is_target})(document.activeElement)"):
            return
    raise AssertionError(f"{description} cannot be reached with the Tab key")


def _focus_ring_visible(page) -> bool:
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
    )


def test_keyboard_only_log_in_and_send_a_friend_request(open_context, make_user):
    alice = make_user("alice", password=PASSWORD)
    bob = make_user("bob", password=PASSWORD, first_name="Bob", last_name="Builder")
    _, page = open_context()
    page.goto("/login/")  # typed into the address bar

    _tab_to(page, "the username field", "el.name === 'username'")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Welcome, alice")).to_be_visible()

    # A new user with no friends: the home page's panel offers to find someone by username.
    _tab_to(page, "the find-a-person field", "el.id === 'find-username'")
    assert _focus_ring_visible(page), "the focused field shows no focus ring"
    page.keyboard.type("bob")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Bob Builder")).to_be_visible()

    _tab_to(page, "the Add friend button", "el.tagName === 'BUTTON' && el.textContent.trim() === 'Add friend'")
    assert _focus_ring_visible(page), "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Friend request sent to Bob Builder.")).to_be_visible()
    assert FriendRequest.objects.filter(from_user=alice, to_user=bob, state="pending").exists()
