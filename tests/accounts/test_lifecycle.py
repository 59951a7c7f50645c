"""An account's lifecycle: deactivating, reactivating and deleting a user, through the admin (single and
bulk), the services and any other save or delete, each emits its event, and a deactivated user is
treated like a deleted one by the friend graph."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import services
from friends import services as friend_services
from friends.models import FriendRequest, Friendship
from socialsite.errors import NotFound
from socialsite.models import OutboxEvent

pytestmark = pytest.mark.django_db
User = get_user_model()


def events(name: str) -> list[int]:
    """The user ids of the outbox events of this name, oldest first."""
    return [e.payload["user_id"] for e in OutboxEvent.objects.filter(name=name).order_by("created_at")]


def graph_messages(broker, name: str) -> list[dict]:
    """The payloads of the `update_graph_after_user` messages on the StubBroker for events of `name`."""
    found = []
    for message in list(broker.queues["graph"].queue):
        data = json.loads(message)
        event = data["args"][0]
        if data["actor_name"] == "update_graph_after_user" and event["name"] == name:
            found.append(event["payload"])
    return found


def change_form(user, **changes) -> dict:
    """The admin change form of `user` as the browser posts it, with `changes` applied."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


# --- admin: every path emits its event and answers with a message ------------------------------------


def test_admin_delete_of_a_user_emits_user_deleted_and_says_so(
    admin_browser, alice, bob, stub_broker, django_capture_on_commit_callbacks
):
    friend_services.friendship_create(user=alice, friend=bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "was deleted successfully" in response.content.decode()
    assert events("user.deleted") == [alice.pk]
    assert not Friendship.objects.exists() and not User.objects.filter(pk=alice.pk).exists()
    assert graph_messages(stub_broker, "user.deleted") == [{"user_id": alice.pk}]  # handed to the broker


def test_admin_bulk_delete_goes_through_the_service_one_by_one(admin_browser, alice, bob, carol):
    data = {"action": "delete_selected", "_selected_action": [alice.pk, bob.pk], "post": "yes"}
    response = admin_browser.post("/admin/auth/user/", data, follow=True)
    assert response.status_code == 200
    assert "Deleted 2 users." in response.content.decode()
    assert sorted(events("user.deleted")) == sorted([alice.pk, bob.pk])
    assert list(User.objects.exclude(pk=admin_browser.user.pk).values_list("username", flat=True)) == ["carol"]


def test_unticking_active_on_the_change_form_deactivates_through_the_service(admin_browser, alice):
    response = admin_browser.post(f"/admin/auth/user/{alice.pk}/change/", change_form(alice, is_active=""), follow=True)
    assert response.status_code == 200
    assert "was changed successfully" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.is_active
    assert events("user.deactivated") == [alice.pk]

    admin_browser.post(f"/admin/auth/user/{alice.pk}/change/", change_form(alice, is_active="on"))
    alice.refresh_from_db()
    assert alice.is_active and events("user.reactivated") == [alice.pk]


def test_saving_the_change_form_without_touching_active_emits_nothing(admin_browser, alice):
    response = admin_browser.post(f"/admin/auth/user/{alice.pk}/change/", change_form(alice, first_name="Al"))
    assert response.status_code == 302
    assert not OutboxEvent.objects.filter(name__startswith="user.").exists()


def test_bulk_deactivate_and_reactivate_actions(admin_browser, alice, bob):
    response = admin_browser.post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [alice.pk, bob.pk]}, follow=True
    )
    assert response.status_code == 200 and "Deactivated 2 user(s)." in response.content.decode()
    assert sorted(events("user.deactivated")) == sorted([alice.pk, bob.pk])
    assert not User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).exists()

    # Again: nothing changes, nothing is emitted twice, and the page does not claim it did anything.
    response = admin_browser.post(
        "/admin/auth/user/", {"action": "deactivate", "_selected_action": [alice.pk]}, follow=True
    )
    assert len(events("user.deactivated")) == 2
    page = response.content.decode()
    assert "Deactivated" not in page and "1 already so, left unchanged." in page

    response = admin_browser.post(
        "/admin/auth/user/", {"action": "reactivate", "_selected_action": [alice.pk]}, follow=True
    )
    assert "Reactivated 1 user(s)." in response.content.decode()
    assert events("user.reactivated") == [alice.pk]


