"""Share services: create (one transaction, event, random name, task id), process (idempotent), delete."""

from __future__ import annotations

import hashlib
import io
import re
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from friends.models import Share
from friends.shares import processing, services
from friends.shares.validation import UploadRefused, UploadTooLarge
from socialsite.errors import Forbidden, NotFound
from socialsite.models import OutboxEvent

from . import samples

pytestmark = pytest.mark.django_db


def test_a_file_share_is_stored_under_a_random_name_and_awaits_processing(alice, share_file, stored):
    share = share_file(alice, "Holiday photo.png", caption="  Look!  ")
    share.refresh_from_db()
    assert re.fullmatch(r"shares/[0-9a-f]{32}", share.file.name)
    assert stored() == [share.file.name]
    assert default_storage.open(share.file.name).read() == samples.png()
    assert (share.original_name, share.content_type, share.size) == (
        "Holiday photo.png",
        "image/png",
        len(samples.png()),
    )
    assert (share.caption, share.state, share.checksum, share.thumbnail.name) == ("Look!", "processing", "", "")


def test_creating_a_share_emits_share_created_and_records_its_processing_task_id(
    alice, share_file, stub_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share = share_file(alice)
    event = OutboxEvent.objects.get(name="share.created")
    assert event.payload == {"share_id": share.pk, "owner_id": alice.pk}
    share.refresh_from_db()
    assert share.processing_task_id == uuid.uuid5(event.id, "process_share")
    [message] = stub_broker.queues["default"].queue
    from dramatiq import Message

    sent = Message.decode(message)
    assert sent.message_id == str(share.processing_task_id)
    assert sent.options["owner_id"] == alice.pk  # the owner may read its status


def test_a_link_share_is_ready_at_once(alice):
    share = services.share_create(owner=alice, url="https://example.com/x", caption="read this")
    assert (share.state, share.url, share.processing_task_id, share.file.name) == (
        "ready",
        "https://example.com/x",
        None,
        "",
    )
    assert OutboxEvent.objects.filter(name="share.created").count() == 1


def test_a_file_and_a_link_together(alice, share_file):
    share = share_file(alice, url="https://example.com/")
    assert share.file and share.url == "https://example.com/"


BAD_INPUTS = [
    ({}, "empty", "Choose a file or give a link"),
    ({"file": ("empty.txt", b"")}, "empty_file", "The file is empty"),
    ({"file": ("page.png", samples.HTML)}, "file_type", "HTML files are not accepted"),
    ({"file": ("logo.svg", samples.SVG_WITH_SCRIPT)}, "file_type", "SVG images are not accepted"),
    ({"file": ("cat.png", samples.PNG_WITH_ZIP)}, "file_type", "ZIP archive hidden inside"),
    ({"url": "javascript:alert(1)"}, "url", "Only http:// and https://"),
    ({"url": "file:///etc/passwd"}, "url", "Only http:// and https://"),
    ({"url": "https://ok.example/", "caption": "x" * 501}, "caption", "at most 500"),
    ({"file": ("photo.png", samples.png()), "caption": "x" * 501}, "caption", "at most 500"),
]


@pytest.mark.parametrize(("kwargs", "code", "message"), BAD_INPUTS)
def test_bad_input_is_refused_and_nothing_is_kept(alice, stored, kwargs, code, message):
    kwargs = dict(kwargs)
    if "file" in kwargs:
        kwargs["file"] = SimpleUploadedFile(*kwargs["file"])
    with pytest.raises(UploadRefused, match=message) as refused:
        services.share_create(owner=alice, **kwargs)
    assert refused.value.code == code
    assert stored() == []
    assert not Share.objects.exists() and not OutboxEvent.objects.exists()


def test_an_oversize_file_is_refused_with_413(alice, stored, settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 1_000
    with pytest.raises(UploadTooLarge) as refused:
        services.share_create(owner=alice, file=SimpleUploadedFile("a.txt", b"a" * 1_001))
    assert refused.value.status_code == 413
    assert stored() == [] and not Share.objects.exists()


def test_a_failing_transaction_leaves_no_file(alice, stored, monkeypatch):
    from friends import events

    def broken_emit(**payload):
        raise RuntimeError("database went away")

    monkeypatch.setattr(events.share_created, "emit", broken_emit)
    with pytest.raises(RuntimeError):
        services.share_create(owner=alice, file=SimpleUploadedFile("a.png", samples.png()))
    assert stored() == [] and not Share.objects.exists()


# --- processing ---------------------------------------------------------------------------------------


def test_processing_an_image_computes_the_checksum_and_a_thumbnail(alice, share_file, stored):
    data = samples.png((1200, 800))
    share = share_file(alice, data=data)
    assert services.share_process(share_id=share.pk) == "ready"
    share.refresh_from_db()
    assert share.state == "ready" and share.failure_reason == ""
    assert share.checksum == hashlib.sha256(data).hexdigest()
    assert share.thumbnail.name == f"thumbnails/{share.file.name.split('/')[-1]}.webp"
    with Image.open(default_storage.open(share.thumbnail.name)) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (320, 213))
    assert stored() == sorted([share.file.name, share.thumbnail.name])


def test_processing_a_pdf_makes_no_thumbnail(alice, share_file):
    share = share_file(alice, "paper.pdf", samples.PDF)
    services.share_process(share_id=share.pk)
    share.refresh_from_db()
    assert (share.state, share.thumbnail.name) == ("ready", "")
    assert share.checksum == hashlib.sha256(samples.PDF).hexdigest()


def test_processing_twice_makes_no_second_thumbnail(alice, share_file, stored):
    share = share_file(alice)
    services.share_process(share_id=share.pk)
    first = Share.objects.get(pk=share.pk).thumbnail.name
    assert services.share_process(share_id=share.pk) == "ready"
    assert Share.objects.get(pk=share.pk).thumbnail.name == first
    assert [name for name in stored() if name.startswith("thumbnails/")] == [first]


def test_a_thumbnail_left_by_a_crashed_attempt_is_replaced_not_duplicated(alice, share_file, stored):
    share = share_file(alice)
    leftover = f"thumbnails/{share.file.name.split('/')[-1]}.webp"
    default_storage.save(leftover, io.BytesIO(b"half-written"))
    services.share_process(share_id=share.pk)
    assert [name for name in stored() if name.startswith("thumbnails/")] == [leftover]
    assert default_storage.open(leftover).read() != b"half-written"


def test_an_image_that_cannot_be_decoded_marks_the_share_failed_with_a_reason(alice, share_file, stored):
    share = share_file(alice)
    with default_storage.open(share.file.name, "wb") as f:  # damaged on disk after the upload check
        f.write(samples.png()[:100])
    assert services.share_process(share_id=share.pk) == "failed"
    share.refresh_from_db()
    assert share.state == "failed" and "damaged and cannot be decoded" in share.failure_reason
    assert share.thumbnail.name == "" and not any(n.startswith("thumbnails/") for n in stored())


def test_a_missing_file_marks_the_share_failed(alice, share_file):
    share = share_file(alice)
    default_storage.delete(share.file.name)
    services.share_process(share_id=share.pk)
    share.refresh_from_db()
    assert (share.state, share.failure_reason) == ("failed", "The stored file is missing.")


def test_an_unexpected_error_is_retried_and_only_the_last_attempt_marks_the_share_failed(
    alice, share_file, monkeypatch
):
    share = share_file(alice)

    def broken(*args, **kwargs):
        raise RuntimeError("storage timed out")

    monkeypatch.setattr(processing, "sha256_of", broken)
    with pytest.raises(RuntimeError):
        services.share_process(share_id=share.pk)
    assert Share.objects.get(pk=share.pk).state == "processing"
    with pytest.raises(RuntimeError):
        services.share_process(share_id=share.pk, last_attempt=True)
    share.refresh_from_db()
    assert share.state == "failed" and "after several attempts (RuntimeError)" in share.failure_reason


def test_processing_a_deleted_share_is_dropped_quietly():
    assert services.share_process(share_id=123456) == "gone"


def test_a_failed_share_is_not_processed_again(alice, share_file):
    share = share_file(alice)
    Share.objects.filter(pk=share.pk).update(state="failed", failure_reason="earlier")
    assert services.share_process(share_id=share.pk) == "failed"
    assert Share.objects.get(pk=share.pk).failure_reason == "earlier"


# --- delete -------------------------------------------------------------------------------------------


def test_the_owner_deletes_a_share_and_its_files_go_after_commit(
    alice, share_file, stored, django_capture_on_commit_callbacks
):
    share = share_file(alice)
    services.share_process(share_id=share.pk)
    assert len(stored()) == 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.share_delete(share_id=share.pk, user=alice)
    assert not Share.objects.filter(pk=share.pk).exists()
    assert len(stored()) == 2  # not before the commit
    for callback in callbacks:
        callback()
    assert stored() == []
    assert OutboxEvent.objects.filter(name="share.deleted", payload__share_id=share.pk).exists()


def test_a_friend_cannot_delete_and_a_stranger_is_told_nothing(alice, bob, carol, befriend, share_file, stored):
    befriend((alice, bob))
    share = share_file(alice)
    with pytest.raises(Forbidden, match="Only the person who shared this"):
        services.share_delete(share_id=share.pk, user=bob)
    with pytest.raises(NotFound):
        services.share_delete(share_id=share.pk, user=carol)
    with pytest.raises(NotFound):
        services.share_delete(share_id=2**70, user=alice)
    assert Share.objects.filter(pk=share.pk).exists() and stored() == [share.file.name]


def test_an_at_sign_outside_the_host_part_is_an_ordinary_link():
    from friends.shares.validation import check_url

    assert (
        check_url(" https://example.com/write?to=ana@example.org#@x ")
        == "https://example.com/write?to=ana@example.org#@x"
    )
