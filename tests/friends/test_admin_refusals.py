"""Django admin never answers 500 on a refusal: the service's message is shown and nothing is written."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import ERROR

from friends import services
from friends.models import Block, FriendRequest, Friendship
from socialsite.errors import Conflict
from socialsite.models import OutboxEvent


def error_messages(response) -> list[str]:
    return [m.message for m in response.context["messages"] if m.level == ERROR]


def test_adding_a_friendship_between_a_blocker_and_the_blocked_shows_the_refusal(admin_browser, alice, bob):
    services.block_create(blocker=alice, blocked=bob)
    events_before = OutboxEvent.objects.count()
    response = admin_browser.post("/admin/friends/friendship/add/", {"user": alice.pk, "friend": bob.pk})
    assert response.status_code == 200
    assert error_messages(response) == ["One of these users blocks the other."]
    # The form is shown again, filled in, with the refusal as its error.
    assert response.context["adminform"].form.non_field_errors() == ["One of these users blocks the other."]
    assert response.context["adminform"].form.data["user"] == str(alice.pk)
    assert not Friendship.objects.exists()
    assert OutboxEvent.objects.count() == events_before
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("model", "fields", "message"),
    [
        ("friendship", ("user", "friend"), "You cannot befriend yourself."),
        ("block", ("blocker", "blocked"), "You cannot block yourself."),
    ],
)
def test_a_user_with_themselves_is_refused_with_the_services_words(admin_browser, alice, model, fields, message):
    """The form validates the model's constraints before the service runs: it must say what the service
    says, not "Constraint “friendship_not_self” is violated."."""
    response = admin_browser.post(f"/admin/friends/{model}/add/", dict.fromkeys(fields, alice.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [message]
    assert not Friendship.objects.exists() and not Block.objects.exists()


def test_a_refused_delete_shows_the_refusal_on_the_confirmation_page(admin_browser, alice, bob, monkeypatch):
    """No delete is refused by today's services unless a race removed the row first, so the service is
    made to refuse; the admin's handling of any refusal is what is checked."""
    block = services.block_create(blocker=alice, blocked=bob)

    def refuse(**kwargs):
        raise Conflict("Not now.")

    monkeypatch.setattr(services, "block_remove", refuse)
    response = admin_browser.post(f"/admin/friends/block/{block.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert error_messages(response) == ["Not now."]
    assert "Are you sure" in response.content.decode()  # the confirmation page, again
    assert Block.objects.filter(pk=block.pk).exists()
    assert not LogEntry.objects.exists()  # the deletion's log entry went with the refusal


def test_bulk_accept_shows_each_refusal_and_accepts_the_others(admin_browser, alice, bob, carol):
    declined = services.friend_request_send(from_user=alice, to_user=bob)
    services.friend_request_decline(request_id=declined.pk, user=bob)
    pending = services.friend_request_send(from_user=carol, to_user=bob)
    response = admin_browser.post(
        "/admin/friends/friendrequest/",
        {"action": "accept", "_selected_action": [declined.pk, pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert error_messages(response) == [f"{FriendRequest.objects.get(pk=declined.pk)}: This request was declined."]
    assert "Accepted 1 request(s)." in [m.message for m in response.context["messages"]]
    assert FriendRequest.objects.get(pk=pending.pk).state == "accepted"
    assert FriendRequest.objects.get(pk=declined.pk).state == "declined"


def test_bulk_delete_goes_through_the_service_and_reports_refusals_one_by_one(
    admin_browser, alice, bob, carol, monkeypatch
):
    kept = services.block_create(blocker=alice, blocked=bob)
    gone = services.block_create(blocker=alice, blocked=carol)
    real_remove = services.block_remove

    def remove(*, blocker, blocked):
        if blocked == bob:
            raise Conflict("Not this one.")
        real_remove(blocker=blocker, blocked=blocked)

    monkeypatch.setattr(services, "block_remove", remove)
    response = admin_browser.post(
        "/admin/friends/block/",
        {"action": "delete_selected", "_selected_action": [kept.pk, gone.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert error_messages(response) == [f"{kept}: Not this one."]
    assert "Deleted 1 blocks." in [m.message for m in response.context["messages"]]
    assert list(Block.objects.values_list("pk", flat=True)) == [kept.pk]
    assert OutboxEvent.objects.filter(name="block.removed").count() == 1  # the service ran for the other
    assert LogEntry.objects.count() == 1


def test_bulk_delete_of_both_rows_of_a_friendship_removes_it_once(admin_browser, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    rows = list(Friendship.objects.values_list("pk", flat=True))
    response = admin_browser.post(
        "/admin/friends/friendship/",
        {"action": "delete_selected", "_selected_action": rows, "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200 and error_messages(response) == []
    assert not Friendship.objects.exists()
    assert OutboxEvent.objects.filter(name="friendship.removed").count() == 1
