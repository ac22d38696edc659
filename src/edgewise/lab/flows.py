"""Small traffic programs the labs run inside a namespace (`python -c PROGRAM args`): a UDP
server that answers with the address it saw (`WHO`), its client (`ASK`), and a paced UDP stream
(`STREAM`) with a sink (`SINK`) that measures the stream's longest gap and who sent it. The
demo's SD-WAN step and the SD-WAN tests and benchmarks use them; each prints `ready` or
`started` first, so a caller knows it is listening."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

WHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(peer[0].encode(), peer)
"""

ASK = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(b"who", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(2048)[0].decode())
except OSError as exc:
    print("failed", exc)
"""

SINK = """
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
arrivals, sources = [], {}
while True:
    try:
        data, peer = s.recvfrom(2048)
    except OSError:
        break
    if data == b"end":
        break
    arrivals.append(time.monotonic())
    sources[peer[0]] = sources.get(peer[0], 0) + 1
gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
print(json.dumps({"received": len(arrivals), "max_gap_ms": max(gaps, default=0) * 1000,
                  "sources": sources}), flush=True)
"""

STREAM = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
s.bind(("0.0.0.0", int(sys.argv[3])))
count, rate = int(sys.argv[4]), float(sys.argv[5])
start = time.monotonic()
print("started", flush=True)
for n in range(count):
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    try:
        s.sendto(b"%d" % n, (sys.argv[1], int(sys.argv[2])))
    except OSError:
        pass  # no route for a moment (an ICMP unreachable): the gap shows it
for _ in range(3):
    time.sleep(0.05)
    s.sendto(b"end", (sys.argv[1], int(sys.argv[2])))
"""


@dataclass(frozen=True)
class StreamResult:
    """What a SINK measured: datagrams received, the longest gap between two, and how many
    came from each source address (the link they left by, behind per-link NAT)."""

    received: int
    max_gap_ms: float
    sources: dict[str, int]

    @classmethod
    def parse(cls, line: str) -> StreamResult:
        found: dict[str, Any] = json.loads(line) if line.strip() else {}
        return cls(
            int(found.get("received", 0)),
            float(found.get("max_gap_ms", 0.0)),
            {str(k): int(v) for k, v in found.get("sources", {}).items()},
        )
