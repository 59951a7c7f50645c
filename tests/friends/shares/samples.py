"""Sample files made in memory: one of each allowed type, and each kind of bad input the site refuses."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from PIL import Image

MULTIPART_BOUNDARY = "----socialsite-test-boundary"


def image(fmt: str = "PNG", size: tuple[int, int] = (640, 480), mode: str = "RGB", color="teal") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def png(size: tuple[int, int] = (640, 480)) -> bytes:
    return image("PNG", size)


def _zip(members: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def docx() -> bytes:
    return _zip(
        [("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<Relationships/>"), ("word/document.xml", "<w/>")]
    )


def xlsx() -> bytes:
    return _zip([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<Relationships/>"), ("xl/workbook.xml", "<w/>")])


def odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TEXT = b"Meeting notes\nBring the slides.\n"
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(56)

# name, bytes, the content type detected from them
ALLOWED = [
    ("photo.png", png(), "image/png"),
    ("photo.jpg", image("JPEG"), "image/jpeg"),
    ("anim.gif", image("GIF", mode="P"), "image/gif"),
    ("pic.webp", image("WEBP"), "image/webp"),
    ("paper.pdf", PDF, "application/pdf"),
    ("notes.txt", TEXT, "text/plain"),
    ("letter.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("sheet.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("essay.odt", odt(), "application/vnd.oasis.opendocument.text"),
    ("bundle.zip", _zip([("a.txt", "a")]), "application/zip"),
    ("logs.gz", gzip.compress(b"log line\n" * 50), "application/gzip"),
    ("backup.tar", tar(), "application/x-tar"),
    ("backup.7z", SEVEN_Z, "application/x-7z-compressed"),
]

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="5"/></svg>'
SHELL_SCRIPT = b"#!/bin/sh\nrm -rf ~\n"
# A real GIF whose comment is a script: an image viewer shows it, a sniffing browser would run it.
GIF_WITH_SCRIPT = image("GIF", mode="P")[:6] + b"/*<script>alert(1)</script>*/" + image("GIF", mode="P")[6:]
PNG_WITH_ZIP = png() + _zip([("payload.html", "<script>alert(1)</script>")])


def bomb_png(side: int = 8_000) -> bytes:
    """A few kB on disk, 64 million pixels once decoded (above the 40 million default limit)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


def damaged_png() -> bytes:
    data = bytearray(png())
    data[60:80] = bytes(20)  # inside the image data: the chunk checksum no longer matches
    return bytes(data)


def multipart(fields: dict[str, str], files: list[tuple[str, str | bytes, bytes, str]]) -> bytes:
    """A raw multipart/form-data body (boundary MULTIPART_BOUNDARY), with file names exactly as given:
    Django's test client would strip a path from them, a real client need not."""
    crlf = b"\r\n"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode()
        )
    for field, filename, data, content_type in files:
        filename = filename.encode() if isinstance(filename, str) else filename
        parts.append(
            f"--{MULTIPART_BOUNDARY}\r\n".encode()
            + f'Content-Disposition: form-data; name="{field}"; filename="'.encode()
            + filename
            + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
        )
    return crlf.join(parts) + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()


MULTIPART_CONTENT_TYPE = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
