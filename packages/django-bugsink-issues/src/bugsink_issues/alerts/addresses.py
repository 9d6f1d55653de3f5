"""Which IP addresses a webhook may be sent to: public ones, and the networks an installation allows.

An alert target is typed by a project admin and a webhook request comes from inside the
installation's network, so an unchecked target reaches whatever that network reaches (a cloud
metadata service, an admin port on localhost). Only globally reachable addresses are called, by an
explicit list of the special-purpose ranges (IANA's IPv4 and IPv6 special-purpose registries)
rather than `ipaddress.is_global` alone, whose answers differ between Python versions.

IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped (::ffff:a.b.c.d),
IPv4-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::). Teredo,
the deprecated IPv4-compatible form and local-use NAT64 are refused outright.

`BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS` lists networks called all the same (a LAN Mattermost, a
local n8n); `BUGSINK_ISSUES_ALERT_ALLOW_PRIVATE_TARGETS = True` allows every address.
"""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from bugsink_issues.conf import app_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = ["AddressRefused", "address_problem", "allowed_networks", "check_address"]


class AddressRefused(ValueError):
    """The address may not be called; the message says why."""


def _networks(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Not globally reachable (or not meant to be called): the IANA special-purpose registries.
_IPV4_SPECIAL = _networks(
    "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
    "10.0.0.0/8",
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, cloud metadata services
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
)
_IPV6_SPECIAL = _networks(
    "::/128",
    "::1/128",
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments (Teredo's 2001::/32 among them)
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
    "5f00::/16",  # segment routing SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated, still routed by some stacks)
    "ff00::/8",  # multicast
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated (RFC 4291), ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT, ::ffff:0:a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: a.b.c.d via the NAT64
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64: any mapping, refused
_TEREDO = ipaddress.ip_network("2001::/32")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """(form, the IPv4 address) when the IPv6 address stands for an IPv4 one."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_TRANSLATED:
        return "IPv4-translated", low32
    if address in _NAT64:
        return "NAT64", low32
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    return None


def _special_reason(address: Address) -> str | None:
    """Why `address` is not a public address (None when it is one)."""
    if isinstance(address, ipaddress.IPv4Address):
        if any(address in net for net in _IPV4_SPECIAL) or not address.is_global:
            return "is not a public address"
        return None
    if address in _TEREDO:
        return "is a Teredo address (it reaches an IPv4 host through a relay)"
    if address in _NAT64_LOCAL:
        return "is a local-use NAT64 address"
    if any(address in net for net in _IPV6_SPECIAL) or not address.is_global:
        return "is not a public address"
    if address in _IPV4_COMPATIBLE:
        return "is an IPv4-compatible address (deprecated)"
    return None


def address_problem(ip: str | Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why `ip` may not be called, as a sentence; None when it may.

    An address inside one of `allowed` may be called whatever it is; an IPv6 form of an IPv4
    address is allowed when the IPv4 address is.
    """
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    shown = ip if isinstance(ip, str) else str(address)  # as written (Pythons print ::ffff: apart)
    allowed = tuple(allowed)
    if _inside(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, ipv4 = embedded
            if _inside(ipv4, allowed):
                return None
            reason = _special_reason(ipv4)
            return None if reason is None else f"{shown} ({form} for {ipv4}) {reason}"
    reason = _special_reason(address)
    return None if reason is None else f"{shown} {reason}"


def _inside(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def allowed_networks() -> tuple[Network, ...]:
    """The installation's allowed networks (BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS), parsed."""
    return _parse_networks(tuple(app_settings.ALERT_ALLOWED_NETWORKS or ()))


@lru_cache(maxsize=8)
def _parse_networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS: {cidr!r} is not a network or address "
                f"({exc})"
            ) from None
    return tuple(networks)


def check_address(ip: str | Address) -> None:
    """Raise AddressRefused unless the installation's settings let `ip` be called."""
    if app_settings.ALERT_ALLOW_PRIVATE_TARGETS:
        return
    problem = address_problem(ip, allowed_networks())
    if problem:
        raise AddressRefused(
            f"address {problem}; refused (an installation allows private networks with "
            "BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS)"
        )
