"""A lab for the WAN link prober's real-kernel tests and benchmark: a site's WAN namespace with
two links (veths) to two "ISP" namespaces, both reaching an "internet" namespace that holds the
probe targets; per-link routing tables (the link's default, and an `unreachable default` unless
told not to), `ip rule fwmark -> table`, and a main table that prefers link a then b.

Faults are set on the far side (the ISP namespace), through libnftables in a thread switched
into it (in-process: a fault takes effect within a millisecond of the call, so detection times
measured from the call are not padded by a process start): a silent blackout (drop, carrier
up), random loss (`numgen random mod 100 < N drop`), carrier loss (`ip link set down`).
Everything is named with a random prefix and deleted by `close`, even after a failure.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Any

from tests.site.drivers.netlab import enter_namespace, in_ns, ip

TARGET_A = IPv4Address("192.0.2.10")
TARGET_B = IPv4Address("192.0.2.20")
ECHO_PORT = 7007
UNREACHABLE_METRIC = "4278198272"  # the highest metric: the link's own default wins while it lives
FAULT_TABLE = "ewprobefault"


@dataclass(frozen=True)
class LabLink:
    name: str  # the link, and its interface in the WAN namespace
    isp: str  # the far side's namespace
    fwmark: int
    table: int
    address: str  # the WAN side's address
    gateway: str  # the ISP side's address


@dataclass
class ProbeLab:
    prefix: str = field(default_factory=lambda: "p" + secrets.token_hex(2))
    unreachable_default: bool = True
    same_index: bool = False  # each link's veth ends share an ifindex (carrier news batched)
    _servers: list[subprocess.Popen[str]] = field(default_factory=list)
    _pools: dict[str, ThreadPoolExecutor] = field(default_factory=dict)
    _nft: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.wan = f"{self.prefix}-wan"
        self.internet = f"{self.prefix}-net"
        self.a = LabLink("wa", f"{self.prefix}-ispa", 0x101, 101, "10.91.1.1", "10.91.1.2")
        self.b = LabLink("wb", f"{self.prefix}-ispb", 0x102, 102, "10.91.2.1", "10.91.2.2")

    @property
    def namespaces(self) -> list[str]:
        return [self.wan, self.a.isp, self.b.isp, self.internet]

    def start(self) -> None:
        for namespace in self.namespaces:
            ip("netns", "add", namespace)
            ip("-n", namespace, "link", "set", "lo", "up")
        in_ns(self.wan, "sysctl", "-qw", "net.ipv4.conf.all.ignore_routes_with_linkdown=1")
        ip("-n", self.internet, "addr", "add", f"{TARGET_A}/32", "dev", "lo")
        ip("-n", self.internet, "addr", "add", f"{TARGET_B}/32", "dev", "lo")
        for number, link in ((1, self.a), (2, self.b)):
            in_ns(link.isp, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            # a veth's carrier change is announced at once when its ifindex differs from its
            # peer's (the kernel deems it urgent); with the same index, as for a physical NIC,
            # linkwatch batches it (up to 1 s late)
            index, peer = str(10 + number), str((10 if self.same_index else 20) + number)
            ip("-n", self.wan, "link", "add", link.name, "index", index, "type", "veth",
               "peer", "name", "eth0", "index", peer, "netns", link.isp)  # fmt: skip
            ip("-n", self.wan, "addr", "add", f"{link.address}/24", "dev", link.name)
            ip("-n", link.isp, "addr", "add", f"{link.gateway}/24", "dev", "eth0")
            ip("-n", link.isp, "link", "add", "up0", "type", "veth", "peer", "name",
               f"i{link.name}", "netns", self.internet)  # fmt: skip
            ip("-n", link.isp, "addr", "add", f"10.92.{number}.1/24", "dev", "up0")
            ip("-n", self.internet, "addr", "add", f"10.92.{number}.2/24", "dev", f"i{link.name}")
            ends = [(self.wan, link.name), (link.isp, "eth0"), (link.isp, "up0")]
            for namespace, name in [*ends, (self.internet, f"i{link.name}")]:
                ip("-n", namespace, "link", "set", name, "up")
            ip("-n", link.isp, "route", "add", "default", "via", f"10.92.{number}.2")
            ip("-n", self.internet, "route", "add", f"10.91.{number}.0/24",
               "via", f"10.92.{number}.1")  # fmt: skip
            table = str(link.table)
            ip("-n", self.wan, "route", "add", "default", "via", link.gateway, "table", table)
            if self.unreachable_default:
                ip("-n", self.wan, "route", "add", "unreachable", "default",
                   "metric", UNREACHABLE_METRIC, "table", table)  # fmt: skip
            ip("-n", self.wan, "rule", "add", "fwmark", hex(link.fwmark), "lookup", table,
               "pref", str(1000 + number))  # fmt: skip
            ip("-n", self.wan, "route", "add", "default", "via", link.gateway,
               "metric", str(10 * number))  # fmt: skip

    def serve_udp_echo(self) -> None:
        """The UDP echo responder Edgewise ships, on the targets' namespace."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.internet, sys.executable, "-m",
             "edgewise.site.drivers.linux.probing_echo", "--port", str(ECHO_PORT)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self._servers.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"

    # faults on the far side

    def nft(self, namespace: str, command: str) -> None:
        """Runs an nft command in `namespace` through libnftables, in-process."""
        pool = self._pools.get(namespace)
        if pool is None:
            pool = self._pools[namespace] = ThreadPoolExecutor(
                1, initializer=enter_namespace, initargs=(namespace,)
            )
        pool.submit(self._nft_call, namespace, command).result()

    def _nft_call(self, namespace: str, command: str) -> None:
        import nftables  # type: ignore[import-untyped]  # Debian's, linked into the venv

        if namespace not in self._nft:
            self._nft[namespace] = nftables.Nftables()  # made inside: it talks to `namespace`
        rc, _, error = self._nft[namespace].cmd(command)
        if rc != 0:
            raise RuntimeError(f"nft in {namespace}: {command}: {error}")

    def fault(self, link: LabLink, rule: str) -> None:
        """Replaces the far side's fault with `rule` on what comes from the site (requests),
        in one transaction."""
        self.nft(
            link.isp,
            f"add table inet {FAULT_TABLE}; delete table inet {FAULT_TABLE}; "
            f"add table inet {FAULT_TABLE}; add chain inet {FAULT_TABLE} forward "
            f"{{ type filter hook forward priority -10; }}; "
            f'add rule inet {FAULT_TABLE} forward iifname "eth0" {rule}',
        )

    def blackout(self, link: LabLink) -> None:
        self.fault(link, "drop")

    def loss(self, link: LabLink, percent: int) -> None:
        self.fault(link, f"numgen random mod 100 < {percent} drop")

    def clear_fault(self, link: LabLink) -> None:
        self.nft(link.isp, f"add table inet {FAULT_TABLE}; delete table inet {FAULT_TABLE}")

    def carrier(self, link: LabLink, *, up: bool) -> None:
        ip("-n", link.isp, "link", "set", "eth0", "up" if up else "down")

    def count_probes(self, link: LabLink, target: IPv4Address) -> None:
        """Counts, at `link`'s ISP, the packets from the site to `target` and back (`counted`)."""
        self.nft(
            link.isp,
            "add table inet ewprobecount; "
            "add chain inet ewprobecount up { type filter hook prerouting priority -300; }; "
            "add chain inet ewprobecount down { type filter hook postrouting priority 300; }; "
            f'add rule inet ewprobecount up iifname "eth0" ip daddr {target} counter; '
            f'add rule inet ewprobecount down oifname "eth0" ip saddr {target} counter',
        )

    def counted(self, link: LabLink) -> tuple[int, int, int, int]:
        """(packets, bytes) towards the target, then back, counted by `count_probes` so far
        (bytes of the IP packets)."""
        out = in_ns(link.isp, "nft", "list", "table", "inet", "ewprobecount")
        found = []
        for part in out.split("counter packets")[1:3]:
            words = part.split()
            found += [int(words[0]), int(words[2])]
        up_packets, up_bytes, down_packets, down_bytes = found
        return up_packets, up_bytes, down_packets, down_bytes

    def close(self) -> None:
        for proc in self._servers:
            proc.kill()
            proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._nft.clear()
        for namespace in self.namespaces:
            ip("netns", "del", namespace, check=False)


@contextlib.contextmanager
def probe_lab(*, unreachable_default: bool = True, same_index: bool = False) -> Iterator[ProbeLab]:
    lab = ProbeLab(unreachable_default=unreachable_default, same_index=same_index)
    try:
        lab.start()
        yield lab
    finally:
        lab.close()
