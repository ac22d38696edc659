"""One real site-controller process, idle and connected: its memory and its bytes on the wire.

Usage: python benchmarks/controller_idle.py [--idle 180] [--warmup 20] [--loopback]

A fresh central (child process, SQLite, the production long-poll hold of 30-60 s) and one
`edgewise site-controller run` process (sim driver), enrolled, holding a two-VNF service.
After a warm-up (first poll, first status report) it sits idle for `--idle` seconds. Measured:
its VmRSS and VmHWM (/proc), and the bytes both ways between it and the central per minute.

Bytes are counted on the wire: the controller runs in its own network namespace (`ewbi` +
4 hex digits), joined to the host by a veth pair with addresses from 10.214.x.y/30; the central's
southbound listener binds the host end's address, and the host end's rx/tx byte counters
(Ethernet frames: TLS, TCP/IP headers, ACKs and ARP included) are read before and after the idle
period. Without root (no namespaces), or with --loopback, the controller talks through a TCP
relay on loopback that counts the bytes it relays (TLS records only: no TCP/IP headers or ACKs),
and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from bench_central import Central, proc_status

from edgewise.cli.demo import free_port
from edgewise.cli.simulate import change_document


@dataclass
class Wire:
    """Where the controller runs and how its traffic is counted."""

    method: str
    central_host: str
    prefix: list[str] = field(default_factory=list)  # `ip netns exec NS` or nothing
    counters: Path | None = None  # /sys/class/net/<host veth>/statistics
    relay: Relay | None = None

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


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def taken_addresses() -> str:
    return subprocess.run(
        ["ip", "-o", "addr"], check=True, capture_output=True, text=True, timeout=30
    ).stdout


@contextlib.contextmanager
def namespace() -> Iterator[tuple[str, str, Path]]:
    """A namespace `ewbiXXXX` joined by a veth pair: (name, host address, host end counters)."""
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
        yield name, host, Path(f"/sys/class/net/{outer}/statistics")
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", outer], check=False, capture_output=True, timeout=30)


def edgewise(prefix: list[str], *args: str) -> list[str]:
    return [*prefix, sys.executable, "-m", "edgewise", *args]


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


def measure(wire: Wire, central: Central, scratch: Path, args: argparse.Namespace) -> list[str]:
    site_dir = scratch / "site"
    site_dir.mkdir()
    port = wire.relay.port if wire.relay else central.southbound_port
    enroll_site(central, wire, site_dir, f"https://{wire.central_host}:{port}")
    log = (scratch / "controller.log").open("w")
    command = edgewise(wire.prefix, "site-controller", "run", "--data-dir", str(site_dir),
                       "--first-poll-max-delay", str(args.first_poll_max_delay))  # fmt: skip
    controller = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(args.warmup)
        if controller.poll() is not None:
            raise RuntimeError(f"the controller exited; see {scratch / 'controller.log'}")
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
    return [
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
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--idle", type=float, default=180.0, help="idle period, s")
    parser.add_argument("--warmup", type=float, default=20.0, help="wait before measuring, s")
    parser.add_argument("--first-poll-max-delay", type=float, default=10.0)
    parser.add_argument("--loopback", action="store_true", help="count with a loopback relay")
    args = parser.parse_args(argv)
    use_namespace = not args.loopback and os.geteuid() == 0
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ewbench-idle-")))
        if use_namespace:
            name, host, counters = stack.enter_context(namespace())
            env = {"EDGEWISE_SOUTHBOUND_HOST": host,
                   "EDGEWISE_SOUTHBOUND_HOSTNAMES": f"localhost,127.0.0.1,{host}"}  # fmt: skip
            wire = Wire(f"veth counters of namespace {name} (Ethernet frames, both ways)",
                        host, ["ip", "netns", "exec", name], counters)  # fmt: skip
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
        lines = measure(wire, central, scratch, args)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
