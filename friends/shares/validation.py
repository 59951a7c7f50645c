"""What may be shared. Every check gives a sentence a person can act on, and none of them writes anything.

File types are decided by content (libmagic through python-magic), never by the name or the client's
Content-Type, against an allow-list. Content that could be read as something else is refused where that
is cheap to tell: HTML markup near the start (what browsers sniff), a ZIP archive appended to an image,
PDF or text, an image whose bitmap would be huge (decompression bomb), an image Pillow cannot verify.
"""

from __future__ import annotations

import html
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from PIL import Image, UnidentifiedImageError

from socialsite.errors import ServiceError

from ..models import Share

CAPTION_MAX = Share._meta.get_field("caption").max_length
URL_MAX = Share._meta.get_field("url").max_length
NAME_MAX = Share._meta.get_field("original_name").max_length
HEAD_BYTES = 1024 * 1024  # what libmagic is shown: enough for OOXML/ODF member names and text detection
SNIFF_BYTES = 1024  # browsers decide "this is HTML" from the first few hundred bytes

IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
_OFFICE = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    "application/msword": "Word document",
    "application/vnd.ms-excel": "Excel workbook",
    "application/vnd.ms-powerpoint": "PowerPoint presentation",
}
_ARCHIVES = {
    "application/zip": "ZIP archive",
    "application/gzip": "gzip archive",
    "application/x-gzip": "gzip archive",
    "application/x-tar": "tar archive",
    "application/x-7z-compressed": "7z archive",
}
# Detected content type -> what the page calls it. Anything else is refused.
ALLOWED_TYPES: dict[str, str] = {
    **{mime: f"{fmt.title() if fmt != 'WEBP' else 'WebP'} image" for mime, fmt in IMAGE_FORMATS.items()},
    "application/pdf": "PDF",
    "text/plain": "text",
    "text/csv": "CSV text",
    **_OFFICE,
    **_ARCHIVES,
}
ALLOWED_SUMMARY = (
    "images (PNG, JPEG, GIF, WebP), PDF, plain text, office documents (Word, Excel, PowerPoint, "
    "OpenDocument) and archives (ZIP, gzip, tar, 7z)"
)
# Types whose content is an archive on purpose; anything else carrying a ZIP directory is a polyglot.
_ZIP_CONTAINERS = {t for t in _OFFICE if "openxml" in t or "opendocument" in t} | set(_ARCHIVES)
_HTML_MARKUP = re.compile(
    rb"<\s*(?:script|html|head|body|iframe|frame|object|embed|svg|!doctype\s+html|\?php)",
    re.IGNORECASE,
)
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadRefused(ServiceError):
    """The upload was refused; `code` says which rule (the page puts the message on the right field)."""


class UploadTooLarge(UploadRefused):
    status_code = 413


