"""DNS-based learning: DNS answers parsed (compressed names, several records, malformed ones
refused), host names matched to custom applications as nDPI matches them, and the loop caching
the answered addresses of a custom host without touching the answer."""

from __future__ import annotations

import struct
import threading
import time
from typing import Any

import pytest

from edgewise.model.applications import Applications
from edgewise.site.drivers.linux.dpi.cache import CacheWriter
from edgewise.site.drivers.linux.dpi.classifier import Classifier
from edgewise.site.drivers.linux.dpi.dnslearn import DnsAnswer, HostMatcher, dns_answer
from edgewise.site.drivers.linux.dpi.hooks import HookRules
from edgewise.site.drivers.linux.dpi.nfqmsg import QueuedPacket
from edgewise.site.drivers.linux.dpi.program import Options, Session
from tests.site.drivers.linux.dpi import packets as pk
from tests.site.drivers.linux.dpi.test_program import FakeQueue, _ndpi_missing


def response(name: str, addresses: list[str], *, cname: bool = False, rcode: int = 0) -> bytes:
    """A DNS response to pk.dns_query(name), its records naming the question by pointer."""
    query = pk.dns_query(name)
    records = b""
    if cname:  # a CNAME first (skipped), then the A records
        target = b"\x03cdn\xc0\x0c"
        records += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(target)) + target
    for address in addresses:
        records += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4)
        records += bytes(int(b) for b in address.split("."))
    count = len(addresses) + cname
    header = query[:2] + struct.pack("!HHHHH", 0x8180 | rcode, 1, count, 0, 0)
    message = header + query[12:] + records
    return pk.ipv4(pk.SERVER, pk.CLIENT, 17, pk.udp(53, 40004, message))


def test_an_answer_gives_its_name_and_addresses() -> None:
    found = dns_answer(response("App.SaaS.example", ["192.0.2.10", "192.0.2.11"], cname=True))
    assert found == DnsAnswer("app.saas.example", ("192.0.2.10", "192.0.2.11"))


@pytest.mark.parametrize(
    "packet",
    [
        pk.dns_flow("a.saas.example")[0],  # a query, not an answer
        response("a.saas.example", []),  # no address
        response("a.saas.example", ["192.0.2.10"], rcode=3),  # NXDOMAIN
        response("a.saas.example", ["192.0.2.10"])[:-6],  # cut short
        pk.ipv4(
            pk.SERVER,
            pk.CLIENT,
            17,
            pk.udp(53, 4000, b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c"),
        ),  # a loop
        pk.tls_flow("a.saas.example")[0],
    ],
)
def test_anything_else_is_no_answer(packet: bytes) -> None:
    assert dns_answer(packet) is None


def test_host_patterns_match_as_ndpi_matches_them() -> None:
    hosts = HostMatcher({130: ["*.saas.example"], 140: ["eu.saas.example"], 150: ["erp.example"]})
    assert hosts.match("saas.example") == 130
    assert hosts.match("app.saas.example") == 130
    assert hosts.match("x.eu.saas.example") == 140  # the most specific pattern
    assert hosts.match("erp.example") == 150
    assert hosts.match("notsaas.example") is None
    assert hosts.match("myerp.example") is None


def test_the_hook_rules_queue_dns_answers_last_when_learning() -> None:
    rules = HookRules(0, 10, dns=True).chain_rules()
    assert " ".join(rules[-1]) == "-p udp --sport 53 -j NFQUEUE --queue-num 0 --queue-bypass"
    assert len(HookRules(0, 10).chain_rules()) == len(rules) - 1


@pytest.mark.skipif(_ndpi_missing() is not None, reason=_ndpi_missing() or "")
def test_the_loop_caches_a_custom_host_s_answered_addresses() -> None:
    from edgewise.site.drivers.linux.dpi import ndpi

    applications = Applications.build({"saas": ("*.saas.example",)})
    saas = applications.by_name("saas")
    assert saas is not None
    detector = ndpi.Detector([(a.ndpi_names[0], a.hosts) for a in applications.custom()])
    classifier = Classifier(detector, applications, time.monotonic)
    written: list[dict[str, Any]] = []

    def nft(batch: dict[str, Any]) -> tuple[int, Any, str]:
        written.append(batch)
        return 0, "", ""

    cache = CacheWriter(nft)
    stop = threading.Event()
    query = pk.dns_flow("app.saas.example")[0]
    batches = [[QueuedPacket(1, query)], [QueuedPacket(2, response("app.saas.example",
               ["192.0.2.10"]))], [QueuedPacket(3, response("www.other.example",
               ["192.0.2.20"], ))]]  # fmt: skip
    queue = FakeQueue(batches, stop)
    session = Session(queue, classifier, Options(), detector.version, cache,
                      HostMatcher({saas.app_id: saas.hosts}))  # fmt: skip
    try:
        session.serve(stop)
    finally:
        classifier.close()
        detector.close()
    assert [v[0] for v in queue.verdicts] == [1, 2, 3]
    assert [v[1] for v in queue.verdicts[1:]] == [None, None]  # answers pass untouched
    learnt = [b["nftables"][0]["add"]["element"]["elem"][0] for b in written]
    assert [(e[0]["elem"]["val"]["concat"], e[1]) for e in learnt] == [
        ([pk.SERVER, "udp", 53], 1 << 16),  # the query itself: the DNS server is dns
        (["192.0.2.10", "tcp", 443], saas.app_id << 16),
        (["192.0.2.10", "tcp", 80], saas.app_id << 16),
        (["192.0.2.10", "udp", 443], saas.app_id << 16),
    ]
    assert session.status()["dns_learnt"] == 1
