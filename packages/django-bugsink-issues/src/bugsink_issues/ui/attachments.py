"""How the UI hands out stored attachments: always as a download of opaque bytes, streamed from
their chunks; previews only for what cannot run in the browser (escaped text, raster images whose
bytes say so).

An attachment is whatever an SDK's user sent (possibly an attacker's upload), so its own content
type and filename are not trusted: downloads are application/octet-stream with nosniff and a
filename cleaned of paths and control characters; an image is shown inline only when its first
bytes are PNG, JPEG, GIF or WebP (never SVG, which is a document that can hold script).
"""

import re
import unicodedata

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from bugsink_issues.digest.attachments import attachment_chunks

__all__ = [
    "TEXT_PREVIEW_BYTES",
    "download_response",
    "image_response",
    "image_type",
    "safe_filename",
    "text_preview",
]

TEXT_PREVIEW_BYTES = 64 * 1024  # shown of a text attachment; the rest is in the download
_SNIFF_BYTES = 16

# Raster formats a browser decodes as pictures only, told by their magic numbers.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_TEXT_TYPES = ("application/json", "application/xml", "application/x-ndjson")


def safe_filename(name: str) -> str:
    """The last path part of `name`, without control characters, quotes or separators; never
    empty, never a dot file."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'["<>:|?*;]', "_", name).strip(" .")
    return name[:200] or "attachment"


def _head(attachment) -> bytes:
    """The first chunk's bytes (at most one chunk, a MiB, is held)."""
    for piece in attachment_chunks(attachment):
        return piece
    return b""


def image_type(attachment) -> str | None:
    """The safe raster type of the attachment's bytes, or None (then it is not shown inline)."""
    head = _head(attachment)[:_SNIFF_BYTES]
    for magic, content_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _looks_textual(attachment, head: bytes) -> bool:
    declared = (attachment.content_type or "").split(";")[0].strip().lower()
    if declared.startswith("text/") or declared in _TEXT_TYPES:
        return True
    return b"\x00" not in head[:TEXT_PREVIEW_BYTES]


def text_preview(attachment):
    """(text, truncated) of a text attachment's first TEXT_PREVIEW_BYTES, decoded as UTF-8 with
    replacement characters; None for binary data. The template escapes it."""
    if image_type(attachment):
        return None
    head = _head(attachment)
    if not _looks_textual(attachment, head):
        return None
    shown = head[:TEXT_PREVIEW_BYTES]
    truncated = attachment.size > len(shown)
    return shown.decode("utf-8", "replace"), truncated


def _opaque(response, attachment, disposition):
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = str(attachment.size)
    response["Cache-Control"] = "private, no-store"
    return response


def download_response(attachment):
    """The attachment as a download: its chunks streamed, never whole in memory."""
    response = StreamingHttpResponse(
        attachment_chunks(attachment), content_type="application/octet-stream"
    )
    return _opaque(
        response,
        attachment,
        content_disposition_header(True, safe_filename(attachment.filename)),
    )


def image_response(attachment):
    """A safe raster image, inline (for the preview's <img>); None if it is not one."""
    content_type = image_type(attachment)
    if content_type is None:
        return None
    response = StreamingHttpResponse(attachment_chunks(attachment), content_type=content_type)
    return _opaque(
        response,
        attachment,
        content_disposition_header(False, safe_filename(attachment.filename)),
    )
