"""Admin for shares: readable, not editable; delete goes through the service (event, files after commit)."""

from __future__ import annotations

import pytest

from friends.models import Share
from socialsite.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_shares_are_listed_and_shown_read_only(admin_browser, alice, share_file):
    share = share_file(alice, "cat.png", caption="A cat")
    listing = admin_browser.get("/admin/friends/share/")
    assert listing.status_code == 200 and "cat.png" in listing.content.decode()
    page = admin_browser.get(f"/admin/friends/share/{share.pk}/change/").content.decode()
    assert "A cat" in page and share.file.name in page and str(share.processing_task_id) in page
    assert 'name="caption"' not in page  # no editable field
    assert admin_browser.get("/admin/friends/share/add/").status_code == 403


def test_deleting_in_admin_goes_through_the_service(
    admin_browser, alice, share_file, stored, django_capture_on_commit_callbacks
):
    share = share_file(alice)
    assert stored()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"/admin/friends/share/{share.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Share.objects.exists()
    assert OutboxEvent.objects.filter(name="share.deleted").count() == 1
    assert stored() == []  # the file went after the commit


def test_the_bulk_delete_action_goes_through_the_service(admin_browser, alice, share_file):
    shares = [share_file(alice) for _ in range(2)]
    admin_browser.post(
        "/admin/friends/share/",
        {"action": "delete_selected", "_selected_action": [s.pk for s in shares], "post": "yes"},
    )
    assert not Share.objects.exists()
    assert OutboxEvent.objects.filter(name="share.deleted").count() == 2
