"""Real local HTTP servers that alert webhooks are pointed at: one that records what it is sent,
one that answers a byte at a time (a server holding a sender as long as it can)."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.processes import wait_for

# A loopback address of its own (Linux routes all of 127.0.0.0/8 to lo): the deployments under
# test allow exactly this one, so 127.0.0.1 stays a refused private address.
CAPTURE_HOST = "127.0.0.2"


class CaptureServer:
    """Records every POST as (path, headers, body) and answers 200."""

    def __init__(self, host: str = CAPTURE_HOST, port: int = 0):
        self.requests: list[tuple[str, dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, prefix: str = "") -> dict[str, bytes]:
        return {path: body for path, _, body in self.requests if path.startswith(prefix)}

    def wait_for_paths(self, paths, timeout: float = 60.0) -> dict[str, bytes]:
        wanted = set(paths)
        wait_for(
            lambda: wanted <= set(self.bodies()),
            timeout=timeout,
            what=f"POSTs to {sorted(wanted)}; got {sorted(self.bodies())}",
        )
        return self.bodies()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class DribblingServer:
    """Reads a request, then sends a valid 200 answer one byte every `pause` seconds.

    Each read of the sender returns well within any per-read timeout, so only a deadline on the
    whole send stops it. Records per connection how many bytes went out and whether all did.
    """

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    def __init__(self, host: str = CAPTURE_HOST, pause: float = 0.5):  # ~30 s for the answer
        self.pause = pause
        self.connections: list[dict] = []
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._closing = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._closing:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket):
        record = {"sent": 0, "complete": False, "started": time.monotonic(), "ended": None}
        self.connections.append(record)
        with conn:
            conn.settimeout(10)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                for byte in self.ANSWER:
                    if self._closing:
                        return
                    conn.sendall(bytes([byte]))
                    record["sent"] += 1
                    time.sleep(self.pause)
                record["complete"] = True
            except OSError:
                pass  # the sender hung up: what a deadline does
            finally:
                record["ended"] = time.monotonic()

    def close(self):
        self._closing = True
        self.listener.close()
        self.thread.join(timeout=5)
