"""Django admin for notifications: listed with actor and target, read-only, marked read in bulk."""

from notifications.models import Notification

from .conftest import note


def test_changelist_shows_actor_kind_and_target_and_detail_opens(admin_browser, alice, bob):
    n = note(alice, bob, Notification.Kind.SHARE_CREATED, text="bob shared a link")
    html = admin_browser.get("/admin/notifications/notification/").content.decode()
    assert "bob shared a link" in html and f"share {n.share_id}" in html
    assert admin_browser.get(f"/admin/notifications/notification/{n.pk}/change/").status_code == 200
    assert admin_browser.get("/admin/notifications/notification/add/").status_code == 403


def test_mark_read_action_marks_the_selection_only(admin_browser, alice, bob):
    picked, left = note(alice, bob), note(bob, alice)
    response = admin_browser.post(
        "/admin/notifications/notification/",
        {"action": "mark_read", "_selected_action": [picked.pk]},
        follow=True,
    )
    assert "Marked 1 notification(s) read." in response.content.decode()
    picked.refresh_from_db()
    left.refresh_from_db()
    assert picked.read_at is not None and left.read_at is None
