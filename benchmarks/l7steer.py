"""Layer-7 steering benchmark (root, namespaces, nDPI): new flows per second a site sustains in
its real steering path, with DPI off and on, in one run.

Usage (root): python benchmarks/l7steer.py [--flows 2000] [--threads 8] [--timeout 300]

The lab (tests/site/drivers/wanlab.py, a random `l` + 4 hex digits prefix, removed at the end):
a site whose LAN host sits behind a firewall + NAT chain, three links to a data centre, and
the linux driver's WAN side: links, source NAT per link, the steering table. `--flows` short
HTTP flows (connect, request, answer, close) from the LAN host, `--threads` at a time:
- DPI off: layer 3/4 classes only (no classifier, no application cache);
- DPI on: plus the layer-7 class `web` (the catalogue's http) preferring the internet link,
  so every flow goes through the classifier (its first packets), the application cache, the
  classify and dpi chains. The first flow is named at its 4th packet and stays on LTE; the
  later ones are steered from their SYN by the cache: the line says how many left by which link
  (the address the server saw), and the classifier's CPU per flow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, guarded  # puts the repository on sys.path
from tests.site.drivers.chains import converge
from tests.site.drivers.linux.dpi.lab import make_certificate, skip_reason
from tests.site.drivers.netlab import in_ns, stop_processes
from tests.site.drivers.wanlab import DC_SERVER, PROVIDERS, WanLab

from edgewise.site.drivers.linux import LinuxDriver

LINK_OF = {p.site_address: p.link for p in PROVIDERS}
LAYER34: dict[str, Any] = {
    "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
    "policies": [{"class": "voice", "links": ["mpls", "inet"]}],
    "default_links": ["lte", "mpls", "inet"],
}
LAYER7: dict[str, Any] = {
    "classes": [*LAYER34["classes"], {"name": "web", "protocol": "tcp", "applications": ["http"]}],
    "policies": [*LAYER34["policies"], {"class": "web", "links": ["inet", "lte"]}],
    "default_links": LAYER34["default_links"],
}

FLOWS = r"""
import json, socket, sys, threading, time
server, count, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + float(sys.argv[4])
left = [count]; seen = {}; lock = threading.Lock()
def one():
    s = socket.create_connection((server, 80), timeout=5)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n")
        data = s.recv(4096)
        return data.split(b"\r\n\r\n", 1)[1].decode() if b" 200 OK" in data else "bad"
    finally:
        s.close()
def work():
    while time.monotonic() < deadline:
        with lock:
            if left[0] == 0: return
            left[0] -= 1
        try:
            who = one()
        except OSError:
            who = "failed"
        with lock:
            seen[who] = seen.get(who, 0) + 1
start = time.monotonic()
ts = [threading.Thread(target=work) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps({"seconds": time.monotonic() - start, "seen": seen}))
"""


def flows(host: str, count: int, threads: int, seconds: float) -> tuple[float, dict[str, int]]:
    """`count` HTTP flows from `host`: (flows/s of those answered, answers by link)."""
    done = subprocess.run(
        ["ip", "netns", "exec", host, sys.executable, "-c", FLOWS, DC_SERVER, str(count),
         str(threads), str(seconds)],
        capture_output=True, text=True, timeout=seconds + 30, check=False,
    )  # fmt: skip
    result = json.loads(done.stdout or '{"seconds": 1, "seen": {}}')
    by_link = {LINK_OF.get(k, k): v for k, v in result["seen"].items()}
    answered = sum(v for k, v in by_link.items() if k in LINK_OF.values())
    return answered / result["seconds"], by_link


def classifier_ready(lab: WanLab, status_file: Path) -> bool:
    """Waits (10 s at most) for the classifier's hook rules and its first status file."""
    until = time.monotonic() + 10
    while time.monotonic() < until:
        if status_file.exists() and "EDGEWISE-DPI" in in_ns(lab.wan, "iptables-nft-save"):
            return True
        time.sleep(0.1)
    return False


def describe(by_link: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(by_link.items()))


async def measure(args: argparse.Namespace, deadline: Deadline) -> int:
    lab = WanLab(prefix="l" + secrets.token_hex(2))
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    runtime = Path(tempfile.mkdtemp(prefix="l7steer-bench-"))
    driver: LinuxDriver | None = None
    try:
        lab.start()
        cert, key = make_certificate(runtime)
        lab.serve_apps(str(cert), str(key))
        driver = LinuxDriver(lab.site, runtime)
        await converge(driver, lab.state(LAYER34))
        attachment = await driver.attachment("svc-1")
        assert attachment is not None
        host = lab.add_host("h1", attachment).namespace
        off, off_links = await asyncio.to_thread(
            flows, host, args.flows, args.threads, deadline.left() / 3
        )
        await converge(driver, lab.state(LAYER7))
        status_file = driver._wan.classifier.status_file  # noqa: SLF001 (the benchmark reads it)
        await asyncio.to_thread(classifier_ready, lab, status_file)
        before = json.loads(status_file.read_text()) if status_file.exists() else {}
        on, on_links = await asyncio.to_thread(
            flows, host, args.flows, args.threads, max(deadline.left() - 10, 5)
        )
        await asyncio.sleep(2.5)  # the status file is written every 2 s
        after = json.loads(status_file.read_text()) if status_file.exists() else {}
        classified = sum(after.get("flows_classified", {}).values()) - sum(
            before.get("flows_classified", {}).values()
        )
        cpu = float(after.get("cpu_seconds", 0)) - float(before.get("cpu_seconds", 0))
        print(f"new flows/s through the steering path: {on:.0f} with DPI on, {off:.0f} with "
              f"DPI off ({args.flows} short HTTP flows, {args.threads} at a time)",
              flush=True)  # fmt: skip
        print(f"DPI off: {describe(off_links)}; DPI on: {describe(on_links)} "
              "(the class web prefers inet; default traffic lte)", flush=True)  # fmt: skip
        print(f"classifier: {classified} flows classified, CPU per flow "
              f"{1e6 * cpu / max(classified, 1):.0f} µs, application cache written "
              f"{after.get('cache_learnt')} times, {after.get('cache_errors')} errors, "
              f"queue drops {after.get('queue_dropped')}", flush=True)  # fmt: skip
        return 0
    finally:
        if driver is not None:
            await driver.close()
        stop_processes(runtime)
        lab.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=2000, help="flows per run (default 2000)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for it all")
    args = parser.parse_args(argv)
    if not 1 <= args.flows <= 100_000 or not 1 <= args.threads <= 64 or args.timeout <= 0:
        print("error: --flows 1..100000, --threads 1..64, --timeout > 0", file=sys.stderr)
        return 2
    reason = skip_reason()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    deadline = Deadline(args.timeout)
    return guarded(lambda: asyncio.run(measure(args, deadline)))


if __name__ == "__main__":
    sys.exit(main())