def size_limit_text() -> str:
    """The limit as people read it: "10 MiB", "512 KiB", "1000 bytes"."""
    n = settings.SHARE_MAX_UPLOAD_BYTES
    for unit, size in (("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{round(n / size, 1):g} {unit}"
    return f"{n} bytes"


def too_large() -> UploadTooLarge:
    return UploadTooLarge(f"The file is too large: at most {size_limit_text()} may be shared.", code="too_large")


def file_name_problem(name: str) -> str | None:
    """Why a client's file name is refused, or None. The name is only ever shown, never used as a path,
    but a name that tries to be a path (`../x`, `/etc/x`, `C:\\x`) or hides bytes (NUL, control
    characters) is refused rather than quietly rewritten."""
    if not name:
        return "The file has no name."
    candidates = {name, html.unescape(name)}
    if any("\x00" in n for n in candidates):
        return "The file name contains a NUL character; rename the file and try again."
    if any(unicodedata.category(c) in ("Cc", "Cf") for n in candidates for c in n):
        return "The file name contains control characters; rename the file and try again."
    if any("/" in n or "\\" in n or _DRIVE.match(n) or n in (".", "..") for n in candidates):
        return "The file name must be a plain name, not a path (no '/', '\\', '..' or drive letter)."
    if len(name) > NAME_MAX:
        return f"The file name is too long: at most {NAME_MAX} characters."
    return None


def check_caption(caption: str | None) -> str:
    """The caption as stored (trimmed).

    Raises:
        UploadRefused: longer than CAPTION_MAX characters, or holding a NUL character.
    """
    caption = (caption or "").strip()
    if "\x00" in caption:
        raise UploadRefused("The caption contains a NUL character.", code="caption")
    if len(caption) > CAPTION_MAX:
        raise UploadRefused(
            f"The caption is too long: {len(caption)} characters, at most {CAPTION_MAX}.", code="caption"
        )
    return caption


def check_url(url: str | None) -> str:
    """The link as stored (trimmed), or "" for none.

    Raises:
        UploadRefused: not an absolute http:// or https:// URL (`javascript:`, `file:`, `data:` …),
            malformed, longer than URL_MAX, or with a user name or password in it
            (`https://bank.example@evil.example/` shows one host and opens another, and a password must
            not be handed to every friend).
    """
    url = (url or "").strip()
    if not url:
        return ""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise UploadRefused("Only http:// and https:// links can be shared.", code="url")
    if len(url) > URL_MAX:
        raise UploadRefused(f"The link is too long: at most {URL_MAX} characters.", code="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise UploadRefused("That is not a valid web address.", code="url") from None
    if any(unicodedata.category(c) == "Cc" for c in url):
        raise UploadRefused("That is not a valid web address.", code="url")
    if "@" in urlsplit(url).netloc:
        raise UploadRefused("A link with a user name or password in it cannot be shared.", code="url")
    return url


@dataclass(frozen=True)
class CheckedFile:
    """A file that may be shared: its shown name, detected type and size in bytes."""

    name: str
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_FORMATS


def check_file(file: File) -> CheckedFile:
    """Decide whether `file` may be shared, by its name, size and content; leaves it rewound.

    Raises:
        UploadTooLarge: over SHARE_MAX_UPLOAD_BYTES (uploads over HTTP are stopped earlier, while
            streaming, by `uploads.LimitedUploadHandler`).
        UploadRefused: a path-like or NUL-bearing name, an empty file, a type not on the allow-list
            (HTML, SVG, executables …), or content that is more than it claims (see the module doc).
    """
    name = file.name or ""
    if problem := file_name_problem(name):
        raise UploadRefused(problem, code="file_name")
    size = file.size
    if not size:
        raise UploadRefused("The file is empty.", code="empty_file")
    if size > settings.SHARE_MAX_UPLOAD_BYTES:
        raise too_large()
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    content_type = magic.from_buffer(head, mime=True)
    if content_type not in ALLOWED_TYPES:
        raise UploadRefused(_type_refusal(content_type), code="file_type")
    if _HTML_MARKUP.search(head[:SNIFF_BYTES]):
        raise UploadRefused(
            "The file contains HTML markup near its start, which a browser could run; it is not accepted.",
            code="file_type",
        )
    if content_type not in _ZIP_CONTAINERS and _has_zip_directory(file):
        raise UploadRefused(
            f"The file is a {ALLOWED_TYPES[content_type]} with a ZIP archive hidden inside; share them separately.",
            code="file_type",
        )
    if content_type in IMAGE_FORMATS:
        _check_image(file, IMAGE_FORMATS[content_type])
    return CheckedFile(name=name, content_type=content_type, size=size)


def _type_refusal(content_type: str) -> str:
    if content_type in ("text/html", "application/xhtml+xml"):
        return "HTML files are not accepted (the content is HTML, whatever the file name says)."
    if content_type == "image/svg+xml":
        return "SVG images are not accepted: they can carry scripts."
    return f"This kind of file ({content_type}) is not accepted. Allowed: {ALLOWED_SUMMARY}."


def _has_zip_directory(file: IO[bytes]) -> bool:
    try:
        return zipfile.is_zipfile(file)
    finally:
        file.seek(0)


def configure_pillow() -> None:
    """Pillow refuses bitmaps past twice this many pixels by itself; we refuse past the setting."""
    Image.MAX_IMAGE_PIXELS = settings.SHARE_MAX_IMAGE_PIXELS


def pixel_problem(width: int, height: int) -> str | None:
    limit = settings.SHARE_MAX_IMAGE_PIXELS
    if width * height > limit:
        return f"The image is too large: {width} x {height} pixels, at most {limit / 1e6:g} million pixels."
    return None


def _check_image(file: IO[bytes], expected_format: str) -> None:
    """Open the header (cheap) and verify the structure; the full decode happens in the worker."""
    configure_pillow()
    try:
        with Image.open(file) as image:
            if image.format != expected_format:
                raise UploadRefused("The image's content does not match its type.", code="file_type")
            if problem := pixel_problem(*image.size):
                raise UploadRefused(problem, code="image")
            image.verify()
    except Image.DecompressionBombError:
        raise UploadRefused(
            f"The image is too large: at most {settings.SHARE_MAX_IMAGE_PIXELS / 1e6:g} million pixels.", code="image"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused(f"The image is damaged and cannot be read ({exc}).", code="image") from None
    finally:
        file.seek(0)
