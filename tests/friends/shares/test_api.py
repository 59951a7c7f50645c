"""The shares API: create (multipart or JSON), feed, detail, download, thumbnail, delete — and who may see what."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from friends import services as friend_services
from friends.models import Share
from friends.shares import services
from socialsite.models import OutboxEvent

from . import samples

pytestmark = pytest.mark.django_db


def test_posting_a_file_answers_201_with_the_share_processing(alice, api_as, stored):
    api = api_as(alice)
    response = api.post("/api/v1/shares/", {"file": SimpleUploadedFile("cat.png", samples.png()), "caption": "Cat"})
    assert response.status_code == 201, response.json()
    body = response.json()
    share = Share.objects.get(pk=body["id"])
    assert body["owner"] == "alice" and body["caption"] == "Cat" and body["url"] == ""
    assert body["state"] == "processing" and body["task_id"] == str(share.processing_task_id)
    assert body["file"]["name"] == "cat.png" and body["file"]["content_type"] == "image/png"
    assert body["file"]["size"] == len(samples.png()) and body["file"]["thumbnail_url"] is None
    assert body["file"]["download_url"].endswith(f"/api/v1/shares/{share.pk}/download/")
    assert stored() == [share.file.name]


def test_posting_a_link_as_json(alice, api_as):
    response = api_as(alice).post("/api/v1/shares/", {"url": "https://example.com/a", "caption": "Read"}, format="json")
    assert response.status_code == 201
    assert response.json()["state"] == "ready" and response.json()["file"] is None


def test_the_owner_can_read_the_processing_task_and_a_friend_cannot(
    alice, bob, befriend, api_as, django_capture_on_commit_callbacks
):
    befriend((alice, bob))
    with django_capture_on_commit_callbacks(execute=True):
        body = api_as(alice).post("/api/v1/shares/", {"file": SimpleUploadedFile("c.png", samples.png())}).json()
    task = api_as(alice).get(f"/api/v1/tasks/{body['task_id']}/")
    assert task.status_code == 200 and task.json()["actor"] == "process_share"
    assert api_as(bob).get(f"/api/v1/tasks/{body['task_id']}/").status_code == 404
    assert api_as(bob).get(f"/api/v1/shares/{body['id']}/").json()["task_id"] is None


BAD_POSTS = [
    ({}, 400, "Choose a file or give a link"),
    ({"file": ("empty.txt", b"")}, 400, "The file is empty"),
    ({"file": ("cat.png", samples.HTML)}, 400, "HTML files are not accepted"),
    ({"file": ("logo.svg", samples.SVG_WITH_SCRIPT)}, 400, "SVG images are not accepted"),
    ({"url": "javascript:alert(1)"}, 400, "Only http:// and https://"),
    ({"url": "file:///etc/passwd"}, 400, "Only http:// and https://"),
    ({"url": "https://user:secret@example.com/"}, 400, "user name or password"),
    ({"url": "https://bank.example@evil.example/login"}, 400, "user name or password"),
    ({"url": "https://example.com/", "caption": "x" * 501}, 400, "at most 500"),
]


@pytest.mark.parametrize(("data", "status", "message"), BAD_POSTS)
def test_bad_input_is_a_4xx_with_a_clear_message_and_nothing_kept(alice, api_as, stored, data, status, message):
    data = dict(data)
    if "file" in data:
        data["file"] = SimpleUploadedFile(*data["file"])
    response = api_as(alice).post("/api/v1/shares/", data)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert stored() == [] and not Share.objects.exists() and not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    ("filename", "message"),
    [(b"../../evil.png", "not a path"), (b"/etc/cron.d/x", "not a path"), (b"a\x00.png", "NUL")],
)
def test_path_like_or_nul_file_names_are_refused(alice, api_as, stored, filename, message):
    body = samples.multipart({"caption": "x"}, [("file", filename, samples.png(), "image/png")])
    response = api_as(alice).generic("POST", "/api/v1/shares/", body, content_type=samples.MULTIPART_CONTENT_TYPE)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert stored() == [] and not Share.objects.exists()


def test_an_oversize_upload_is_413(alice, api_as, stored, settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 50_000
    response = api_as(alice).post("/api/v1/shares/", {"file": SimpleUploadedFile("big.txt", b"a" * 400_000)})
    assert response.status_code == 413
    assert response.json() == {"detail": "The file is too large: at most 48.8 KiB may be shared.", "code": "too_large"}
    assert stored() == [] and not Share.objects.exists()


def test_the_feed_lists_my_friends_shares_and_mine_newest_first(alice, bob, carol, make_user, befriend, api_as):
    befriend((alice, bob))
    mine = services.share_create(owner=alice, url="https://a.example/")
    bobs = services.share_create(owner=bob, url="https://b.example/")
    services.share_create(owner=carol, url="https://c.example/")  # a stranger to alice
    body = api_as(alice).get("/api/v1/shares/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [s["id"] for s in body["results"]] == [bobs.pk, mine.pk]
    assert body["count"] == 2


def test_detail_is_404_for_strangers_and_unknown_or_malformed_ids(alice, bob, carol, befriend, api_as):
    befriend((alice, bob))
    share = services.share_create(owner=alice, url="https://a.example/")
    assert api_as(bob).get(f"/api/v1/shares/{share.pk}/").status_code == 200
    for user, url in [
        (carol, f"/api/v1/shares/{share.pk}/"),
        (alice, "/api/v1/shares/999999/"),
        (alice, "/api/v1/shares/abc/"),
        (alice, f"/api/v1/shares/{2**70}/"),
    ]:
        response = api_as(user).get(url)
        assert response.status_code == 404 and response.json()["detail"] == "No such share.", url


def test_a_friend_downloads_the_exact_bytes_as_an_attachment(alice, bob, befriend, api_as, share_file):
    befriend((alice, bob))
    data = samples.docx()
    share = share_file(alice, 'Report "final" ünï.docx', data)
    response = api_as(bob).get(f"/api/v1/shares/{share.pk}/download/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Disposition"] == ("attachment; filename*=utf-8''Report%20final%20%C3%BCn%C3%AF.docx")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_stranger_gets_404_on_the_download(alice, carol, api_as, share_file):
    share = share_file(alice)
    response = api_as(carol).get(f"/api/v1/shares/{share.pk}/download/")
    assert response.status_code == 404 and response.json()["detail"] == "No such share."


def test_unfriending_removes_access_at_once(alice, bob, befriend, api_as, share_file):
    befriend((alice, bob))
    share = share_file(alice)
    api = api_as(bob)
    assert api.get(f"/api/v1/shares/{share.pk}/download/").status_code == 200
    friend_services.friendship_remove(user=alice, friend=bob)
    assert api.get(f"/api/v1/shares/{share.pk}/").status_code == 404
    assert api.get(f"/api/v1/shares/{share.pk}/download/").status_code == 404
    assert api.get("/api/v1/shares/").json()["count"] == 0


def test_the_thumbnail_is_served_once_processed(alice, bob, carol, befriend, api_as, share_file):
    befriend((alice, bob))
    share = share_file(alice)
    not_yet = api_as(bob).get(f"/api/v1/shares/{share.pk}/thumbnail/")
    assert (not_yet.status_code, not_yet.json()) == (404, {"detail": "This share has no preview.", "code": "not_found"})
    services.share_process(share_id=share.pk)
    detail = api_as(bob).get(f"/api/v1/shares/{share.pk}/").json()
    assert detail["state"] == "ready" and detail["file"]["checksum"]
    response = api_as(bob).get(detail["file"]["thumbnail_url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"
    assert api_as(carol).get(f"/api/v1/shares/{share.pk}/thumbnail/").status_code == 404


def test_delete_owner_204_friend_403_stranger_404(alice, bob, carol, befriend, api_as, share_file):
    befriend((alice, bob))
    share = share_file(alice)
    assert api_as(carol).delete(f"/api/v1/shares/{share.pk}/").status_code == 404
    assert api_as(bob).delete(f"/api/v1/shares/{share.pk}/").status_code == 403
    assert api_as(alice).delete(f"/api/v1/shares/{share.pk}/").status_code == 204
    assert not Share.objects.filter(pk=share.pk).exists()


def test_anonymous_clients_are_refused(api):
    assert api.get("/api/v1/shares/").status_code in (401, 403)


def test_a_large_upload_spooled_to_a_temporary_file_is_stored_whole(alice, api_as, stored):
    data = (b"line of text\n" * 300_000)[:3_500_000]  # over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    response = api_as(alice).post("/api/v1/shares/", {"file": SimpleUploadedFile("big.txt", data)})
    assert response.status_code == 201, response.json()
    share = Share.objects.get()
    services.share_process(share_id=share.pk)
    share.refresh_from_db()
    assert (share.size, share.content_type) == (len(data), "text/plain")
    assert share.checksum == hashlib.sha256(data).hexdigest() and stored() == [share.file.name]


def test_another_storage_backend_is_configuration_only(alice, bob, befriend, api_as, settings, stored):
    """Swap the default storage (here Django's in-memory one, standing for an object store): nothing
    reaches the disk, and upload, processing, preview and download work unchanged."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    befriend((alice, bob))
    body = api_as(alice).post("/api/v1/shares/", {"file": SimpleUploadedFile("cat.png", samples.png())}).json()
    services.share_process(share_id=body["id"])
    detail = api_as(bob).get(f"/api/v1/shares/{body['id']}/").json()
    assert detail["state"] == "ready"
    assert api_as(bob).get(detail["file"]["thumbnail_url"]).status_code == 200
    download = api_as(bob).get(detail["file"]["download_url"])
    assert b"".join(download.streaming_content) == samples.png()
    assert stored() == []


def test_the_schema_documents_the_shares_api():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/shares/"])
    assert {"get", "delete"} <= set(paths["/api/v1/shares/{share_id}/"])
    assert "get" in paths["/api/v1/shares/{share_id}/download/"]
    assert "get" in paths["/api/v1/shares/{share_id}/thumbnail/"]
