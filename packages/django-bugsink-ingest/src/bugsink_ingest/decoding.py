"""Reading and decoding request bodies as streams, with hard limits on input and output.

Every decoder produces output in bounded pieces, so a compression bomb is refused after
`max_output` bytes in constant memory, whatever its ratio.
"""

import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol, cast

import brotli  # type: ignore[import-untyped]  # brotli ships no type hints
import zstandard

from bugsink_ingest.errors import BadRequest, TooLarge

READ_SIZE = 64 * 1024
# Most output one decoder call may produce; bounds memory per step.
STEP_OUTPUT = 256 * 1024


def read_wsgi_body(environ: Mapping[str, Any], max_bytes: int) -> Iterator[bytes]:
    """The raw body from the WSGI input stream, chunked or not, at most max_bytes.

    Django's request.body is empty for chunked bodies without Content-Length (ticket 35838) and
    capped by DATA_UPLOAD_MAX_MEMORY_SIZE, so the input stream is read directly.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if length.strip():
        try:
            remaining = int(length)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if remaining > max_bytes:
            raise TooLarge(f"request body over {max_bytes} bytes")
        while remaining > 0:
            data = stream.read(min(READ_SIZE, remaining))
            if not data:
                raise BadRequest("request body shorter than its Content-Length")
            remaining -= len(data)
            yield data
        return
    if not chunked:
        return
    raw = _unwrapped_runserver_stream(stream)
    reader = _dechunk(raw) if raw is not None else _read_all(stream)
    total = 0
    for data in reader:
        total += len(data)
        if total > max_bytes:
            raise TooLarge(f"request body over {max_bytes} bytes")
        yield data


def _read_all(stream: IO[bytes]) -> Iterator[bytes]:
    # Gunicorn (and most WSGI servers) de-chunk the body themselves; read to EOF.
    while data := stream.read(READ_SIZE):
        yield data


def _unwrapped_runserver_stream(stream: object) -> IO[bytes] | None:
    """The socket file under runserver's LimitedStream, which cuts a chunked body to nothing."""
    from django.core.handlers.wsgi import LimitedStream

    if isinstance(stream, LimitedStream) and stream.limit == 0:
        # The private _read is the underlying stream's read (Django keeps no other reference).
        return cast("IO[bytes] | None", getattr(getattr(stream, "_read", None), "__self__", None))
    return None


def _dechunk(raw: IO[bytes]) -> Iterator[bytes]:
    """HTTP/1.1 chunked framing, for servers that pass the framing through (runserver)."""
    while True:
        line = raw.readline(1024)
        if not line.endswith(b"\n"):
            raise BadRequest("broken chunked encoding")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("broken chunked encoding") from None
        if size == 0:
            while raw.readline(1024).strip():  # trailers
                pass
            return
        while size > 0:
            data = raw.read(min(READ_SIZE, size))
            if not data:
                raise BadRequest("chunked body ended early")
            size -= len(data)
            yield data
        raw.readline(16)  # the CRLF after each chunk


class _Decoder(Protocol):
    def step(self, data: bytes) -> bytes:
        """Output for data (and for what earlier steps held back), at most STEP_OUTPUT bytes."""

    def pending(self) -> bytes:
        """Non-empty while input is held back (step(b"") gives more output)."""

    def finished(self) -> bool: ...


class _Zlib:
    def __init__(self, wbits: int):
        self._d = zlib.decompressobj(wbits)

    def step(self, data: bytes) -> bytes:
        return self._d.decompress(self._d.unconsumed_tail + data, STEP_OUTPUT)

    def pending(self) -> bytes:
        return self._d.unconsumed_tail

    def finished(self) -> bool:
        return self._d.eof


class _Deflate:
    """deflate means zlib-wrapped by the RFC, raw by some clients: look at the first byte."""

    def __init__(self) -> None:
        self._d: zlib._Decompress | None = None

    def step(self, data: bytes) -> bytes:
        if self._d is None:
            # A zlib header: CM=8 in the low nibble and a multiple-of-31 check over two bytes.
            is_zlib = (
                len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            )
            self._d = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
        return self._d.decompress(self._d.unconsumed_tail + data, STEP_OUTPUT)

    def pending(self) -> bytes:
        return self._d.unconsumed_tail if self._d else b""

    def finished(self) -> bool:
        return self._d is not None and self._d.eof


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()
        self._wants_input = True

    def step(self, data: bytes) -> bytes:
        # brotli >= 1.2 bounds each call's output; with no input it continues where it stopped.
        out: bytes = self._d.process(data, output_buffer_limit=STEP_OUTPUT)
        self._wants_input = self._d.can_accept_more_data()
        return out

    def pending(self) -> bytes:
        # Not an unconsumed buffer, but a signal: more output waits before new input is accepted.
        return b"" if self._wants_input else b"\0"

    def finished(self) -> bool:
        return bool(self._d.is_finished())


class _ChunkFile:
    """A read()-able file over an iterator of chunks (for zstandard's stream_reader)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._buf = b""
        self.got_input = False

    def read(self, size: int | None = -1) -> bytes:
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf = chunk
            self.got_input = True
        if size is None or size < 0:
            size = len(self._buf)
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


def _unzstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    # stream_reader bounds each read's output, so a bomb costs constant memory.
    source = cast(IO[bytes], _ChunkFile(chunks))  # read() is all stream_reader uses
    reader = zstandard.ZstdDecompressor().stream_reader(source, read_size=READ_SIZE)
    try:
        while out := reader.read(STEP_OUTPUT):
            yield out
    except zstandard.ZstdError as e:
        raise BadRequest(f"body is not valid zstd data ({e})") from None


DECODERS: dict[str, Callable[[], _Decoder]] = {
    "gzip": lambda: _Zlib(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: _Zlib(16 + zlib.MAX_WBITS),
    "deflate": _Deflate,
    "br": _Brotli,
}
IDENTITY = {"", "identity", "utf-8", "utf8"}


def decode_stream(
    chunks: Iterable[bytes], content_encoding: str, max_output: int
) -> Iterator[bytes]:
    """Decode an iterator of body chunks; TooLarge past max_output, BadRequest on broken data."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in IDENTITY:
        yield from _capped(chunks, max_output)
        return
    if encoding == "zstd":
        yield from _capped(_unzstd(chunks), max_output)
        return
    if encoding not in DECODERS:
        raise BadRequest(f"unsupported Content-Encoding {content_encoding!r}")
    yield from _capped(_decompress(chunks, DECODERS[encoding](), encoding), max_output)


def _decompress(chunks: Iterable[bytes], decoder: _Decoder, name: str) -> Iterator[bytes]:
    got_input = False
    try:
        for chunk in chunks:
            if not chunk:
                continue
            got_input = True
            data = chunk
            while True:
                out = decoder.step(data)
                if out:
                    yield out
                data = b""
                if not decoder.pending() or decoder.finished():
                    break
        # Drain whatever output is still held back.
        while got_input and not decoder.finished():
            out = decoder.step(b"")
            if not out:
                break
            yield out
    except (zlib.error, brotli.error, zstandard.ZstdError) as e:
        raise BadRequest(f"body is not valid {name} data ({e})") from None
    if got_input and not decoder.finished():
        raise BadRequest(f"body is truncated {name} data")


def _capped(chunks: Iterable[bytes], max_output: int) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_output:
            raise TooLarge(f"decompressed body over {max_output} bytes")
        yield chunk
