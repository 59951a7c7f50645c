"""How a share's bytes leave the site: always through a view that has checked access, never inline.

Downloads are attachments (`Content-Disposition: attachment` with a safe file name), `nosniff`, and
sandboxed by CSP, so even a file a browser could render is saved, never run in the site's origin.
Thumbnails are images the site made itself (re-encoded WebP), so they may be shown inline.
"""

from __future__ import annotations

import unicodedata

from django.http import FileResponse, Http404
from django.utils.http import content_disposition_header

from ..models import Share
from .processing import THUMBNAIL_CONTENT_TYPE


def safe_file_name(share: Share) -> str:
    """The client's name without anything a header or a file system could misread; a fallback if empty."""
    name = "".join(c for c in share.original_name if unicodedata.category(c)[0] != "C" and c not in '/\\"')
    name = name.strip().lstrip(".")
    return name or f"share-{share.pk}"


def _private(response: FileResponse) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    # Per-user access that can end at any moment (unfriending): no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-cache"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def download_response(share: Share) -> FileResponse:
    """The share's file as an attachment. Raises Http404 when it has no file or the file is gone."""
    if not share.file:
        raise Http404("This share has no file.")
    try:
        handle = share.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer stored.") from None
    response = FileResponse(handle, content_type=share.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=safe_file_name(share))
    return _private(response)


def thumbnail_response(share: Share) -> FileResponse:
    """The share's preview image. Raises Http404 when there is none (yet)."""
    if not share.thumbnail:
        raise Http404("This share has no preview.")
    try:
        handle = share.thumbnail.open("rb")
    except FileNotFoundError:
        raise Http404("The preview is no longer stored.") from None
    response = FileResponse(handle, content_type=THUMBNAIL_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=False, filename=f"share-{share.pk}.webp")
    return _private(response)
