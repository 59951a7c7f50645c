"""The upload handler: the size limit is enforced while the body streams in, and path-like names are refused."""

from __future__ import annotations

import io

import pytest
from django.core.handlers.wsgi import LimitedStream
from django.test import RequestFactory

from friends.shares.uploads import upload_refusal
from friends.shares.validation import UploadTooLarge

from . import samples


class CountingStream(io.BytesIO):
    """The request body as the server's socket would hand it over, counting what the parser reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def posted(body: bytes):
    """A POST request whose body is read from a CountingStream."""
    request = RequestFactory().generic("POST", "/shares/new/", body, content_type=samples.MULTIPART_CONTENT_TYPE)
    stream = CountingStream(body)
    request._stream = LimitedStream(stream, len(body))
    return request, stream


def test_an_oversize_upload_is_cut_off_at_the_limit_not_read_whole(settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 100_000
    body = samples.multipart({"caption": "big one"}, [("file", "big.txt", b"a" * 5_000_000, "text/plain")])
    request, stream = posted(body)

    files = request.FILES  # parsing happens here, as in any view or the CSRF check

    assert "file" not in files
    assert request.POST["caption"] == "big one"  # fields before the file were parsed
    refusal = upload_refusal(request)
    assert isinstance(refusal, UploadTooLarge) and refusal.status_code == 413
    assert "at most 97.7 KiB" in refusal.message
    # Stopped one parser chunk (64 KiB) past the limit, and far from the 5 MB sent.
    assert stream.bytes_read <= 100_000 + 2 * 64 * 1024
    assert stream.bytes_read < len(body) / 10


def test_an_upload_within_the_limit_is_read_whole(settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 100_000
    body = samples.multipart({}, [("file", "ok.txt", b"a" * 100_000, "text/plain")])
    request, stream = posted(body)
    assert request.FILES["file"].size == 100_000
    assert upload_refusal(request) is None
    assert stream.bytes_read == len(body)


def test_the_limit_counts_every_file_of_the_request(settings):
    settings.SHARE_MAX_UPLOAD_BYTES = 100_000
    files = [("file", f"part{i}.txt", b"a" * 60_000, "text/plain") for i in range(3)]
    request, _ = posted(samples.multipart({}, files))
    request.FILES  # noqa: B018
    assert isinstance(upload_refusal(request), UploadTooLarge)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (b"../../evil.png", "not a path"),
        (b"/etc/passwd", "not a path"),
        (b"C:\\Users\\me\\evil.png", "not a path"),
        (b"evil\x00.png", "NUL character"),
    ],
)
def test_a_path_like_or_nul_file_name_is_refused_not_rewritten(filename, message):
    """Django would store `../../evil.png` as `evil.png`; the handler refuses it instead."""
    body = samples.multipart({"caption": "x"}, [("file", filename, b"a" * 1_000_000, "text/plain")])
    request, stream = posted(body)
    assert "file" not in request.FILES
    refusal = upload_refusal(request)
    assert refusal is not None and refusal.code == "file_name" and message in refusal.message
    assert stream.bytes_read < len(body) / 10  # the file's bytes after its refused header were not read


def test_an_ordinary_upload_goes_through_unchanged():
    body = samples.multipart({"caption": "hi"}, [("file", "Holiday (1).png", samples.png(), "image/png")])
    request, _ = posted(body)
    upload = request.FILES["file"]
    assert (upload.name, upload.read()) == ("Holiday (1).png", samples.png())
    assert upload_refusal(request) is None
