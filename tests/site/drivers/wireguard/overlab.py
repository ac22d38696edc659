"""A throwaway lab for the overlay engine's tests and benchmark: two sites, each with two WAN
links through two ISP namespaces and a LAN host behind it; plus hand-configured WireGuard peers
(`wg` + wireguard-go, no Edgewise code) and small traffic programs.

Every namespace is named with the lab's random prefix and deleted by `close`, every
wireguard-go the lab starts is ended by its pid. Hosts are set up with `ip` (tests may shell
out; the engine may not).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

from edgewise.site.drivers.linux.wireguard import Endpoint, OverlayDevice, OverlayPeer
from edgewise.site.drivers.linux.wireguard.keys import ensure_key
from tests.site.drivers.netlab import NETNS, can_build_namespaces, in_ns, ip

LINKS = ("a", "b")  # two WAN links per site, through ISP namespaces "ispa" and "ispb"
MARKS = {"a": 0x65, "b": 0x66}  # the fwmark that selects each link's routing table
WAN_TABLES = {"a": 101, "b": 102}
DEVICE_TABLES = {"a": 201, "b": 202}  # where each overlay device routes its peers' prefixes
PORTS = {"a": 51801, "b": 51802}
SITES = (1, 2)


def overlay_reason() -> str | None:
    """Why the overlay's real tests cannot run here, or None when they can."""
    reason = can_build_namespaces()
    if reason is not None:
        return reason
    for program in ("wireguard-go", "wg"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian wireguard-go, wireguard-tools)"
    if not Path("/dev/net/tun").exists():
        return "/dev/net/tun is missing: wireguard-go cannot make its interface"
    return None


def veth(ns_a: str, name_a: str, address_a: str, ns_b: str, name_b: str, address_b: str) -> None:
    ip("-n", ns_a, "link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", ns_b)
    for namespace, name, address in ((ns_a, name_a, address_a), (ns_b, name_b, address_b)):
        ip("-n", namespace, "addr", "add", address, "dev", name)
        ip("-n", namespace, "link", "set", name, "up")


def wan_address(site: int, link: str) -> str:
    """The site's address on its link through ISP `link` (the ISP's is .1 of the /30)."""
    return f"10.10{LINKS.index(link) + 1}.{site}.2"


def lan_prefix(site: int) -> IPv4Network:
    return IPv4Network(f"192.168.{site}.0/24")


def lan_host(site: int) -> str:
    return f"192.168.{site}.10"


def inner(site: int, link: str) -> IPv4Interface:
    """The overlay device's inner address: a /31 per link, site 1 the even end."""
    return IPv4Interface(f"10.255.{LINKS.index(link) + 1}.{site - 1}/31")


@dataclass
class HandPeer:
    """A WireGuard peer configured by hand: wireguard-go in the foreground, `wg`, `ip`."""

    namespace: str
    name: str
    key_file: Path
    proc: subprocess.Popen[bytes]

    @property
    def public_key(self) -> str:
        return wg_pubkey(self.key_file)


