"""A streaming parser for Sentry envelopes.

Items we keep (event, feedback, user_report, raw_security, check_in, and the release-health and
client-report items) are buffered up to their own limit;
attachments are handed on as a stream of chunks (`Item.body`), which the caller writes to the
spool before asking for the next item; all other items are skipped as they stream past, so
neither a huge attachment nor a huge replay or log item costs memory.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bugsink_ingest.errors import BadRequest, TooLarge

KEPT_TYPES = {"event", "attachment", "feedback", "user_report", "raw_security", "check_in"}
# Release health (session updates, session aggregates) and what the SDKs dropped: handed on to a
# consumer that asks for them (bugsink_ingest.handoff), else dropped after parsing.
KEPT_TYPES |= {"session", "sessions", "client_report"}


@dataclass
class Limits:
    header_line: int
    event: int
    attachment: int


@dataclass
class Item:
    type: str
    headers: dict[str, Any]
    payload: bytes  # b"" for a streamed item
    # A streamed item's payload (attachments), valid until the next item is asked for.
    body: Iterator[bytes] | None = None


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)


class ChunkReader:
    """readline()/read() over an iterator of byte chunks, never holding more than asked for."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = iter(chunks)
        self._buf = b""
        self._pos = 0

    def _fill(self) -> bool:
        chunk = next(self._chunks, None)
        while chunk is not None and not chunk:
            chunk = next(self._chunks, None)
        if chunk is None:
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def at_eof(self) -> bool:
        return self._pos >= len(self._buf) and not self._fill()

    def readline(self, limit: int, what: str, keep: bool = True) -> bytes:
        """Up to and without the next \\n (or EOF). Over limit: TooLarge if keep, else discarded."""
        parts, size = [], 0
        while True:
            end = self._buf.find(b"\n", self._pos)
            stop = end if end >= 0 else len(self._buf)
            piece = self._buf[self._pos : stop]
            size += len(piece)
            if keep:
                if size > limit:
                    raise TooLarge(f"{what} over {limit} bytes")
                parts.append(piece)
            if end >= 0:
                self._pos = end + 1
                return b"".join(parts)
            self._pos = len(self._buf)
            if not self._fill():
                return b"".join(parts)

    def read(self, n: int, what: str, keep: bool = True) -> bytes:
        """Exactly n bytes (BadRequest if the body ends first); discarded unless keep."""
        parts, remaining = [], n
        while remaining > 0:
            if self._pos >= len(self._buf) and not self._fill():
                raise BadRequest(f"{what}: body ended {remaining} bytes before its length")
            take = self._buf[self._pos : self._pos + remaining]
            self._pos += len(take)
            remaining -= len(take)
            if keep:
                parts.append(take)
        return b"".join(parts)

    def stream(self, n: int, what: str) -> Iterator[bytes]:
        """Exactly n bytes, in the pieces they arrive in (BadRequest if the body ends first)."""
        remaining = n
        while remaining > 0:
            if self._pos >= len(self._buf) and not self._fill():
                raise BadRequest(f"{what}: body ended {remaining} bytes before its length")
            take = self._buf[self._pos : self._pos + remaining]
            self._pos += len(take)
            remaining -= len(take)
            yield take

    def stream_line(self, limit: int, what: str) -> Iterator[bytes]:
        """Up to and without the next \\n (or EOF), in pieces; TooLarge past limit."""
        size = 0
        while True:
            end = self._buf.find(b"\n", self._pos)
            stop = end if end >= 0 else len(self._buf)
            piece = self._buf[self._pos : stop]
            size += len(piece)
            if size > limit:
                raise TooLarge(f"{what} over {limit} bytes")
            if end >= 0:
                self._pos = end + 1
            else:
                self._pos = len(self._buf)
            if piece:
                yield piece
            if end >= 0 or not self._fill():
                return


def parse_json_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is not a JSON object")
    return value


def read_header(reader: ChunkReader, limits: Limits) -> dict[str, Any]:
    line = reader.readline(limits.header_line, "envelope header line")
    if not line.strip():
        raise BadRequest("empty body: expected an envelope")
    return parse_json_object(line, "envelope header")


def read_items(
    reader: ChunkReader, limits: Limits, skipped: set[str] | None = None
) -> Iterator[Item]:
    """Yield the kept items; skip the others while streaming (their types added to `skipped`)."""
    while not reader.at_eof():
        line = reader.readline(limits.header_line, "item header line")
        if not line.strip():
            continue  # blank lines between items (a trailing newline, or \r\n line ends)
        headers = parse_json_object(line, "item header")
        item_type = headers.get("type")
        if not isinstance(item_type, str):
            raise BadRequest("item header has no type")
        keep = item_type in KEPT_TYPES
        if not keep and skipped is not None and len(skipped) < 32:  # bounded whatever is sent
            skipped.add(item_type[:64])
        streamed = item_type == "attachment"
        cap = limits.attachment if streamed else limits.event
        length = headers.get("length")
        what = f"{item_type} item"
        if length is not None:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise BadRequest(f"{what} has an invalid length")
            if keep and length > cap:
                raise TooLarge(
                    f"{what} of {length} bytes is over the limit of {cap} bytes "
                    "(BUGSINK_INGEST_MAX_ATTACHMENT_SIZE / MAX_EVENT_SIZE); nothing was stored"
                )
        if streamed:
            body = reader.stream_line(cap, what) if length is None else reader.stream(length, what)
            yield Item(item_type, headers, b"", body)
            for _ in body:  # whatever the caller left unread
                pass
        elif length is None:
            payload = reader.readline(cap, what, keep=keep)
            if keep:
                yield Item(item_type, headers, payload)
        else:
            payload = reader.read(length, what, keep=keep)
            if keep:
                yield Item(item_type, headers, payload)
        # The newline after a payload with a length is optional at the end of the envelope.
        if length is not None and not reader.at_eof():
            rest = reader.readline(limits.header_line, "item trailer")
            if rest.strip():
                raise BadRequest(f"{what}: unexpected bytes after its payload")


def parse_envelope(chunks: Iterator[bytes], limits: Limits) -> Envelope:
    """The whole envelope in memory, streamed payloads read into `payload` (tests, tools)."""
    reader = ChunkReader(chunks)
    envelope = Envelope(read_header(reader, limits))
    for item in read_items(reader, limits):
        if item.body is not None:
            item = Item(item.type, item.headers, b"".join(item.body))
        envelope.items.append(item)
    return envelope
