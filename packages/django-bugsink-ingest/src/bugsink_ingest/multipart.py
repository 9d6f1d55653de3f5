"""A streaming reader of multipart/form-data bodies (the minidump endpoint's uploads).

Parts come one at a time, each body a stream of chunks valid until the next part is asked for
(as envelope attachments are), so a 100 MiB minidump never sits in memory: at most one chunk
and the boundary's length are held. Malformed bodies are a BadRequest, never a crash.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bugsink_ingest.errors import BadRequest, TooLarge

MAX_PART_HEADERS = 16 * 1024  # bytes of one part's header block
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_BOUNDARY_CHARS = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{1,70}")


@dataclass
class Part:
    name: str
    filename: str | None  # None for a plain field (no filename parameter)
    content_type: str
    body: Iterator[bytes]  # valid until the next part is asked for


def _params(value: str) -> tuple[str, dict[str, str]]:
    head, _, rest = value.partition(";")
    params = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return head.strip().lower(), params


def boundary_of(content_type: str) -> bytes:
    """The boundary of a multipart/form-data Content-Type; BadRequest for anything else."""
    kind, params = _params(content_type or "")
    if kind != "multipart/form-data":
        raise BadRequest(
            f"expected a multipart/form-data body (Content-Type was {kind or 'missing'!r})"
        )
    boundary = params.get("boundary", "")
    if not _BOUNDARY_CHARS.fullmatch(boundary):
        raise BadRequest("the multipart Content-Type has no valid boundary")
    return boundary.encode("ascii")


class _Buffer:
    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = iter(chunks)
        # The first delimiter may open the body without the CRLF that precedes the others.
        self.data = b"\r\n"

    def fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self.data += chunk
                return True
        return False

    def take_until(self, delimiter: bytes, what: str) -> Iterator[bytes]:
        """The bytes before the next delimiter, in pieces; the delimiter is consumed."""
        keep = len(delimiter) - 1  # a delimiter may straddle two chunks
        while True:
            at = self.data.find(delimiter)
            if at >= 0:
                if at:
                    yield self.data[:at]
                self.data = self.data[at + len(delimiter) :]
                return
            if len(self.data) > keep:
                yield self.data[: len(self.data) - keep]
                self.data = self.data[len(self.data) - keep :]
            if not self.fill():
                raise BadRequest(f"the multipart body ended inside {what}")

    def line(self, limit: int, what: str) -> bytes:
        while (at := self.data.find(b"\r\n")) < 0:
            if len(self.data) > limit:
                raise BadRequest(f"{what} over {limit} bytes")
            if not self.fill():
                raise BadRequest(f"the multipart body ended inside {what}")
        line, self.data = self.data[:at], self.data[at + 2 :]
        return line

    def peek(self, n: int) -> bytes:
        while len(self.data) < n and self.fill():
            pass
        return self.data[:n]


def read_parts(chunks: Iterator[bytes], boundary: bytes, max_parts: int = 1000) -> Iterator[Part]:
    """The parts of a multipart/form-data body in order. A caller that leaves a body unread
    gets the next part all the same (the rest is skipped)."""
    buf = _Buffer(chunks)
    delimiter = b"\r\n--" + boundary
    for _ in buf.take_until(delimiter, "the preamble"):
        pass  # a preamble is allowed and ignored
    count = 0
    while True:
        if buf.peek(2) == b"--":
            return  # the closing delimiter; an epilogue is ignored
        if buf.line(1024, "a boundary line").strip(b" \t"):
            raise BadRequest("unexpected bytes after a multipart boundary")
        count += 1
        if count > max_parts:
            raise TooLarge(f"the multipart body has more than {max_parts} parts")
        part = _part_headers(buf)
        body = buf.take_until(delimiter, f"the part {part[0]!r}")
        yield Part(part[0], part[1], part[2], body)
        for _ in body:
            pass


def _part_headers(buf: _Buffer) -> tuple[str, str | None, str]:
    size, disposition, content_type = 0, None, "application/octet-stream"
    while line := buf.line(MAX_PART_HEADERS, "a part's headers"):
        size += len(line) + 2
        if size > MAX_PART_HEADERS:
            raise BadRequest(f"a part's headers are over {MAX_PART_HEADERS} bytes")
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            raise BadRequest("a multipart part has a malformed header line")
        name = name.strip().lower()
        if name == "content-disposition":
            disposition = _params(value)
        elif name == "content-type":
            content_type = value.strip()[:255] or content_type
    if disposition is None or disposition[0] != "form-data" or "name" not in disposition[1]:
        raise BadRequest("a multipart part has no Content-Disposition: form-data; name=...")
    params = disposition[1]
    return params["name"][:200], params.get("filename"), content_type
