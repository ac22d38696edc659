"""Which addresses the central may reach on a caller's behalf (a package by URI, a callback):
public unicast addresses only, unless the operator allows networks. Pure; `outbound` fetches."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
)

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
ALLOW_SETTING = "EDGEWISE_FETCH_ALLOW"
NAT64 = IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class EgressPolicy:
    """Public unicast addresses, and the operator's `allowed` networks besides."""

    allowed: tuple[Network, ...] = ()

    def refusal(self, address: Address) -> str | None:
        """None when the central may connect to `address`, else what kind of address it is."""
        inner = embedded(address)
        if any(a in net for net in self.allowed for a in (address, inner)):
            return None
        return kind_of(inner) or kind_of(address)


def literal_address(host: str) -> Address | None:
    """The address a URI's host names literally, in any form a resolver takes (`[::1]`,
    `127.1`, decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f000001`); None for a name."""
    bare = host.strip("[]")
    try:
        return ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare) and bare[0].isdigit():
        try:  # inet_aton: the legacy IPv4 forms getaddrinfo also accepts; no lookup
            return IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), else itself."""
    if isinstance(address, IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def kind_of(address: Address) -> str | None:
    """What makes `address` unfit to reach on a caller's behalf; None for public unicast."""
    checks: Iterable[tuple[bool, str]] = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((kind for hit, kind in checks if hit), None)


def refused_detail(host: str) -> str:
    """The answer for a refused or unresolvable name: the same for both, naming no address, so
    that it tells nothing of the central's network."""
    return f"{host} does not resolve to a public address; {ONLY_PUBLIC}"


ONLY_PUBLIC = (
    f"the central fetches only from public addresses unless its operator allows a network "
    f"({ALLOW_SETTING})"
)
