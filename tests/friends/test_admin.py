"""Django admin: every model is there, and changes with side effects go through the services."""

from django.contrib import admin

from friends.models import Block, FriendRequest, Friendship, SuggestionDismissal
from notifications.models import Notification
from socialsite.models import DeadLetter, OutboxEvent, TaskRecord


def test_every_model_has_an_admin_page(admin_browser):
    for model in [
        Friendship,
        FriendRequest,
        Block,
        SuggestionDismissal,
        Notification,
        OutboxEvent,
        TaskRecord,
        DeadLetter,
    ]:
        assert admin.site.is_registered(model), model
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_browser.get(url).status_code == 200, url


def test_adding_a_friendship_in_admin_writes_both_rows_and_emits_the_event(admin_browser, alice, bob):
    response = admin_browser.post("/admin/friends/friendship/add/", {"user": alice.pk, "friend": bob.pk})
    assert response.status_code == 302
    assert set(Friendship.objects.values_list("user_id", "friend_id")) == {(alice.pk, bob.pk), (bob.pk, alice.pk)}
    assert OutboxEvent.objects.filter(name="friendship.created").count() == 1


def test_deleting_a_friendship_in_admin_removes_both_rows(admin_browser, alice, bob):
    from friends import services

    services.friendship_create(user=alice, friend=bob)
    row = Friendship.objects.get(user=alice)
    response = admin_browser.post(f"/admin/friends/friendship/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Friendship.objects.exists()
    assert OutboxEvent.objects.filter(name="friendship.removed").count() == 1


def test_accept_action_on_requests_goes_through_the_service(admin_browser, alice, bob):
    from friends import services

    request = services.friend_request_send(from_user=alice, to_user=bob)
    admin_browser.post("/admin/friends/friendrequest/", {"action": "accept", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.state == "accepted" and Friendship.objects.count() == 2


def test_blocking_in_admin_removes_the_friendship(admin_browser, alice, bob):
    from friends import services

    services.friendship_create(user=alice, friend=bob)
    admin_browser.post("/admin/friends/block/add/", {"blocker": alice.pk, "blocked": bob.pk})
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert not Friendship.objects.exists()


# --- plumbing: outbox and task records (socialsite/admin.py) ------------------------------------------------


def test_outbox_rows_are_read_only_and_cannot_be_deleted(admin_browser, alice, bob):
    from friends import services

    services.friend_request_send(from_user=alice, to_user=bob)
    event = OutboxEvent.objects.get()
    change_url = f"/admin/socialsite/outboxevent/{event.pk}/change/"
    page = admin_browser.get(change_url)
    assert page.status_code == 200 and "Save" not in page.content.decode()
    assert admin_browser.post(change_url, {"name": "changed"}).status_code == 403
    assert admin_browser.post(f"/admin/socialsite/outboxevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = admin_browser.get("/admin/socialsite/outboxevent/").content.decode()
    assert "delete_selected" not in listing
    admin_browser.post(
        "/admin/socialsite/outboxevent/", {"action": "delete_selected", "_selected_action": [str(event.pk)]}
    )
    assert OutboxEvent.objects.filter(pk=event.pk, name=event.name).exists()


def test_task_records_offer_no_re_enqueue_only_dead_letters_do(admin_browser, stub_broker):
    from socialsite.taskstatus import send_tracked
    from tests.support.tasks import always_fails

    done = TaskRecord.objects.get(id=send_tracked(always_fails, "a").message_id)
    TaskRecord.objects.filter(id=done.id).update(state="done")
    stub_broker.flush_all()
    assert 'value="requeue"' not in admin_browser.get("/admin/socialsite/taskrecord/").content.decode()
    admin_browser.post("/admin/socialsite/taskrecord/", {"action": "requeue", "_selected_action": [str(done.id)]})
    # A finished task's id posted to the dead-letter page is not in its list, so nothing is sent.
    response = admin_browser.post(
        "/admin/socialsite/deadletter/", {"action": "requeue", "_selected_action": [str(done.id)]}, follow=True
    )
    assert response.status_code == 200
    assert stub_broker.queues["default"].qsize() == 0
    assert TaskRecord.objects.get(id=done.id).state == "done"
    failed = TaskRecord.objects.get(id=send_tracked(always_fails, "b").message_id)
    TaskRecord.objects.filter(id=failed.id).update(state="failed")
    assert 'value="requeue"' in admin_browser.get("/admin/socialsite/deadletter/").content.decode()
