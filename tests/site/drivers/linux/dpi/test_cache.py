"""The application cache (pure and with a fake libnftables): the table the driver builds, the
element the classifier adds, once per server and application per half timeout."""

from __future__ import annotations

from typing import Any

from edgewise.site.drivers.linux.dpi.cache import (
    CACHE_PRIORITY,
    CACHE_SIZE,
    CACHE_TIMEOUT_S,
    CacheWriter,
    cache_batch,
    element_batch,
)
from edgewise.site.drivers.linux.dpi.nfqmsg import Server, destination
from tests.site.drivers.linux.dpi import packets as pk

SERVER = Server("192.0.2.10", 6, 443)


class FakeNft:
    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.refuse: str | None = None

    def __call__(self, batch: dict[str, Any]) -> tuple[int, Any, str]:
        if self.refuse is not None:
            return 1, "", self.refuse
        self.batches.append(batch)
        return 0, "", ""


class Clock:
    now = 10.0

    def __call__(self) -> float:
        return self.now


def test_the_table_is_a_bounded_map_with_timeouts_ahead_of_steering() -> None:
    batch = cache_batch(["inet0", "mpls0"])
    (added_map,) = [c["add"]["map"] for c in batch if "map" in c.get("add", {})]
    assert added_map["flags"] == ["timeout"]
    assert (added_map["size"], added_map["timeout"]) == (CACHE_SIZE, CACHE_TIMEOUT_S)
    assert added_map["type"] == ["ipv4_addr", "inet_proto", "inet_service"]
    (chain,) = [c["add"]["chain"] for c in batch if "chain" in c.get("add", {})]
    assert chain["hook"] == "prerouting"
    assert chain["prio"] == CACHE_PRIORITY < -150
    (rule,) = [c["add"]["rule"] for c in batch if "rule" in c.get("add", {})]
    left = [e["match"]["left"] for e in rule["expr"] if "match" in e]
    assert left[0] == {"meta": {"key": "iifname"}}  # not from the links (inbound, replies)
    assert {"ct": {"key": "state"}} in left
    assert rule["expr"][-1]["mangle"]["value"]["map"]["data"] == "@apps"
    assert not any("delete" in c for c in batch)  # the elements learnt stay across reloads


def test_an_element_holds_the_application_bits_without_the_decided_bit() -> None:
    (command,) = element_batch(SERVER, 0x85)
    (elem,) = command["add"]["element"]["elem"]
    assert elem == [{"elem": {"val": {"concat": ["192.0.2.10", "tcp", 443]},
                              "timeout": CACHE_TIMEOUT_S}}, 0x85 << 16]  # fmt: skip


def test_a_server_is_written_once_per_application_and_half_timeout() -> None:
    nft, clock = FakeNft(), Clock()
    cache = CacheWriter(nft, clock)
    assert cache.learn(SERVER, 5)
    assert not cache.learn(SERVER, 5)  # already there
    assert cache.learn(SERVER, 6)  # the service changed
    clock.now += CACHE_TIMEOUT_S / 2
    assert cache.learn(SERVER, 6)  # refreshed before the kernel's element expires
    assert not cache.learn(Server("192.0.2.10", 1, 0), 5)  # ICMP: no port to key by
    assert not cache.learn(Server("192.0.2.11", 6, 443), 0)  # unknown is not cached
    assert (len(nft.batches), cache.learnt) == (3, 3)


def test_a_refused_write_is_counted_and_told_not_raised() -> None:
    nft = FakeNft()
    nft.refuse = "Error: No such file or directory; did you mean table 'ew_steer'?"
    cache = CacheWriter(nft, Clock())
    assert not cache.learn(SERVER, 5)
    assert cache.snapshot() == {"cache_learnt": 0, "cache_errors": 1,
                                "cache_last_error": nft.refuse}  # fmt: skip


def test_the_server_is_the_first_packet_s_destination() -> None:
    syn, synack = pk.tls_flow("a.example")[:2]
    assert destination(syn) == Server(pk.SERVER, 6, 443)
    assert destination(synack) == Server(pk.CLIENT, 6, 40001)
    assert destination(b"\x45" + b"\0" * 8 + b"\x01" + b"\0" * 10) is None  # ICMP
