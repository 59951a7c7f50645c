"""The computations done after upload, in a worker: a checksum, and a thumbnail for images.

Plain functions over a readable file; they write nothing. A problem with the content (an image that
turns out to be damaged or too large to decode) is `ProcessingFailed`, with a reason to show the owner.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from .validation import configure_pillow, pixel_problem

THUMBNAIL_BOX = (320, 320)  # pixels: the largest side of a preview
THUMBNAIL_FORMAT, THUMBNAIL_EXTENSION, THUMBNAIL_CONTENT_TYPE = "WEBP", "webp", "image/webp"
_CHUNK = 1024 * 1024


class ProcessingFailed(Exception):
    """The content cannot be processed; `reason` is a sentence for the owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sha256_of(file: IO[bytes], *, progress: Callable[[int], None] | None = None) -> str:
    """SHA-256 of the whole file, hex; read in 1 MiB chunks (`progress` gets the bytes read so far)."""
    digest = hashlib.sha256()
    done = 0
    file.seek(0)
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        done += len(chunk)
        if progress:
            progress(done)
    return digest.hexdigest()


def thumbnail_of(file: IO[bytes]) -> bytes:
    """A preview at most THUMBNAIL_BOX pixels, upright (EXIF orientation applied), as WebP bytes.

    Raises:
        ProcessingFailed: not decodable, damaged, or more pixels than SHARE_MAX_IMAGE_PIXELS.
    """
    configure_pillow()
    file.seek(0)
    try:
        with Image.open(file) as image:
            if problem := pixel_problem(*image.size):
                raise ProcessingFailed(problem)
            image.draft("RGB", (THUMBNAIL_BOX[0] * 2, THUMBNAIL_BOX[1] * 2))  # JPEG: decode at a reduced scale
            image.seek(0)  # the first frame of an animation
            picture = ImageOps.exif_transpose(image)
            picture = picture.convert("RGBA" if _has_alpha(picture) else "RGB")
            picture.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            picture.save(out, THUMBNAIL_FORMAT, quality=80)
            return out.getvalue()
    except Image.DecompressionBombError as exc:
        raise ProcessingFailed(f"The image is too large to decode ({exc}).") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ProcessingFailed(f"The image is damaged and cannot be decoded ({exc}).") from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
