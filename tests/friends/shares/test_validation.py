"""What may be shared: names, links, captions, and file content judged by content against an allow-list."""

from __future__ import annotations

import io

import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from friends.shares import validation
from friends.shares.validation import UploadRefused, UploadTooLarge

from . import samples


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(("name", "data", "detected"), samples.ALLOWED, ids=[n for n, _, _ in samples.ALLOWED])
def test_each_allowed_type_is_accepted_and_typed_by_its_content(name, data, detected):
    # The client claims something else entirely: only the content counts.
    checked = validation.check_file(upload(name, data, content_type="text/html"))
    assert (checked.name, checked.content_type, checked.size) == (name, detected, len(data))


def test_a_checked_file_is_left_rewound_for_storage():
    file = upload("photo.png", samples.png())
    validation.check_file(file)
    assert file.read() == samples.png()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns; we refuse
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("page.png", samples.HTML, "HTML files are not accepted"),
        ("logo.svg", samples.SVG_WITH_SCRIPT, "SVG images are not accepted"),
        ("run.txt", samples.SHELL_SCRIPT, r"\(text/x-shellscript\) is not accepted. Allowed: images"),
        ("cat.gif", samples.GIF_WITH_SCRIPT, "HTML markup near its start"),
        ("cat.png", samples.PNG_WITH_ZIP, "ZIP archive hidden inside"),
        ("bomb.png", samples.bomb_png(), r"too large: 8000 x 8000 pixels, at most 40 million"),
        ("broken.png", samples.damaged_png(), "damaged and cannot be read"),
        ("empty.txt", b"", "The file is empty"),
    ],
    ids=[
        "html-renamed-png",
        "svg-script",
        "shell-script",
        "gif-html-polyglot",
        "png-zip-polyglot",
        "bomb",
        "damaged",
        "empty",
    ],
)
def test_bad_content_is_refused_with_a_clear_message(name, data, message):
    with pytest.raises(UploadRefused, match=message):
        validation.check_file(upload(name, data))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd.png", "plain name, not a path"),
        ("/etc/passwd", "plain name, not a path"),
        ("..\\boot.ini", "plain name, not a path"),
        ("C:report.pdf", "plain name, not a path"),
        ("..", "plain name, not a path"),
        ("&#47;etc&#47;passwd", "plain name, not a path"),
        ("photo\x00.png", "NUL character"),
        ("photo\n.png", "control characters"),
        ("\u202egnp.exe", "control characters"),
        ("x" * 256, "too long"),
    ],
)
def test_path_like_or_hidden_character_file_names_are_refused(name, message):
    assert message in validation.file_name_problem(name)
    # A plain File keeps its name as given (an UploadedFile would already have cut the path off).
    with pytest.raises(UploadRefused, match=message):
        validation.check_file(File(io.BytesIO(samples.png()), name=name))


def test_ordinary_names_are_kept_as_given():
    for name in ["Holiday photo (1).png", "résumé.pdf", "..hidden.txt", "notes.v2.txt"]:
        assert validation.file_name_problem(name) is None


def test_the_size_limit_is_inclusive(settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 1_000
    assert validation.check_file(upload("a.txt", b"a" * 1_000)).size == 1_000
    with pytest.raises(UploadTooLarge, match="at most 1000 bytes"):
        validation.check_file(upload("a.txt", b"a" * 1_001))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_pixel_limit_is_a_setting(settings):
    settings.SHARE_MAX_IMAGE_PIXELS = 100 * 100
    validation.check_file(upload("ok.png", samples.png((100, 100))))
    with pytest.raises(UploadRefused, match=r"101 x 100 pixels"):
        validation.check_file(upload("big.png", samples.png((101, 100))))


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "file:///etc/passwd",
        "data:text/html,<script>x</script>",
        "ftp://x.org/",
    ],
)
def test_only_http_links_are_accepted(url):
    with pytest.raises(UploadRefused, match=r"Only http:// and https:// links"):
        validation.check_url(url)


@pytest.mark.parametrize("url", ["http://", "https://exa mple.com/", "http://example.com/\x00"])
def test_malformed_links_are_refused(url):
    with pytest.raises(UploadRefused, match="not a valid web address"):
        validation.check_url(url)


def test_good_links_are_trimmed_and_kept():
    assert validation.check_url("  https://example.com/a?b=c#d ") == "https://example.com/a?b=c#d"
    assert validation.check_url("") == ""


def test_captions_have_a_length_limit_and_no_nul():
    assert validation.check_caption("  hi  ") == "hi"
    assert validation.check_caption("é" * 500) == "é" * 500
    with pytest.raises(UploadRefused, match="501 characters, at most 500"):
        validation.check_caption("é" * 501)
    with pytest.raises(UploadRefused, match="NUL"):
        validation.check_caption("a\x00b")
