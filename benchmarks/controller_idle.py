"""One real site-controller process, idle and connected: its memory and its bytes on the wire.

Usage: python benchmarks/controller_idle.py [--idle 180] [--warmup 20] [--loopback]
                                            [--entry slim|cli] [--driver sim|linux]

A fresh central (child process, SQLite, the production long-poll hold of 30-60 s) and one
site-controller process, enrolled, holding a two-VNF service (firewall, NAT): by default the
slim entry a site runs (`python -m edgewise.site run`), with --entry cli the same controller
under the whole command line (`edgewise site-controller run`). With --driver sim (the default)
the service is simulated; with --driver linux (root) it is built for real — two VNF namespaces,
veth links, nftables rulesets — between a LAN-side and a WAN-side namespace made for the run
(`ewbi....l`, `ewbi....w`; everything the site builds carries the prefix `bi....`), and the
controller's drift watch and timed reconcile passes run against the kernel while it idles.
After a warm-up (first poll, first status report) it sits idle for `--idle` seconds. Measured:
its VmRSS and VmHWM (/proc), and the bytes both ways between it and the central per minute.

Bytes are counted on the wire: the controller runs in its own network namespace (`ewbi` +
4 hex digits), joined to the host by a veth pair with addresses from 10.214.x.y/30; the central's
southbound listener binds the host end's address, and the host end's rx/tx byte counters
(Ethernet frames: TLS, TCP/IP headers, ACKs and ARP included) are read before and after the idle
period. Meanwhile a packet socket on that end sorts the same frames into Ethernet/IP/TCP
headers, TLS record overhead (5 B header, 16 B AEAD tag and 1 B content type per TLS 1.3
record) and the HTTP bytes inside, per poll cycle (one request record from the site each).
Random holds make a short window's bytes per minute vary with how many polls fall into it, so
the cycle's bytes are also given at the mean hold. Without root (no namespaces), or with
--loopback, the controller talks through a TCP relay on loopback that counts the bytes it
relays (TLS records only: no TCP/IP headers or ACKs), and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_central import Central, proc_status

from edgewise.lab.central import free_port
from edgewise.lab.simulator.waves import change_document


@dataclass
class Wire:
    """Where the controller runs and how its traffic is counted."""

    method: str
    central_host: str
    prefix: list[str] = field(default_factory=list)  # `ip netns exec NS` or nothing
    interface: str | None = None  # the host end of the veth
    relay: Relay | None = None

    @property
    def counters(self) -> Path | None:
        return (
            None if self.interface is None else Path(f"/sys/class/net/{self.interface}/statistics")
        )

    def bytes(self) -> tuple[int, int]:
        """(to the central, from the central) so far."""
        if self.counters is not None:
            rx = int((self.counters / "rx_bytes").read_text())  # host end receives: from site
            tx = int((self.counters / "tx_bytes").read_text())
            return rx, tx
        assert self.relay is not None
        return self.relay.up, self.relay.down


class Relay:
    """A loopback TCP relay to the central's southbound port that counts what it relays."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.up = 0
        self.down = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the relay did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(
            pump(reader, upstream_writer, up=True), pump(upstream_reader, writer, up=False)
        )


ETH_P_ALL = 0x0003
ETHER_TYPES = {b"\x08\x06": "ARP", b"\x86\xdd": "IPv6", b"\x08\x00": "IPv4 not TCP"}
TLS13_RECORD_OVERHEAD = 5 + 16 + 1  # record header, AEAD tag, inner content type


@dataclass
class Flow:
    """One direction of the channel as seen on the wire."""

    frames: int = 0
    frame_bytes: int = 0
    header_bytes: int = 0  # Ethernet, IP and TCP headers (options included)
    pure_acks: int = 0
    records: int = 0  # TLS records (the first one of a capture is assumed to start a segment)
    record_overhead: int = 0
    http_bytes: int = 0


