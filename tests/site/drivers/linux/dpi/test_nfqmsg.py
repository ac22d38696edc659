"""nfnetlink_queue messages: what the classifier sends matches the kernel's layouts, what the
kernel sends parses, and a flow's key is the same in both directions."""

from __future__ import annotations

import struct

import pytest

from edgewise.site.drivers.linux.dpi import nfqmsg
from tests.site.drivers.linux.dpi import packets as pk


def nlmsg(kind: int, body: bytes, seq: int = 0) -> bytes:
    return struct.pack("=IHHII", 16 + len(body), kind, 0, seq, 0) + body


def kernel_packet(packet_id: int, payload: bytes, mark: int | None = None) -> bytes:
    body = struct.pack("!BBH", 2, 0, 7)
    body += nfqmsg.attr(nfqmsg.NFQA_PACKET_HDR, struct.pack("!IHB", packet_id, 0x0800, 2))
    if mark is not None:
        body += nfqmsg.attr(nfqmsg.NFQA_MARK, struct.pack("!I", mark))
    body += nfqmsg.attr(nfqmsg.NFQA_PAYLOAD, payload)
    return nlmsg(nfqmsg.NFNL_SUBSYS_QUEUE << 8 | nfqmsg.NFQNL_MSG_PACKET, body)


def test_a_plain_verdict_accepts() -> None:
    data = nfqmsg.verdict(7, 42)
    length, kind, flags, _, _ = struct.unpack_from("=IHHII", data)
    assert (length, kind, flags) == (len(data), 0x0301, nfqmsg.NLM_F_REQUEST)
    assert struct.unpack_from("!BBH", data, 16) == (0, 0, 7)
    attrs = dict(nfqmsg.attributes(data, 20))
    assert attrs == {nfqmsg.NFQA_VERDICT_HDR: struct.pack("!II", nfqmsg.NF_ACCEPT, 42)}


def test_a_marking_verdict_repeats_the_hook_with_the_new_packet_mark() -> None:
    attrs = dict(nfqmsg.attributes(nfqmsg.verdict(7, 42, mark=0x010E0000), 20))
    assert attrs[nfqmsg.NFQA_VERDICT_HDR] == struct.pack("!II", nfqmsg.NF_REPEAT, 42)
    assert attrs[nfqmsg.NFQA_MARK] == struct.pack("!I", 0x010E0000)


def test_the_config_binds_ipv4_copies_packets_and_fails_open() -> None:
    attrs = dict(nfqmsg.attributes(nfqmsg.bind(7, 1), 20))
    assert attrs[nfqmsg.NFQA_CFG_CMD] == struct.pack("!BxH", nfqmsg.NFQNL_CFG_CMD_BIND, 2)
    attrs = dict(nfqmsg.attributes(nfqmsg.configure(7, 2, copy_range=2048, max_len=4096), 20))
    assert attrs[nfqmsg.NFQA_CFG_PARAMS] == struct.pack("!IB", 2048, nfqmsg.NFQNL_COPY_PACKET)
    assert attrs[nfqmsg.NFQA_CFG_FLAGS] == struct.pack("!I", nfqmsg.NFQA_CFG_F_FAIL_OPEN)
    assert attrs[nfqmsg.NFQA_CFG_QUEUE_MAXLEN] == struct.pack("!I", 4096)


def test_queued_packets_and_acks_parse_from_one_datagram() -> None:
    packet = pk.dns_flow("example.org")[0]
    data = kernel_packet(5, packet, mark=0x1234) + kernel_packet(6, packet)
    data += nlmsg(nfqmsg.NLMSG_ERROR, struct.pack("=i", -95) + b"\0" * 16, seq=3)
    got = list(nfqmsg.parse(data))
    assert got == [
        nfqmsg.QueuedPacket(5, packet, 0x1234),
        nfqmsg.QueuedPacket(6, packet, 0),
        nfqmsg.NetlinkAck(3, -95),
    ]


def test_a_truncated_message_is_an_error_not_a_crash() -> None:
    data = kernel_packet(5, b"x" * 40)
    with pytest.raises(nfqmsg.MessageError):
        list(nfqmsg.parse(data[:-8]))  # its header says 8 bytes more


def test_a_flow_has_one_key_in_both_directions() -> None:
    packets = pk.TcpExchange(40000, 443).send(b"hello", from_server=True).packets
    keys = {nfqmsg.packet_key(p) for p in packets}
    assert keys == {nfqmsg.FlowKey(6, pk.CLIENT, 40000, pk.SERVER, 443)}
    assert nfqmsg.packet_key(b"\x60" + b"\0" * 39) is None  # IPv6 is not ours


def test_only_a_syn_opens_a_connection() -> None:
    syn, syn_ack, ack, data = pk.http_flow("example.org")
    assert [nfqmsg.opens_connection(p) for p in (syn, syn_ack, ack, data)] == [
        True, False, False, False,
    ]  # fmt: skip
    assert not nfqmsg.opens_connection(pk.dns_flow("example.org")[0])
