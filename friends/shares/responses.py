"""How a share's bytes leave the site: always through a view that has checked access, never inline.

Downloads are attachments (`Content-Disposition: attachment` with a safe file name), `nosniff`, and
sandboxed by CSP, so even a file a browser could render is saved, never run in the site's origin.
Thumbnails are images the site made itself (re-encoded WebP), so they may be shown inline.
"""

from __future__ import annotations

import unicodedata

from django.core.files import File
from django.db.models.fields.files import FieldFile
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
    handle = _open_or_404(share.file, missing="This share has no file.", gone="The file is no longer stored.")
    response = FileResponse(handle, content_type=share.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=safe_file_name(share))
    return _private(response)


def thumbnail_response(share: Share) -> FileResponse:
    """The share's preview image. Raises Http404 when there is none (yet)."""
    handle = _open_or_404(
        share.thumbnail, missing="This share has no preview.", gone="The preview is no longer stored."
    )
    response = FileResponse(handle, content_type=THUMBNAIL_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=False, filename=f"share-{share.pk}.webp")
    return _private(response)


def _open_or_404(stored: FieldFile, *, missing: str, gone: str) -> File:
    """The stored file, open for reading; Http404 with `missing` when there is none, `gone` when its bytes
    are no longer in the storage. (DRF answers the same message as a JSON 404.)"""
    if not stored:
        raise Http404(missing)
    try:
        return stored.open("rb")
    except FileNotFoundError:
        raise Http404(gone) from None