def wg_pubkey(key_file: Path) -> str:
    """The public key of a key file, as `wg pubkey` computes it."""
    done = subprocess.run(
        ["wg", "pubkey"], input=key_file.read_text(), capture_output=True, text=True,
        timeout=10, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@dataclass
class OverlayLab:
    """Namespaces: <p>-ispa, <p>-ispb (routers), <p>-s1, <p>-s2 (sites: WAN links, overlay
    devices), <p>-l1, <p>-l2 (a LAN host each)."""

    prefix: str = field(default_factory=lambda: "w" + secrets.token_hex(2))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def ns(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def site(self, number: int) -> str:
        return self.ns(f"s{number}")

    def lan(self, number: int) -> str:
        return self.ns(f"l{number}")

    def device_name(self, site: int, link: str) -> str:
        """Unique on the host: wireguard-go's socket path is shared by every namespace."""
        return f"{self.prefix}s{site}{link}"

    def start(self) -> None:
        for name in ("ispa", "ispb", "s1", "s2", "l1", "l2"):
            ip("netns", "add", self.ns(name))
            ip("-n", self.ns(name), "link", "set", "lo", "up")
            for key in ("all", "default"):  # IPv4 only: no IPv6 link-local chatter on the wire
                in_ns(self.ns(name), "sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1")
        for name in ("ispa", "ispb", "s1", "s2"):
            in_ns(self.ns(name), "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for site in SITES:
            here = self.site(site)
            for key in ("all", "default"):
                # the peers' WAN addresses are routed only in the fwmark-selected tables: a
                # reverse-path check (unmarked lookup in main) would drop their packets
                in_ns(here, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
                in_ns(here, "sysctl", "-qw", f"net.ipv4.conf.{key}.ignore_routes_with_linkdown=1")
            for link in LINKS:
                wan = wan_address(site, link)
                gateway = wan.rsplit(".", 1)[0] + ".1"
                veth(here, f"wan{link}", f"{wan}/30", self.ns(f"isp{link}"), f"site{site}",
                     f"{gateway}/30")  # fmt: skip
                table = str(WAN_TABLES[link])
                ip("-n", here, "route", "add", "default", "via", gateway, "dev", f"wan{link}",
                   "table", table)  # fmt: skip
                ip("-n", here, "route", "add", "unreachable", "default", "metric", "4000000000",
                   "table", table)  # fmt: skip
                ip("-n", here, "rule", "add", "fwmark", hex(MARKS[link]), "lookup", table,
                   "priority", "100")  # fmt: skip
            veth(self.lan(site), "eth0", f"{lan_host(site)}/24", here, "lan0",
                 f"192.168.{site}.1/24")  # fmt: skip
            ip("-n", self.lan(site), "route", "add", "default", "via", f"192.168.{site}.1")

    def device(
        self, site: int, link: str, run_dir: Path, key_file: Path | None = None
    ) -> OverlayDevice:
        """Site `site`'s overlay device over `link` towards the other site's on the same link."""
        other = 3 - site
        peer_key = ensure_key(run_dir / f"s{other}{link}.key")  # what the central hands over
        own = key_file or run_dir / f"s{site}{link}.key"
        ensure_key(own)  # made at the site, its public key reported
        return OverlayDevice(
            name=self.device_name(site, link),
            namespace=self.site(site),
            private_key_file=own,
            listen_port=PORTS[link],
            fwmark=MARKS[link],
            address=inner(site, link),
            peers=(
                OverlayPeer(
                    public_key=peer_key,
                    endpoint=Endpoint.parse(f"{wan_address(other, link)}:{PORTS[link]}"),
                    allowed=(lan_prefix(other), inner(other, link).network),
                    keepalive=1,
                ),
            ),
            table=DEVICE_TABLES[link],
        )

    def hand_peer(self, namespace: str, name: str, key_file: Path, settings: list[str]) -> HandPeer:
        """wireguard-go started by hand in `namespace`, configured with `wg set NAME ...`."""
        env = {**os.environ, "WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "error"}
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, "wireguard-go", "-f", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 5
        while not Path(f"/var/run/wireguard/{name}.sock").exists():
            assert time.monotonic() < deadline, f"wireguard-go {name} made no socket"
            time.sleep(0.02)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(in_ns(namespace, "wg", "genkey") + "\n")
            key_file.chmod(0o600)
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, "wg", "set", name, "private-key", str(key_file),
             *settings],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return HandPeer(namespace, name, key_file, proc)

    def namespaces(self) -> list[str]:
        return sorted(p.name for p in NETNS.iterdir() if p.name.startswith(f"{self.prefix}-"))

    def close(self) -> None:
        for proc in self.procs:
            end(proc)
        for name in self.namespaces():
            ip("netns", "del", name, check=False)


def end(proc: subprocess.Popen[bytes]) -> None:
    """Ends a process the lab started, by its pid (`ip netns exec` execs, so it is the program)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)


def set_carrier(lab: OverlayLab, site: int, link: str, *, up: bool) -> None:
    """Takes the carrier of the site's link away (or back): its far end at the ISP goes down."""
    ip("-n", lab.ns(f"isp{link}"), "link", "set", f"site{site}", "up" if up else "down")


@contextlib.contextmanager
def running(argv: list[str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()  # tcpdump ends its file
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.communicate(timeout=5)


@contextlib.contextmanager
def capturing(namespace: str, interface: str, pcap: Path) -> Iterator[None]:
    """tcpdump on `interface` of `namespace` into `pcap` while the block runs (every packet
    written at once: --immediate-mode, or the kernel's ring holds them back)."""
    argv = ["ip", "netns", "exec", namespace, "tcpdump", "--immediate-mode", "-n", "-U",
            "-Z", "root", "-i", interface, "-w", str(pcap)]  # fmt: skip
    with running(argv) as dump:
        assert dump.stderr is not None
        assert "listening on" in dump.stderr.readline()
        yield
        time.sleep(0.2)


def pcap_ipv4(pcap: Path) -> list[bytes]:
    """The IPv4 packets of an Ethernet capture (tcpdump -w), each from its IP header on."""
    data = pcap.read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    order = "<" if magic == 0xA1B2C3D4 else ">"
    packets, offset = [], 24
    while offset + 16 <= len(data):
        captured = struct.unpack_from(order + "IIII", data, offset)[2]
        frame = data[offset + 16 : offset + 16 + captured]
        if frame[12:14] == b"\x08\x00":
            packets.append(frame[14:])
        offset += 16 + captured
    return packets


def wireguard_message(packet: bytes) -> tuple[int, int, int] | None:
    """(source port, destination port, message type) of a WireGuard message in UDP; None for
    anything else. A WireGuard message starts with its type (1 initiation, 2 response, 3 cookie,
    4 data) and three zero bytes."""
    header = (packet[0] & 0x0F) * 4
    if packet[9] != 17:  # not UDP
        return None
    source, destination = struct.unpack_from("!HH", packet, header)
    payload = packet[header + 8 :]
    if len(payload) < 4 or payload[0] not in (1, 2, 3, 4) or payload[1:4] != b"\0\0\0":
        return None
    return source, destination, payload[0]


def python_in(namespace: str, program: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, sys.executable, "-c", program, *args]


def output(argv: list[str], timeout: float = 60) -> str:
    """What a program printed (it must succeed)."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-500:] + done.stderr[-1000:]
    return done.stdout.strip()