def test_renaming_a_user_to_a_case_variant_of_a_taken_name_is_refused_on_the_form(admin_browser, alice, bob):
    response = admin_browser.post(f"/admin/auth/user/{bob.pk}/change/", change_form(bob, username="ALICE"))
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    bob.refresh_from_db()
    assert bob.username == "bob"
    # Renaming to a case variant of one's own name is fine.
    response = admin_browser.post(f"/admin/auth/user/{bob.pk}/change/", change_form(bob, username="Bob"))
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.username == "Bob"


# --- every other save or delete emits too ---------------------------------------------------------------


def test_a_plain_save_or_queryset_delete_emits_the_events_too(alice, bob):
    alice.is_active = False
    alice.save()
    assert events("user.deactivated") == [alice.pk]
    alice.save()  # no change: no event
    alice.save(update_fields=["last_login"])  # cannot change is_active: not even read
    assert len(events("user.deactivated")) == 1
    User.objects.filter(pk__in=[alice.pk, bob.pk]).delete()
    assert sorted(events("user.deleted")) == sorted([alice.pk, bob.pk])


def test_services_say_whether_anything_changed(alice):
    assert services.user_deactivate(user=alice) is True
    assert services.user_deactivate(user=alice) is False
    assert services.user_reactivate(user=alice) is True
    assert services.user_reactivate(user=alice) is False
    assert events("user.deactivated") == events("user.reactivated") == [alice.pk]


# --- a deactivated user is treated like a deleted one --------------------------------------------------


def test_a_pending_request_from_a_deactivated_user_can_no_longer_be_accepted(alice, bob, api_as):
    request = friend_services.friend_request_send(from_user=alice, to_user=bob)
    services.user_deactivate(user=alice)
    response = api_as(bob).post(f"/api/v1/friend-requests/{request.pk}/accept/")
    assert response.status_code == 404 and response.json()["detail"] == "No such friend request."
    with pytest.raises(NotFound):
        friend_services.friend_request_decline(request_id=request.pk, user=bob)
    assert FriendRequest.objects.get(pk=request.pk).state == "pending"  # kept for a reactivation
    assert not Friendship.objects.exists()
    assert api_as(bob).get("/api/v1/friends/").json()["count"] == 0

    services.user_reactivate(user=alice)
    assert api_as(bob).post(f"/api/v1/friend-requests/{request.pk}/accept/").status_code == 200


def test_nobody_makes_friends_with_a_deactivated_user(alice, bob, admin_browser):
    services.user_deactivate(user=bob)
    response = admin_browser.post("/admin/friends/friendship/add/", {"user": alice.pk, "friend": bob.pk})
    assert response.status_code == 200
    assert "A deactivated user cannot make friends" in response.content.decode()
    assert not Friendship.objects.exists()


def test_the_account_command_goes_through_the_services(alice, bob):
    out = StringIO()
    call_command("account", "deactivate", "alice", "bob", stdout=out)
    call_command("account", "deactivate", "alice", stdout=out)
    assert out.getvalue().splitlines() == ["alice deactivated.", "bob deactivated.", "alice was already inactive."]
    assert sorted(events("user.deactivated")) == sorted([alice.pk, bob.pk])
    call_command("account", "delete", "bob", stdout=out)
    assert events("user.deleted") == [bob.pk]
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("account", "reactivate", "alice", "nobody", stdout=out)
    assert events("user.reactivated") == []  # nothing was changed
