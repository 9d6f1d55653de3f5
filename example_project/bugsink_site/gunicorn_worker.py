"""Gunicorn's gthread worker, but a request reaches a thread only once all of it has arrived.

gthread hands a connection to a thread at its first byte; the thread then blocks reading the rest,
so ten clients trickling their headers held every thread of a 4-thread worker and /health/live
timed out. Here the worker's main thread, whose poller already watches every idle keep-alive
connection, also reads requests as they arrive (non-blocking, whatever pace the client keeps):
headers and body (Content-Length or chunked) are buffered, in memory up to MEMORY_BYTES and in a
temporary file past that, and only a complete request is handed to the thread pool, with a
reader over the buffer that never waits on the client. A request that is not complete within
REQUEST_SECONDS is dropped; one larger than MAX_BODY_BYTES is answered 413 by the worker.

No hop is added: the same poller and the same thread pool as gthread, the request's bytes read by
the main thread instead of the pool thread (one recv() for a typical SDK request). TLS and HTTP/2
connections, which gthread reads in the thread, are left to gthread as they are.

    worker_class = "bugsink_site.gunicorn_worker.BufferingThreadWorker"
"""

import io
import os
import re
import selectors
import socket
import struct
import tempfile
import time
from collections import deque
from functools import partial

from gunicorn.http.unreader import Unreader
from gunicorn.workers.gthread import ThreadWorker

MEMORY_BYTES = 64 * 1024  # of one request, in memory; the rest goes to a temporary file
MAX_BODY_BYTES = int(os.environ.get("BUGSINK_WEB_MAX_BODY", 64 * 1024 * 1024))
MAX_HEAD_BYTES = 64 * 1024  # request line and headers (Gunicorn's own limits apply after)
REQUEST_SECONDS = float(os.environ.get("BUGSINK_WEB_REQUEST_SECONDS", 60))
SEND_SECONDS = 30  # a thread writing to a client that does not read gives up after this
RECV_BYTES = 256 * 1024

