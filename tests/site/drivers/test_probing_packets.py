"""Probe packets and carrier messages, decoded without a kernel: our answers are recognised,
anything else (another link's, another program's, a request) is not."""

from __future__ import annotations

import struct

from edgewise.site.drivers.linux.carrier import carrier_changes
from edgewise.site.drivers.linux.drift import IFF_LOWER_UP, IFF_UP, RTM_DELLINK, RTM_NEWLINK
from edgewise.site.drivers.linux.probing_packets import (
    checksum,
    icmp_answer,
    icmp_request,
    udp_answer,
    udp_payload,
)
from edgewise.site.drivers.linux.rtcodec import IFINFO, IFLA_IFNAME, attr_str, message

TOKEN = 0x1234ABCD


def reply_of(request: bytes) -> bytes:
    """The echo reply a host sends for `request` (type 0, checksum made anew)."""
    body = b"\0\0\0\0" + request[4:]
    total = checksum(body)
    return body[:2] + struct.pack("!H", total) + body[4:]


def test_an_icmp_request_is_valid_and_its_reply_recognised() -> None:
    request = icmp_request(TOKEN, 513)
    assert request[0] == 8
    assert checksum(request) == 0  # a valid checksum sums to zero
    assert struct.unpack("!HH", request[4:8]) == (TOKEN & 0xFFFF, 513)
    reply = reply_of(request)
    assert icmp_answer(reply, TOKEN, with_ip_header=False) == 513
    ip_header = bytes([0x45]) + bytes(19)
    assert icmp_answer(ip_header + reply, TOKEN, with_ip_header=True) == 513


def test_foreign_icmp_is_not_an_answer() -> None:
    request = icmp_request(TOKEN, 7)
    assert icmp_answer(request, TOKEN, with_ip_header=False) is None  # a request, not a reply
    assert icmp_answer(reply_of(icmp_request(TOKEN + 1, 7)), TOKEN, with_ip_header=False) is None
    assert icmp_answer(b"\0\0", TOKEN, with_ip_header=False) is None
    assert icmp_answer(b"\x45", TOKEN, with_ip_header=True) is None


def test_udp_payloads() -> None:
    assert udp_answer(udp_payload(TOKEN, 65535), TOKEN) == 65535
    assert udp_answer(udp_payload(TOKEN, 1), TOKEN + 1) is None
    assert udp_answer(b"EWpr", TOKEN) is None
    assert udp_answer(b"x" * 10, TOKEN) is None


def link_message(kind: int, name: str, flags: int) -> bytes:
    body = IFINFO.pack(0, 1, 7, flags, 0) + attr_str(IFLA_IFNAME, name)
    return message(kind, 0, 0, body)


def test_carrier_from_link_messages() -> None:
    data = (
        link_message(RTM_NEWLINK, "wan0", IFF_UP | IFF_LOWER_UP)
        + link_message(RTM_NEWLINK, "wan1", IFF_UP)  # no carrier
        + link_message(RTM_NEWLINK, "wan2", IFF_LOWER_UP)  # set down by hand
        + link_message(RTM_DELLINK, "wan3", IFF_UP | IFF_LOWER_UP)  # gone
        + message(3, 0, 0, b"")  # NLMSG_DONE
    )
    assert list(carrier_changes(data)) == [
        ("wan0", True),
        ("wan1", False),
        ("wan2", False),
        ("wan3", False),
    ]
