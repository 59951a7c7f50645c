"""Share pages: the form and its error messages, a share's page (processing, then preview), the home feed,
downloads, previews and delete — rendered as a person sees them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from friends.models import Share
from friends.shares import services

from . import samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as():
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


def test_the_new_share_form_renders(alice, client_as):
    page = client_as(alice).get(reverse("share-new")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="file"' in page and 'name="url"' in page and 'maxlength="500"' in page
    assert "At most 10 MiB" in page


def test_sharing_a_file_leads_to_its_page_showing_processing_with_the_task(alice, client_as):
    client = client_as(alice)
    response = client.post(
        reverse("share-new"), {"file": SimpleUploadedFile("cat.png", samples.png()), "caption": "My cat"}, follow=True
    )
    share = Share.objects.get()
    assert response.redirect_chain == [(reverse("share-detail", args=[share.pk]), 302)]
    page = response.content.decode()
    assert "Shared with your friends." in page and "My cat" in page
    assert "Processing cat.png…" in page
    assert f'href="/tasks/{share.processing_task_id}/"' in page
    assert '<meta http-equiv="refresh"' in page  # refreshes itself without JavaScript


def test_once_processed_the_page_shows_the_preview(alice, bob, client_as, befriend, share_file):
    befriend((alice, bob))
    share = share_file(alice, "cat.png")
    services.share_process(share_id=share.pk)
    page = client_as(bob).get(reverse("share-detail", args=[share.pk])).content.decode()
    assert f'<img src="/shares/{share.pk}/thumbnail/" alt="Preview of cat.png"' in page
    assert "Processing" not in page and 'http-equiv="refresh"' not in page
    assert "Delete this share" not in page  # bob is not the owner
    thumb = client_as(bob).get(f"/shares/{share.pk}/thumbnail/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"


def test_a_friend_sees_processing_but_not_the_owners_task(alice, bob, client_as, befriend, share_file):
    befriend((alice, bob))
    share = share_file(alice, "cat.png")
    page = client_as(bob).get(reverse("share-detail", args=[share.pk])).content.decode()
    assert "Processing cat.png…" in page and f"/tasks/{share.processing_task_id}/" not in page


def test_a_failed_share_shows_its_reason(alice, client_as, share_file):
    share = share_file(alice)
    Share.objects.filter(pk=share.pk).update(state="failed", failure_reason="The image is damaged.")
    page = client_as(alice).get(reverse("share-detail", args=[share.pk])).content.decode()
    assert "Processing failed: The image is damaged." in page


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"url": "javascript:alert(1)", "caption": "my words"}, 400, "Only http:// and https:// links"),
        ({"file": ("cat.png", samples.HTML), "url": "https://kept.example/", "caption": "my words"}, 400, "HTML files"),
        ({"caption": "my words"}, 400, "Choose a file or give a link"),
        ({"url": "https://kept.example/", "caption": "my words" + "x" * 500}, 400, "at most 500"),
    ],
)
def test_a_refused_share_shows_why_and_keeps_what_was_typed(alice, client_as, stored, data, status, message):
    data = dict(data)
    if "file" in data:
        data["file"] = SimpleUploadedFile(*data["file"])
    response = client_as(alice).post(reverse("share-new"), data)
    assert response.status_code == status
    page = response.content.decode()
    assert message in page
    assert "my words" in page  # the caption is not lost
    if "url" in data:
        assert f'value="{data["url"]}"' in page
    assert stored() == [] and not Share.objects.exists()


def test_a_refused_file_asks_for_the_file_again_when_another_field_was_wrong(alice, client_as):
    response = client_as(alice).post(
        reverse("share-new"), {"file": SimpleUploadedFile("cat.png", samples.png()), "url": "file:///x"}
    )
    assert "Only http:// and https:// links can be shared. Choose the file again." in response.content.decode()


def test_an_oversize_upload_on_the_page_is_413_with_the_limit(alice, client_as, stored, settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 50_000
    response = client_as(alice).post(
        reverse("share-new"), {"caption": "big", "file": SimpleUploadedFile("big.txt", b"a" * 400_000)}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The file is too large: at most 48.8 KiB may be shared." in page and "big</textarea>" in page
    assert stored() == [] and not Share.objects.exists()


def test_a_path_like_file_name_on_the_page_is_refused(alice, client_as, stored):
    client = client_as(alice)
    body = samples.multipart({"caption": "x"}, [("file", b"../../x.png", samples.png(), "image/png")])
    response = client.generic("POST", reverse("share-new"), body, content_type=samples.MULTIPART_CONTENT_TYPE)
    assert response.status_code == 400 and "plain name, not a path" in response.content.decode()
    assert stored() == [] and not Share.objects.exists()


def test_home_shows_my_friends_shares_and_mine_but_not_strangers(alice, bob, carol, client_as, befriend, share_file):
    befriend((alice, bob))
    share_file(alice, "mine.pdf", samples.PDF, caption="paper by alice")
    bobs = share_file(bob, "bob.png", caption="cat by bob")
    services.share_process(share_id=bobs.pk)
    share_file(carol, "carol.txt", samples.TEXT, caption="secret by carol")
    page = client_as(alice).get(reverse("home")).content.decode()
    assert page.index("cat by bob") < page.index("paper by alice")  # newest first
    assert "secret by carol" not in page
    assert f'src="/shares/{bobs.pk}/thumbnail/"' in page
    assert f'href="/shares/{bobs.pk}/download/"' in page


def test_the_feed_is_paginated(alice, client_as):
    for i in range(25):
        services.share_create(owner=alice, url=f"https://example.com/{i}", caption=f"item {i:02d}")
    client = client_as(alice)
    first = client.get(reverse("home")).content.decode()
    assert "item 24" in first and "item 04" not in first and "Page 1 of 2" in first
    second = client.get(reverse("home") + "?shares=2").content.decode()
    assert "item 04" in second and "item 24" not in second


def test_download_page_is_an_attachment_for_friends_and_404_for_strangers(
    alice, bob, carol, client_as, befriend, share_file
):
    befriend((alice, bob))
    share = share_file(alice, "notes.txt", samples.TEXT)
    response = client_as(bob).get(reverse("share-download", args=[share.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == samples.TEXT
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client_as(carol).get(reverse("share-download", args=[share.pk])).status_code == 404
    assert client_as(carol).get(reverse("share-detail", args=[share.pk])).status_code == 404
    assert client_as(alice).get(reverse("share-detail", args=[2**70])).status_code == 404


def test_the_owner_deletes_with_the_button(alice, bob, client_as, befriend, share_file):
    befriend((alice, bob))
    share = share_file(alice)
    page = client_as(alice).get(reverse("share-detail", args=[share.pk])).content.decode()
    assert f'href="/shares/{share.pk}/delete/">Delete this share</a>' in page  # asks first
    asked = client_as(alice).get(reverse("share-delete", args=[share.pk])).content.decode()
    assert "<h1>Delete this share?</h1>" in asked and Share.objects.exists()
    not_theirs = client_as(bob).get(reverse("share-delete", args=[share.pk]), follow=True).content.decode()
    assert "Only the person who shared this can delete it." in not_theirs
    refused = client_as(bob).post(reverse("share-delete", args=[share.pk]), follow=True)
    assert "Only the person who shared this can delete it." in refused.content.decode()
    done = client_as(alice).post(reverse("share-delete", args=[share.pk]), follow=True)
    assert "The share and its file were deleted." in done.content.decode()
    assert not Share.objects.exists()
    assert client_as(alice).get(reverse("share-delete", args=[share.pk])).status_code == 404


def test_a_profile_shows_the_owners_shares_to_friends_and_the_owner_only(alice, bob, carol, befriend, client_as):
    """The SPEC's profile has the owner's shares; a share is visible to its owner and their friends only."""
    befriend((alice, bob))
    services.share_create(owner=alice, url="https://example.com/a", caption="alice's link")
    services.share_create(owner=bob, url="https://example.com/b", caption="bob's link")
    friend = client_as(bob).get(reverse("profile", args=["alice"])).content.decode()
    assert "Shares <span" in friend and "(1)" in friend and "alice&#x27;s link" in friend
    assert "bob&#x27;s link" not in friend  # the owner's shares, not the viewer's feed
    own = client_as(alice).get(reverse("profile", args=["alice"])).content.decode()
    assert "alice&#x27;s link" in own
    stranger = client_as(carol).get(reverse("profile", args=["alice"])).content.decode()
    assert "alice&#x27;s link" not in stranger and "Only alice's friends see what they share." in stranger


def test_a_profiles_shares_page_on_their_own(alice, bob, befriend, client_as):
    befriend((alice, bob))
    for i in range(12):
        services.share_create(owner=alice, url=f"https://example.com/{i}", caption=f"link number {i}")
    client = client_as(bob)
    first = client.get(reverse("profile", args=["alice"])).content.decode()
    assert "link number 11<" in first and "link number 2<" in first and "link number 1<" not in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("profile", args=["alice"]), {"shares": 2}).content.decode()
    assert "link number 1<" in second and "link number 0<" in second and "link number 2<" not in second