_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]+")
TOO_LARGE = (
    b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 23\r\n\r\nrequest body too large\n"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class RequestTooLarge(Exception):
    pass


class RequestBuffer:
    """The bytes of one request as they arrive; `complete` once its end is known and in."""

    def __init__(self) -> None:
        self.memory = bytearray()
        self.file: io.BufferedRandom | None = None
        self.size = 0
        self.head_end = -1  # offset just past the blank line after the headers
        self.body_left = 0  # Content-Length body: bytes still to come
        self.chunked: _ChunkScanner | None = None
        self.complete = False
        self.expects_continue = False

    def feed(self, data: bytes) -> None:
        """Take the next bytes (RequestTooLarge past the limits)."""
        if self.head_end < 0:
            # The headers stay in memory whole (at most MAX_HEAD_BYTES), to be looked at.
            start = len(self.memory)
            self.memory += data
            self.size += len(data)
            self._find_head(start)
            if self.head_end < 0:
                return
            body = bytes(self.memory[self.head_end :])  # the body's first bytes, if any
            if len(self.memory) > MEMORY_BYTES:
                self.file = tempfile.TemporaryFile()  # closed by reader/close
                self.file.write(self.memory[MEMORY_BYTES:])
                del self.memory[MEMORY_BYTES:]
        else:
            body = data
            self._store(data)
        if self.chunked is not None:
            self.complete = self.chunked.feed(body)
        else:
            self.body_left -= len(body)
            self.complete = self.body_left <= 0
        if self.size - self.head_end > MAX_BODY_BYTES:
            raise RequestTooLarge()

    def _store(self, data: bytes) -> None:
        self.size += len(data)
        if self.file is None and len(self.memory) + len(data) <= MEMORY_BYTES:
            self.memory += data
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # closed by reader/close
        self.file.write(data)

    def _find_head(self, start: int) -> None:
        end = self.memory.find(b"\r\n\r\n", max(0, start - 3))
        if end < 0:
            if len(self.memory) > MAX_HEAD_BYTES:
                raise RequestTooLarge()
            return
        self.head_end = end + 4
        length, chunked = _body_framing(bytes(self.memory[: self.head_end]))
        if chunked:
            self.chunked = _ChunkScanner()
        else:
            if length > MAX_BODY_BYTES:
                raise RequestTooLarge()
            self.body_left = length
        self.expects_continue = b"\r\nexpect: 100-continue" in self.memory[:end].lower()

    def reader(self) -> "BufferUnreader":
        file, self.file = self.file, None
        if file is not None:
            file.seek(0)
        return BufferUnreader(bytes(self.memory), file)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _body_framing(head: bytes) -> tuple[int, bool]:
    """(Content-Length, chunked) from the request's headers; odd values are Gunicorn's to refuse
    (the request is then complete as it stands, and its parser answers 400)."""
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                length = 0
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return max(length, 0), chunked


class _ChunkScanner:
    """Where a chunked body ends, found without keeping it (only the current line)."""

    def __init__(self) -> None:
        self.line = bytearray()
        self.data_left = 0  # data bytes of the current chunk, then its CRLF
        self.in_trailers = False

    def feed(self, data: bytes) -> bool:
        pos = 0
        while pos < len(data):
            if self.data_left:
                take = min(self.data_left, len(data) - pos)
                self.data_left -= take
                pos += take
                continue
            end = data.find(b"\n", pos)
            if end < 0:
                self.line += data[pos:]
                if len(self.line) > 4096:
                    return True  # not chunked framing: let Gunicorn's parser refuse it
                return False
            self.line += data[pos:end]
            pos = end + 1
            line, self.line = bytes(self.line).strip(), bytearray()
            if self.in_trailers:
                if not line:
                    return True
                continue
            if not line:
                continue  # the CRLF after a chunk's data
            match = _CHUNK_SIZE.match(line)
            if match is None:
                return True
            size = int(match.group(), 16)
            if size == 0:
                self.in_trailers = True
            else:
                self.data_left = size
        return False


class BufferUnreader(Unreader):
    """The parser's source for one buffered request: the buffer, then end of input (never the
    socket, so a thread never waits on the client). What is left over (a pipelined next
    request) goes back to the worker's buffering."""

    def __init__(self, memory: bytes, file: "io.BufferedRandom | None"):
        super().__init__()
        self.buf.write(memory)
        self.file = file

    def chunk(self, size_hint: "int | None" = None) -> bytes:
        if self.file is None:
            return b""
        data = self.file.read(min(max(size_hint or 0, 65536), 1024 * 1024))
        if not data:
            self.close()
        return data

    def leftover(self) -> bytes:
        rest = self.take_buffered()
        if self.file is not None:
            rest += self.file.read(MAX_HEAD_BYTES + MAX_BODY_BYTES)
            self.close()
        return rest

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class BufferingThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        self.buffering: deque = deque()  # connections being read, oldest first
        # TLS and h2c prior knowledge are read by gthread in the thread (left as they are).
        h2c = getattr(self.cfg, "http2_cleartext", "off") in ("prior-knowledge", "both")
        self.plain = bool(self.cfg.is_ssl or h2c)
        super().init_process()

    def enqueue_req(self, conn) -> None:
        """Every way to the thread pool comes here (a new connection, a pipelined request):
        buffer the request first, unless that is done."""
        if self.plain or getattr(conn, "buffered", None) is not None:
            super().enqueue_req(conn)
            return
        self._buffer(conn, registered=False)

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection's next request: read it here (gthread hands it over)."""
        if self.plain:
            super().on_client_socket_readable(conn, client)
            return
        self.keepalived_conns.remove(conn)
        self._buffer(conn, registered=True)

    def _buffer(self, conn, registered: bool) -> None:
        leftover = b""
        if conn.parser is not None and isinstance(conn.parser.unreader, BufferUnreader):
            leftover = conn.parser.unreader.leftover()
        conn.request = RequestBuffer()
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + REQUEST_SECONDS
        self.buffering.append(conn)
        done = self._take(conn, leftover) if leftover else False
        if not done:
            # Most requests are all there already: one recv(), no poller round trip.
            done = self._read(conn)
        if done:
            if registered:
                self.poller.unregister(conn.sock)
        elif registered:
            self.poller.modify(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))
        else:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, conn))

    def _readable(self, conn, sock) -> None:
        if self._read(conn):
            self.poller.unregister(sock)

    def _read(self, conn) -> bool:
        """Read what has arrived; True once the request left the buffering."""
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:  # the client went away mid-request
            self._drop(conn)
            return True
        return self._take(conn, data)

    def _take(self, conn, data: bytes) -> bool:
        """Feed the request; True once it left the buffering (dispatched or refused)."""
        request = conn.request
        had_head = request.head_end >= 0
        try:
            request.feed(data)
        except RequestTooLarge:
            try:
                conn.sock.send(TOO_LARGE)
            except OSError:
                pass
            self._drop(conn)
            return True
        if not request.complete:
            if not had_head and request.expects_continue:
                try:
                    conn.sock.send(CONTINUE)
                except OSError:
                    pass
            return False
        conn.request = None
        conn.buffered = request.reader()
        conn.data_ready = True  # gthread's own wait for a first byte is moot
        super().enqueue_req(conn)
        return True

    def _drop(self, conn) -> None:
        if conn.request is not None:
            conn.request.close()
            conn.request = None
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.buffering:
            conn = self.buffering[0]
            if getattr(conn, "request", None) is None:
                self.buffering.popleft()  # dispatched or dropped since
                continue
            if conn.timeout > now:
                break
            self.buffering.popleft()
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
            self._drop(conn)

    def handle(self, conn):
        buffered = getattr(conn, "buffered", None)
        if buffered is None:
            return super().handle(conn)
        conn.buffered = None
        conn.sock.setblocking(True)
        # Survives the setblocking() calls gthread makes: a client that does not read its
        # response cannot hold this thread for ever.
        conn.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_SECONDS, 0)
        )
        conn.init()
        conn.parser.unreader = buffered
        keepalive = False
        try:
            keepalive = super().handle(conn)
            return keepalive
        finally:
            if not keepalive:
                buffered.close()


__all__ = ["BufferingThreadWorker", "RequestBuffer"]
