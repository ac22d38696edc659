"""DNS-based learning for the application cache (pure): a DNS answer, seen on its way back to
the client, naming a host of a custom application (its host patterns, matched as nDPI does:
`*.x` and `x` both match x and every name under it) tells which addresses serve it before
any flow to them starts; the classifier then caches them for TLS and HTTP (tcp 443 and 80)
and QUIC (udp 443), so even the first flow to such a host takes its class's link at its SYN.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from edgewise.site.drivers.linux.dpi.nfqmsg import Server

DNS_PORT: Final = 53
WEB_SERVICES: Final = ((6, 443), (6, 80), (17, 443))  # (protocol, port) a host name is for
MAX_ANSWERS: Final = 32  # records read from one answer at most
MAX_POINTERS: Final = 16  # compression pointers followed in one name at most


@dataclass(frozen=True)
class DnsAnswer:
    """The name a DNS response answers, and the IPv4 addresses (A records) it gives."""

    name: str
    addresses: tuple[str, ...]


def dns_answer(packet: bytes) -> DnsAnswer | None:
    """The answer an IPv4 UDP packet from port 53 carries; None for anything else or a
    malformed one (never an exception: the packet comes off the wire)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:
        return None
    ihl = (packet[0] & 0xF) * 4
    if len(packet) < ihl + 8 or struct.unpack_from("!H", packet, ihl)[0] != DNS_PORT:
        return None
    message = packet[ihl + 8 :]
    try:
        return _parse(message)
    except (IndexError, struct.error, UnicodeDecodeError, ValueError):
        return None


def _parse(message: bytes) -> DnsAnswer | None:
    _, flags, questions, answers = struct.unpack_from("!HHHH", message)
    if not flags & 0x8000 or flags & 0xF or questions != 1:  # a response, no error, 1 question
        return None
    name, offset = _name(message, 12)
    offset += 4  # type, class
    found: list[str] = []
    for _ in range(min(answers, MAX_ANSWERS)):
        _, offset = _name(message, offset)
        kind, klass, _, length = struct.unpack_from("!HHIH", message, offset)
        offset += 10
        if kind == 1 and klass == 1 and length == 4:
            found.append(".".join(str(b) for b in message[offset : offset + 4]))
        offset += length
    return DnsAnswer(name.lower(), tuple(found)) if found else None


def _name(message: bytes, offset: int) -> tuple[str, int]:
    """A (possibly compressed) name at `offset`, and the offset after it."""
    labels: list[str] = []
    end = None
    for _ in range(MAX_POINTERS):
        while True:
            length = message[offset]
            if length >= 0xC0:
                if end is None:
                    end = offset + 2
                offset = struct.unpack_from("!H", message, offset)[0] & 0x3FFF
                break
            if length == 0:
                return ".".join(labels), end if end is not None else offset + 1
            labels.append(message[offset + 1 : offset + 1 + length].decode("ascii"))
            offset += 1 + length
    raise ValueError("a DNS name with too many compression pointers")


class HostMatcher:
    """Which custom application a host name belongs to, by the applications' host patterns."""

    def __init__(self, patterns: Mapping[int, Iterable[str]]) -> None:
        self._suffixes = sorted(
            ((p.removeprefix("*.").lower(), app_id) for app_id, ps in patterns.items() for p in ps),
            key=lambda item: -len(item[0]),
        )  # fmt: skip  (the longest, most specific pattern first)

    def __bool__(self) -> bool:
        return bool(self._suffixes)

    def match(self, name: str) -> int | None:
        for suffix, app_id in self._suffixes:
            if name == suffix or name.endswith("." + suffix):
                return app_id
        return None


def learnt_servers(answer: DnsAnswer) -> list[Server]:
    """The services (TLS, HTTP, QUIC) of each address the answer gives."""
    return [Server(a, proto, port) for a in answer.addresses for proto, port in WEB_SERVICES]
