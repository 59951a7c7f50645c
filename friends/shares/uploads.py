"""While a request body is parsed: stop an upload at the size limit, refuse path-like file names.

`LimitedUploadHandler` is first in `FILE_UPLOAD_HANDLERS`, so it applies to every multipart request, page
or API, before any view runs (the CSRF check already parses the body). It counts file bytes as they stream
in and raises `StopUpload(connection_reset=True)` as soon as the limit is passed: the rest of the body is
never read, so a 10 GB upload costs the server at most the limit plus one chunk. The refusal is left on the
request (`upload_refusal`) for the view to report, because Django itself only stops parsing.

Django's parser also rewrites a client's file name (`../../x.png` becomes `x.png`, a NUL vanishes) before
any handler sees it. To refuse such names instead of storing a quietly different one, the handler does the
parsing itself (the documented `handle_raw_input` hook) with a parser that checks the raw name first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser

from .validation import UploadRefused, file_name_problem, too_large

_REFUSAL = "share_upload_refusal"


def upload_refusal(request: Any) -> UploadRefused | None:
    """The refusal recorded while this request's body was parsed, if any (DRF requests are unwrapped)."""
    return getattr(getattr(request, "_request", request), _REFUSAL, None)


def _refuse(request: HttpRequest | None, refusal: UploadRefused) -> StopUpload:
    if request is not None and upload_refusal(request) is None:
        setattr(request, _REFUSAL, refusal)
    # connection_reset: Django must not read (exhaust) the rest of the body.
    return StopUpload(connection_reset=True)


class _StrictNameParser(MultiPartParser):
    """Django's parser, except that a name Django would rewrite is refused (see the module doc)."""

    def __init__(self, *args: Any, request: HttpRequest | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def sanitize_file_name(self, file_name: str) -> str | None:
        if problem := file_name_problem(file_name):
            raise _refuse(self._request, UploadRefused(problem, code="file_name"))
        return super().sanitize_file_name(file_name)


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of every file in the request and stops the upload once SHARE_MAX_UPLOAD_BYTES
    is passed. It stores nothing itself; the next handlers (memory, temporary file) do."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.SHARE_MAX_UPLOAD_BYTES
        self.received = 0
        self._parsing = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if self._parsing or self.request is None:
            return None  # the nested parse below: let it run normally
        self._parsing = True
        try:
            parser = _StrictNameParser(META, input_data, self.request.upload_handlers, encoding, request=self.request)
            return parser.parse()
        finally:
            self._parsing = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise _refuse(self.request, too_large())
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