class Capture:
    """Frames on the host end of the veth (an AF_PACKET socket: root), sorted by direction and
    layer. TLS records are followed across segments; a capture begins on a record boundary,
    which holds on an idle channel (every segment is one whole record)."""

    def __init__(self, interface: str, central_port: int, within: float) -> None:
        self.central_port = central_port
        self.up, self.down = Flow(), Flow()
        self.other_bytes = 0  # the link's own frames: ARP, IPv6 neighbour discovery, ...
        self.other: Counter[str] = Counter()  # their bytes by EtherType
        self._left: dict[tuple[int, int], int] = {}  # bytes of a record still to come, per flow
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.bind((interface, 0))
        self._sock.settimeout(0.5)
        self._deadline = time.monotonic() + within
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                frame = self._sock.recv(65536)
            except TimeoutError:
                continue
            self._count(frame)

    def _count(self, frame: bytes) -> None:
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:  # IPv4, TCP
            self.other_bytes += len(frame)
            self.other[ETHER_TYPES.get(frame[12:14], frame[12:14].hex())] += len(frame)
            return
        ihl = (frame[14] & 0x0F) * 4
        total = int.from_bytes(frame[16:18], "big")
        tcp = 14 + ihl
        sport, dport = (
            int.from_bytes(frame[tcp : tcp + 2], "big"),
            int.from_bytes(frame[tcp + 2 : tcp + 4], "big"),
        )
        offset = (frame[tcp + 12] >> 4) * 4
        payload = frame[tcp + offset : 14 + total]
        flow = self.up if dport == self.central_port else self.down
        flow.frames += 1
        flow.frame_bytes += len(frame)
        flow.header_bytes += len(frame) - len(payload)
        if not payload:
            flow.pure_acks += 1
            return
        key = (sport, dport)
        at, left = 0, self._left.get(key, 0)
        while at < len(payload):
            if left:
                step = min(left, len(payload) - at)
                at, left = at + step, left - step
                continue
            if len(payload) - at < 5 or payload[at] not in {20, 21, 22, 23}:
                break  # not on a record boundary: count the rest as it is
            length = int.from_bytes(payload[at + 3 : at + 5], "big")
            flow.records += 1
            flow.record_overhead += TLS13_RECORD_OVERHEAD
            flow.http_bytes += max(0, length - (TLS13_RECORD_OVERHEAD - 5))
            at, left = at + 5, length
        self._left[key] = left

    def lines(self, elapsed: float, hold: tuple[float, float]) -> list[str]:
        both = [self.up, self.down]
        cycles = self.up.records
        total = sum(f.frame_bytes for f in both) + self.other_bytes
        lines = [
            (
                f"frames to the central: {self.up.frames} ({self.up.pure_acks} pure ACKs), "
                f"from it: {self.down.frames} ({self.down.pure_acks} pure ACKs); "
                f"the link's own frames: {self.other_bytes} B "
                f"({', '.join(f'{k} {v} B' for k, v in self.other.most_common()) or 'none'})"
            ),
            f"TLS records to the central: {self.up.records}, from it: {self.down.records}",
        ]
        if cycles:
            per = [
                ("Ethernet/IP/TCP headers", sum(f.header_bytes for f in both)),
                ("TLS record overhead", sum(f.record_overhead for f in both)),
                ("HTTP", sum(f.http_bytes for f in both)),
                ("ARP/ND", self.other_bytes),
            ]
            split = ", ".join(f"{name} {value / cycles:.0f}" for name, value in per)
            channel = total - self.other_bytes
            mean = sum(hold) / 2
            lines += [
                f"per poll cycle ({cycles} in {elapsed:.0f} s): {total / cycles:.0f} B = {split}",
                (
                    f"bytes per minute at the mean hold of {mean:.0f} s: "
                    f"{total / cycles * 60 / mean:.0f} B/min; at the shortest ({hold[0]:.0f} s): "
                    f"{total / cycles * 60 / hold[0]:.0f} B/min"
                ),
                (
                    f"the channel alone (TCP, no ARP/ND), at the mean hold: "
                    f"{channel / cycles * 60 / mean:.0f} B/min; at the shortest: "
                    f"{channel / cycles * 60 / hold[0]:.0f} B/min"
                ),
            ]
        return lines


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def taken_addresses() -> str:
    return subprocess.run(
        ["ip", "-o", "addr"], check=True, capture_output=True, text=True, timeout=30
    ).stdout


