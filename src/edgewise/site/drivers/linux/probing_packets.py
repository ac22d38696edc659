"""What a probe looks like on the wire (pure): ICMP echo requests and UDP echo payloads, and
how an answer is recognised as one of ours.

Every probe carries a 4-byte token of its link and its 16-bit sequence number. ICMP: the echo
identifier is the token's low 16 bits (a datagram ICMP socket replaces it with its own, and
the kernel then hands it only its own replies; a raw socket sees every ICMP packet of the
namespace, so the token in the payload tells the links apart). UDP: the payload is
magic + token + sequence, returned as is by an echo responder (probing_echo.py).
"""

from __future__ import annotations

import struct

MAGIC = b"EWpr"
PAYLOAD = struct.Struct("!4sIH")  # magic, link token, sequence
ICMP_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def udp_payload(token: int, sequence: int) -> bytes:
    return PAYLOAD.pack(MAGIC, token, sequence)


def icmp_request(token: int, sequence: int) -> bytes:
    body = udp_payload(token, sequence)
    header = ICMP_HEADER.pack(ICMP_ECHO_REQUEST, 0, 0, token & 0xFFFF, sequence)
    total = checksum(header + body)
    return ICMP_HEADER.pack(ICMP_ECHO_REQUEST, 0, total, token & 0xFFFF, sequence) + body


def udp_answer(data: bytes, token: int) -> int | None:
    """The sequence number of an echoed UDP probe of this link, else None."""
    if len(data) < PAYLOAD.size:
        return None
    magic, found, sequence = PAYLOAD.unpack_from(data)
    return int(sequence) if magic == MAGIC and found == token else None


def icmp_answer(data: bytes, token: int, *, with_ip_header: bool) -> int | None:
    """The sequence number of an echo reply to a probe of this link, else None. A raw socket
    reads the IP header too; a datagram socket reads from the ICMP header on."""
    if with_ip_header:
        if len(data) < 20:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < ICMP_HEADER.size or data[0] != ICMP_ECHO_REPLY:
        return None
    return udp_answer(data[ICMP_HEADER.size :], token)
