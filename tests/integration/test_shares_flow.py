"""Shares end to end: the API in this process, the real RabbitMQ, a real `rundramatiq` worker processing
the files, PostgreSQL and Redis. Files are stored in the integration tests' MEDIA_ROOT, shared with the workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dramatiq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from friends import services as friend_services
from friends.models import Share
from friends.shares.tasks import process_share
from notifications.models import Notification
from socialsite.events import subscriber_message
from socialsite.models import OutboxEvent, TaskRecord
from tests.friends.shares import samples
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def friends_of_alice(alice, bob, carol, make_user):
    """Alice with three friends (bob, carol, dave); mallory is nobody's friend."""
    dave = make_user("dave")
    for friend in (bob, carol, dave):
        friend_services.friendship_create(user=alice, friend=friend)
    return [bob, carol, dave]


def post_share(client, name: str, data: bytes, **fields):
    response = client.post("/api/v1/shares/", {"file": SimpleUploadedFile(name, data), **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_an_image_share_reaches_ready_with_a_thumbnail_and_its_progress_was_readable_while_it_ran(
    start_worker, alice, friends_of_alice, api_as, media_root
):
    data = samples.png((1600, 1200))
    created = post_share(api_as(alice), "holiday.png", data, caption="Holiday")
    assert created["state"] == "processing" and created["task_id"]
    task_url = f"/api/v1/tasks/{created['task_id']}/"

    # Hold the share's row lock so the worker's processing waits inside the task, observably running.
    with transaction.atomic():
        Share.objects.select_for_update().get(pk=created["id"])
        start_worker(queue_names=("default",))
        # Its state says running before the task's first line reports its progress: wait for both.
        running = wait_for(
            lambda: (body := api_as(alice).get(task_url).json())["state"] == "running" and body["progress"] and body,
            timeout=30,
            what="the processing task to run and report its progress",
        )
        assert running["actor"] == "process_share"
        assert running["progress"] == {"done": 0, "total": 3, "message": "waiting for the share"}
        assert api_as(alice).get(f"/api/v1/shares/{created['id']}/").json()["state"] == "processing"

    done = wait_for(
        lambda: (body := api_as(alice).get(task_url).json())["state"] == "done" and body, timeout=30, what="done"
    )
    assert done["progress"] == {"done": 3, "total": 3, "message": "ready"} and done["result"] == "ready"

    bob = friends_of_alice[0]
    share = api_as(bob).get(f"/api/v1/shares/{created['id']}/").json()
    assert share["state"] == "ready" and share["file"]["checksum"] == hashlib.sha256(data).hexdigest()
    thumbnail = api_as(bob).get(share["file"]["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    stored = Share.objects.get(pk=created["id"])
    with Image.open(Path(media_root) / stored.thumbnail.name) as image:
        assert image.size == (320, 240)


def test_redelivery_of_share_created_makes_no_second_thumbnail(worker, alice, api_as, media_root):
    created = post_share(api_as(alice), "cat.jpg", samples.image("JPEG", (800, 800)))
    first = wait_for(
        lambda: TaskRecord.objects.filter(id=created["task_id"], state="done").first(), timeout=30, what="processed"
    )
    thumbnails = [f for f in files_under(Path(media_root)) if f.startswith("thumbnails/")]
    assert len(thumbnails) == 1

    # The same event delivered again, as the relay or a broker redelivery would: same message id.
    event = OutboxEvent.objects.get(name="share.created", payload__share_id=created["id"])
    dramatiq.get_broker().enqueue(subscriber_message(event, process_share))
    rerun = TaskRecord.objects.filter(id=created["task_id"], state="done", finished_at__gt=first.finished_at)
    wait_for(
        rerun.exists,
        timeout=30,
        what="the redelivered message to be handled",
    )
    assert [f for f in files_under(Path(media_root)) if f.startswith("thumbnails/")] == thumbnails
    assert Share.objects.get(pk=created["id"]).thumbnail.name == thumbnails[0]


def test_each_friend_is_notified_once_and_downloads_the_exact_bytes_a_stranger_gets_404_and_no_notification(
    worker, alice, friends_of_alice, make_user, api_as
):
    """Issue 8, acceptance 1: processing (default queue) and fan-out (notifications queue) by a real worker."""
    mallory = make_user("mallory")
    data = samples.docx()  # a Word document
    created = post_share(api_as(alice), "plan.docx", data, caption="The plan")
    wait_for(lambda: Share.objects.filter(pk=created["id"], state="ready").exists(), timeout=30, what="ready")
    wait_for(
        lambda: Notification.objects.filter(share_id=created["id"]).count() == len(friends_of_alice),
        timeout=30,
        what="one notification per friend",
    )

    for friend in friends_of_alice:
        assert api_as(friend).get("/api/v1/notifications/unread-count/").json() == {"unread_count": 1}
        [note] = api_as(friend).get("/api/v1/notifications/?unread=true").json()["results"]
        assert note["kind"] == "share.created" and "alice" in note["text"]
    assert api_as(mallory).get("/api/v1/notifications/unread-count/").json() == {"unread_count": 0}
    assert not Notification.objects.filter(recipient__in=[mallory, alice]).exists()

    for friend in friends_of_alice:
        response = api_as(friend).get(f"/api/v1/shares/{created['id']}/download/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data
        assert response["Content-Disposition"] == 'attachment; filename="plan.docx"'
        assert response["X-Content-Type-Options"] == "nosniff"
    for url in (f"/api/v1/shares/{created['id']}/", f"/api/v1/shares/{created['id']}/download/"):
        assert api_as(mallory).get(url).status_code == 404

    bob = friends_of_alice[0]
    friend_services.friendship_remove(user=bob, friend=alice)
    assert api_as(bob).get(f"/api/v1/shares/{created['id']}/download/").status_code == 404
    assert api_as(bob).get(f"/api/v1/shares/{created['id']}/").status_code == 404
    assert api_as(friends_of_alice[1]).get(f"/api/v1/shares/{created['id']}/download/").status_code == 200


BAD = [
    ({}, 400, "Choose a file or give a link"),
    ({"file": ("big.txt", b"a" * 300_000)}, 413, "The file is too large"),
    ({"file": ("page.png", samples.HTML)}, 400, "HTML files are not accepted"),
    ({"file": ("logo.svg", samples.SVG_WITH_SCRIPT)}, 400, "SVG images are not accepted"),
    ({"file": ("empty.txt", b"")}, 400, "The file is empty"),
    ({"url": "javascript:alert(1)"}, 400, "Only http:// and https://"),
    ({"url": "file:///etc/passwd"}, 400, "Only http:// and https://"),
    ({"url": "https://example.com/", "caption": "x" * 501}, 400, "at most 500"),
    ({"file": (b"../../etc/cron.d/evil.txt", samples.TEXT)}, 400, "not a path"),
    ({"file": (b"/etc/passwd", samples.TEXT)}, 400, "not a path"),
    ({"file": (b"evil\x00.png", samples.png())}, 400, "NUL character"),
]


def test_each_bad_input_is_rejected_with_a_clear_message_and_nothing_kept(
    alice, api_as, media_root, settings, transactional_db
):
    settings.SHARE_MAX_UPLOAD_BYTES = 100_000
    client = api_as(alice)
    for fields, status, message in BAD:
        fields = dict(fields)
        files = []
        if "file" in fields:
            name, data = fields.pop("file")
            files = [("file", name, data, "application/octet-stream")]
        body = samples.multipart(fields, files)  # raw multipart: names reach the server exactly as written
        response = client.generic("POST", "/api/v1/shares/", body, content_type=samples.MULTIPART_CONTENT_TYPE)
        assert response.status_code == status, (fields, files[:1], response.content)
        assert message in response.json()["detail"], response.json()
    assert files_under(Path(media_root)) == []
    assert not Share.objects.exists() and not OutboxEvent.objects.filter(name="share.created").exists()
