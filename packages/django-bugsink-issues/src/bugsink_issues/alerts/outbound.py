"""Hardened outbound HTTP for webhooks (stdlib only).

- http and https URLs with a host only (`parse_target`, also what a channel is validated with when
  it is saved). The host is resolved once and every answer checked (addresses.py); the
  connection goes to a checked address, never to the name again, so DNS rebinding cannot slip a
  second answer past the check. TLS still verifies the certificate against the name.
- BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS bounds the whole send: DNS, connect, TLS handshake, request
  and answer. A socket timeout bounds each read only, and a server sending a byte every second
  never trips it; a watchdog shuts the connection down at the deadline.
- Redirects are not followed (a 3xx is a failure); answers are read up to a small limit.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bugsink_issues.alerts.addresses import AddressRefused, check_address
from bugsink_issues.conf import app_settings

MAX_RESPONSE_BYTES = 64 * 1024

__all__ = [
    "Deadline",
    "DeliveryFailed",
    "RefusedTarget",
    "Resolved",
    "Target",
    "parse_target",
    "post",
    "resolve_target",
]


class RefusedTarget(Exception):
    """The URL may not be called (scheme, or an address that is not allowed)."""


class DeliveryFailed(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query

    @property
    def literal_ip(self) -> str | None:
        """The host when it is an IP address rather than a name."""
        try:
            return str(ipaddress.ip_address(self.host))
        except ValueError:
            return None


def parse_target(url: str) -> Target:
    """The parts of a webhook URL; RefusedTarget (with the reason) for one that cannot be called."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a bad port, or brackets that do not hold an IPv6 address
        raise RefusedTarget(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget("only http:// and https:// URLs can be called")
    if not parts.hostname:
        raise RefusedTarget("the URL has no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path
    )


class Deadline:
    """A point in time by which the send is over, whatever it is waiting for."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise DeliveryFailed(self.overrun())
        return left

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def overrun(self) -> str:
        return (
            f"no complete answer within {self.seconds:g} s (BUGSINK_ISSUES_ALERT_TIMEOUT_SECONDS)"
        )


@dataclass(frozen=True)
class Resolved:
    """One answer of the name lookup: what the connection is made to, with no lookup again."""

    family: int
    sockaddr: tuple

    @property
    def ip(self) -> str:
        return str(self.sockaddr[0]).split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) aside


def _lookup(host: str, port: int, deadline: Deadline) -> list[Resolved]:
    """getaddrinfo within the deadline: the resolver's own timeouts are longer than ours."""
    found: dict[str, object] = {}

    def run():
        try:
            found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            found["error"] = exc

    thread = threading.Thread(target=run, name="bugsink-alert-dns", daemon=True)
    thread.start()
    thread.join(deadline.remaining())
    if thread.is_alive():
        raise DeliveryFailed(f"cannot resolve {host} within {deadline.seconds:g} s")
    if "error" in found:
        raise DeliveryFailed(f"cannot resolve {host}: {found['error']}")
    infos = found["infos"]
    assert isinstance(infos, list)
    return [Resolved(family, sockaddr) for family, _, _, _, sockaddr in infos]


def resolve_target(url: str, deadline: Deadline | None = None) -> tuple[Target, Resolved]:
    """The target and the checked address to connect to; RefusedTarget when it is not allowed.

    Every address the name resolves to must be allowed: an answer that mixes a public address
    with a private one is refused as a whole.
    """
    target = parse_target(url)
    deadline = deadline or Deadline(app_settings.ALERT_TIMEOUT_SECONDS)
    answers = _lookup(target.host, target.port, deadline)
    if not answers:
        raise DeliveryFailed(f"{target.host} resolves to no address")
    for answer in answers:
        try:
            check_address(answer.ip)
        except AddressRefused as exc:
            raise RefusedTarget(str(exc)) from None
    return target, answers[0]


class _Watchdog:
    """Shuts the connection down when the deadline passes, wherever the send is blocked.

    It holds a duplicate of the socket's descriptor: TLS replaces the socket object (and the
    handshake is one of the places a slow server can hold us), the connection stays the same.
    """

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None

    def watch(self, sock: socket.socket):
        self._sockets.append(sock.dup())
        if self._timer is None:
            self._timer = threading.Timer(self.deadline.remaining(), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self):
        self.fired = True
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        if self._timer is not None:
            self._timer.cancel()
        for sock in self._sockets:
            sock.close()


def _connect(address: Resolved, deadline: Deadline, watchdog: _Watchdog) -> socket.socket:
    # Straight to the checked socket address: socket.create_connection() would look it up again.
    sock = socket.socket(address.family, socket.SOCK_STREAM)
    try:
        sock.settimeout(deadline.remaining())
        watchdog.watch(sock)
        sock.connect(address.sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, address, port, deadline, watchdog):
        super().__init__(host, port=port)
        self._address, self._deadline, self._watchdog = address, deadline, watchdog

    def connect(self):
        self.sock = _connect(self._address, self._deadline, self._watchdog)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, address, port, deadline, watchdog):
        self._tls = ssl.create_default_context()
        super().__init__(host, port=port, context=self._tls)
        self._address, self._deadline, self._watchdog = address, deadline, watchdog

    def connect(self):
        sock = _connect(self._address, self._deadline, self._watchdog)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> int:
    """POST and return the status; DeliveryFailed on a non-2xx status, a network error or the
    deadline; RefusedTarget for a URL or address that may not be called."""
    deadline = Deadline(app_settings.ALERT_TIMEOUT_SECONDS)
    target, address = resolve_target(url, deadline)
    watchdog = _Watchdog(deadline)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, address, target.port, deadline, watchdog)
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": "bugsink-issues-alerts",
        "Content-Length": str(len(body)),
        **headers,
    }
    try:
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if watchdog.fired or deadline.passed():  # cut off, or a socket timeout at the deadline
            raise DeliveryFailed(deadline.overrun()) from exc
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        watchdog.close()
        connection.close()
    if 300 <= status < 400:
        raise DeliveryFailed(f"HTTP {status}: redirects are not followed", status)
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}", status)
    return status