@contextlib.contextmanager
def namespace() -> Iterator[tuple[str, str, str]]:
    """A namespace `ewbiXXXX` joined by a veth pair: (name, host address, host end's name)."""
    name = f"ewbi{secrets.token_hex(2)}"
    taken = taken_addresses()
    for _ in range(100):
        third, block = secrets.randbelow(256), secrets.randbelow(64) * 4
        host, site = f"10.214.{third}.{block + 1}", f"10.214.{third}.{block + 2}"
        if f"{host}/" not in taken and f"{site}/" not in taken:
            break
    else:
        raise RuntimeError("no free 10.214.x.y/30 found")
    outer, inner = f"{name}h", f"{name}n"
    try:
        ip("netns", "add", name)
        ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", name)
        ip("addr", "add", f"{host}/30", "dev", outer)
        ip("link", "set", outer, "up")
        ip("-n", name, "addr", "add", f"{site}/30", "dev", inner)
        ip("-n", name, "link", "set", inner, "up")
        ip("-n", name, "link", "set", "lo", "up")
        yield name, host, outer
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", outer], check=False, capture_output=True, timeout=30)


def edgewise(prefix: list[str], *args: str) -> list[str]:
    return [*prefix, sys.executable, "-m", "edgewise", *args]


ENTRIES = {
    "slim": ["-m", "edgewise.site", "run"],  # what a site runs
    "cli": ["-m", "edgewise", "site-controller", "run"],  # the same under the whole CLI
}


def enroll_site(central: Central, wire: Wire, site_dir: Path, southbound: str) -> None:
    headers = {"Authorization": f"Bearer {central.token()}"}
    with httpx.Client(base_url=central.url, headers=headers, timeout=60) as api:
        tenant = api.post("api/v1/tenants", json={"name": "idle"}).raise_for_status().json()
        site = {"name": "idle-site", "kind": "on-premise", "tenantId": tenant["id"]}
        (created,) = (
            api.post("api/v1/sites/batch", json={"sites": [site]}).raise_for_status().json()
        )
        ca = api.get("api/v1/central").raise_for_status().json()["caCertificate"]
        (site_dir / "ca.pem").write_text(ca)
        subprocess.run(
            edgewise(wire.prefix, "site-controller", "enroll", "--central", southbound,
                     "--token", created["enrollmentToken"]["token"], "--data-dir", str(site_dir),
                     "--ca-file", str(site_dir / "ca.pem")),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        api.put(
            f"api/v1/sites/{created['id']}/desired-state", json=change_document(1)
        ).raise_for_status()


@contextlib.contextmanager
def data_plane(name: str) -> Iterator[list[str]]:
    """For --driver linux: the site's LAN- and WAN-side namespaces and the controller's options;
    afterwards every namespace the site built (prefix `bi....-`) and those two are removed."""
    prefix = "bi" + name.removeprefix("ewbi")
    lan, wan = f"{name}l", f"{name}w"
    try:
        for side in (lan, wan):
            ip("netns", "add", side)
            ip("-n", side, "link", "set", "lo", "up")
        yield ["--driver", "linux", "--site-prefix", prefix, "--lan-netns", lan,
               "--wan-netns", wan]  # fmt: skip
    finally:
        built = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                               check=False, timeout=30).stdout.split()  # fmt: skip
        for namespace in [n for n in built if n.startswith(f"{prefix}-")] + [lan, wan]:
            subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True,
                           timeout=30)  # fmt: skip


def vnf_namespaces(options: list[str]) -> int:
    """How many VNF namespaces the site (linux driver) has built."""
    if "--site-prefix" not in options:
        return 0
    prefix = options[options.index("--site-prefix") + 1]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True,
                            timeout=30).stdout.split()  # fmt: skip
    return sum(n.startswith(f"{prefix}-") for n in listed)


