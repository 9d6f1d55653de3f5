"""Hardened outbound HTTP for webhooks (stdlib only).

- http and https only; the host is resolved once and every address checked: private, loopback,
  link-local, multicast, reserved and unspecified targets are refused unless
  BUGSINK_ISSUES_ALERT_ALLOW_PRIVATE_TARGETS is True. The connection goes to the checked address
  (no second DNS lookup, so DNS rebinding can't slip past the check); TLS still verifies the name.
- Redirects are not followed (a 3xx is a failure), timeouts are short, responses are read up to a
  small limit.
"""

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from bugsink_issues.conf import app_settings

MAX_RESPONSE_BYTES = 64 * 1024


class RefusedTarget(Exception):
    """The URL may not be called (scheme, or an address that is not allowed)."""


class DeliveryFailed(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _check_address(ip):
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if app_settings.ALERT_ALLOW_PRIVATE_TARGETS:
        return
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        raise RefusedTarget(f"address {address} is private, loopback or link-local; refused")


def resolve_target(url):
    """(scheme, host, port, path, ip) for an allowed URL, else RefusedTarget."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("only http:// and https:// URLs with a host can be called")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedTarget(f"bad port: {exc}") from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DeliveryFailed(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    for ip in addresses:
        _check_address(ip)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, ip, **kwargs):
        super().__init__(host, **kwargs)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, ip, **kwargs):
        self._tls = ssl.create_default_context()
        super().__init__(host, context=self._tls, **kwargs)
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url, body: bytes, headers: dict) -> int:
    """POST and return the status; DeliveryFailed on a non-2xx status or a network error."""
    scheme, host, port, path, ip = resolve_target(url)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    timeout = app_settings.ALERT_TIMEOUT_SECONDS
    connection = connection_class(host, ip, port=port, timeout=timeout)
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": "bugsink-issues-alerts",
        "Content-Length": str(len(body)),
        **headers,
    }
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    if 300 <= status < 400:
        raise DeliveryFailed(f"HTTP {status}: redirects are not followed", status)
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}", status)
    return status
