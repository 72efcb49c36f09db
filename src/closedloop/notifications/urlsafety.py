"""Outbound URL checks at send time: no loopback, private, link-local or metadata targets.

The host is resolved here and the connection is then made to the address that was checked,
so a DNS answer that changes between the check and the connect (rebinding) cannot slip past.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, ECS tasks, Alibaba):
# refused even when allow-listed, since no notification ever needs them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
DEFAULT_PORTS = {"http": 80, "https": 443, "smtp": 25}


class UnsafeDestination(Exception):
    """The URL may not be contacted (its message never contains secrets)."""


@dataclass(frozen=True)
class Target:
    """Where to connect: the checked address, and the host name for Host and TLS."""

    scheme: str
    host: str
    port: int
    address: str


def url_hint(url: str) -> str:
    """scheme://host[:port] of a URL: what listings and errors may show (paths carry tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + (f":{parts.port}" if parts.port else "")


def matches_prefix(url: str, prefix: str) -> bool:
    """Whether `url` starts with `prefix` at a boundary (":8080" never allows ":80800")."""
    if not url.startswith(prefix):
        return False
    rest = url[len(prefix) :]
    return prefix.endswith(("/", "?", "&", "=")) or rest == "" or rest[0] in "/?#"


def refusal(address: IPAddress) -> str | None:
    """Why an address is refused, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((reason for reason, hit in checks if hit), None)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check(url: str, *, allowed_prefixes: Iterable[str], resolver: Resolver = system_resolver) -> Target:
    """The address to connect to for `url`, or UnsafeDestination if it may not be contacted."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeDestination(f"scheme {scheme or '(none)'!r} is not allowed")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination("URLs with user information are not allowed")
    host = parts.hostname
    if not host:
        raise UnsafeDestination("the URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise UnsafeDestination("the URL has an invalid port") from exc
    allowed = any(matches_prefix(url, prefix) for prefix in allowed_prefixes)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise UnsafeDestination(f"{url_hint(url)} does not resolve") from exc
    if not addresses:
        raise UnsafeDestination(f"{url_hint(url)} does not resolve")
    for address in addresses:
        reason = refusal(address)
        if reason == "cloud metadata" or (reason is not None and not allowed):
            raise UnsafeDestination(
                f"{url_hint(url)} resolves to {address} ({reason}); an admin may allow-list the URL prefix"
            )
    return Target(scheme=scheme, host=host, port=port, address=str(addresses[0]))