def measure(
    wire: Wire, central: Central, scratch: Path, args: argparse.Namespace, driver: list[str]
) -> list[str]:
    site_dir = scratch / "site"
    site_dir.mkdir()
    port = wire.relay.port if wire.relay else central.southbound_port
    enroll_site(central, wire, site_dir, f"https://{wire.central_host}:{port}")
    log = (scratch / "controller.log").open("w")
    command = [*wire.prefix, sys.executable, *ENTRIES[args.entry], "--data-dir", str(site_dir),
               "--first-poll-max-delay", str(args.first_poll_max_delay), *driver]  # fmt: skip
    controller = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    capture: Capture | None = None
    try:
        time.sleep(args.warmup)
        if controller.poll() is not None:
            raise RuntimeError(f"the controller exited; see {scratch / 'controller.log'}")
        if wire.interface is not None:
            capture = Capture(wire.interface, central.southbound_port, args.idle + 30)
            capture.start()
        built = vnf_namespaces(driver)
        if driver and built != 2:
            raise RuntimeError(f"the site built {built} of 2 VNF namespaces during the warm-up; "
                               f"see {scratch / 'controller.log'}")  # fmt: skip
        up0, down0 = wire.bytes()
        started = time.monotonic()
        peak_rss = 0
        while (elapsed := time.monotonic() - started) < args.idle:
            peak_rss = max(peak_rss, proc_status(controller.pid)["VmRSS"])
            time.sleep(min(1.0, args.idle - elapsed))
        up1, down1 = wire.bytes()
        status = proc_status(controller.pid)
        elapsed = time.monotonic() - started
    finally:
        if capture is not None:
            capture.stop()
        controller.terminate()
        try:
            controller.wait(timeout=15)
        except subprocess.TimeoutExpired:
            controller.kill()
            controller.wait(timeout=10)
        log.close()
    up, down = up1 - up0, down1 - down0
    per_minute = (up + down) * 60 / elapsed
    warnings = (scratch / "controller.log").read_text().count("WARNING")
    hold = [float(v) for v in os.environ.get("EDGEWISE_POLL_HOLD", "30,60").split(",")]
    return [
        f"controller process: python {' '.join(ENTRIES[args.entry])} ({args.entry} entry), "
        f"driver {args.driver}" + (f" ({built} VNF namespaces built)" if driver else ""),
        f"bytes counted by: {wire.method}",
        (
            f"idle period: {elapsed:.0f} s after a {args.warmup:.0f} s warm-up "
            f"(central poll hold {os.environ.get('EDGEWISE_POLL_HOLD', '30,60')} s)"
        ),
        (
            f"controller RSS at the end (VmRSS): {status['VmRSS'] / 1024:.1f} MB; "
            f"peak during idle: {peak_rss / 1024:.1f} MB; lifetime peak (VmHWM): "
            f"{status['VmHWM'] / 1024:.1f} MB"
        ),
        f"bytes to the central: {up}, from the central: {down} over {elapsed:.0f} s",
        f"bytes per minute on the wire (both ways): {per_minute:.0f} B/min",
        f"controller log warnings: {warnings}",
        *(capture.lines(elapsed, (hold[0], hold[-1])) if capture else []),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle", type=float, default=180.0, help="idle period, s")
    parser.add_argument("--warmup", type=float, default=20.0, help="wait before measuring, s")
    parser.add_argument("--first-poll-max-delay", type=float, default=10.0)
    parser.add_argument("--loopback", action="store_true", help="count with a loopback relay")
    parser.add_argument(
        "--entry", choices=sorted(ENTRIES), default="slim",
        help="slim: python -m edgewise.site run; cli: edgewise site-controller run",
    )  # fmt: skip
    parser.add_argument(
        "--driver", choices=("sim", "linux"), default="sim",
        help="sim: a simulated data plane; linux: the real one (root)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    use_namespace = not args.loopback and os.geteuid() == 0
    if args.driver == "linux" and not use_namespace:
        parser.error("--driver linux needs root and no --loopback (namespaces)")
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ewbench-idle-")))
        if use_namespace:
            name, host, outer = stack.enter_context(namespace())
            env = {"EDGEWISE_SOUTHBOUND_HOST": host,
                   "EDGEWISE_SOUTHBOUND_HOSTNAMES": f"localhost,127.0.0.1,{host}"}  # fmt: skip
            wire = Wire(f"veth counters of namespace {name} (Ethernet frames, both ways)",
                        host, ["ip", "netns", "exec", name], outer)  # fmt: skip
        else:
            env = {}
            why = "--loopback" if args.loopback else "not root: no namespaces"
            wire = Wire(f"loopback relay ({why}); TLS bytes only, no TCP/IP headers", "127.0.0.1")
        central = Central(scratch / "central", env=env)
        stack.callback(central.stop)
        central.start()
        if not use_namespace:
            wire.relay = Relay(central.southbound_port)
            wire.relay.start()
            stack.callback(wire.relay.stop)
        driver = (
            stack.enter_context(data_plane(name)) if args.driver == "linux" and use_namespace
            else []
        )  # fmt: skip
        lines = measure(wire, central, scratch, args, driver)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
