"""DPI benchmark (root, namespaces): the classifier program in a router namespace between a
client and a server namespace, real flows through it. Prints one line per figure:

- the share of the test applications identified (each flow's conntrack mark read back), goal
  >= 95%, and the packets nDPI needed per application (median);
- new flows per second through the router without and with the classifier, for flows nDPI names
  at their 4th packet (HTTP) and for flows it never names (given up at the packet bound), with
  the classifier's CPU per flow (process CPU time / flows decided).

    python benchmarks/dpi.py [--rounds 5] [--flows 2000] [--threads 8] [--timeout 300]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dataplane_common import Deadline, guarded
from tests.site.drivers.linux.dpi.lab import SERVER, DpiLab, skip_reason

from edgewise.model.applications import Applications
from edgewise.site.drivers.linux.dpi import marks

CUSTOM = {"corp": ("*.corp.example",)}
APPS = Applications.build(CUSTOM)
# (client flow, the application it must be found to be)
TEST_FLOWS = [
    ("tls {port} www.youtube.com 2", "youtube"),
    ("tls {port} www.netflix.com 2", "netflix"),
    ("tls {port} us04web.zoom.us 2", "zoom"),
    ("tls {port} teams.microsoft.com 2", "teams"),
    ("tls {port} outlook.office365.com 2", "office365"),
    ("tls {port} login.salesforce.com 2", "salesforce"),
    ("tls {port} www.python.org 2", "tls"),
    ("tls {port} api.corp.example 2", "corp"),
    ("http {port} www.example.org", "http"),
    ("http {port} intranet.corp.example", "corp"),
    ("ssh {port}", "ssh"),
    ("dns {port} www.example.org", "dns"),
    ("sip {port}", "sip"),
]

RATE_CLIENT = r"""
import socket, sys, threading, time
server, kind, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
deadline = time.monotonic() + float(sys.argv[5])
left = [count]; ok = [0]; lock = threading.Lock()
request = b"GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: bench\r\n\r\n"
def one():
    s = socket.create_connection((server, 80 if kind == "http" else 9000), timeout=5)
    try:
        if kind == "http":
            s.sendall(request); return b"200 OK" in s.recv(4096)
        s.sendall(b"hello"); return s.recv(100) == b"hello"
    finally:
        s.close()
def work():
    while time.monotonic() < deadline:
        with lock:
            if left[0] == 0: return
            left[0] -= 1
        try:
            good = one()
        except OSError:
            good = False
        with lock:
            ok[0] += good
start = time.monotonic()
ts = [threading.Thread(target=work) for _ in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print(ok[0], count - left[0], time.monotonic() - start)
"""


def identify(lab: DpiLab, rounds: int) -> tuple[int, int, dict[str, list[int]]]:
    """Runs every test flow `rounds` times; (identified right, flows, packets per app)."""
    lines, expected = [], {}
    port = 61000  # above the ephemeral range (32768-60999): no clash with the rate runs
    for _ in range(rounds):
        for template, app in TEST_FLOWS:
            port += 1
            lines.append(template.format(port=port))
            proto = "udp" if template.split()[0] in ("dns", "sip") else "tcp"
            expected[proto, port] = app
    results = lab.flows(lines, timeout=30 + 5 * len(lines))
    time.sleep(0.3)
    found = lab.ct_marks()
    right = 0
    for key, app in expected.items():
        wanted = APPS.by_name(app)
        assert wanted is not None
        if found.get(key, 0) & marks.DPI_MASK == marks.verdict_mark(wanted.app_id):
            right += 1
    failed = [r for r in results if not r.endswith(" ok")]
    if failed:
        print(f"warning: {len(failed)} flows failed: {failed[:3]}", file=sys.stderr)
    status = lab.status()
    packets: dict[str, list[int]] = {}
    for app, counts in dict(status.get("packets_to_decide", {})).items():  # type: ignore[call-overload]
        packets[app] = [int(n) for n, flows in counts.items() for _ in range(flows)]
    return right, len(expected), packets


def rate(lab: DpiLab, kind: str, flows: int, threads: int, seconds: float) -> tuple[int, float]:
    """Runs `flows` new TCP flows with `threads` clients; (flows that worked, flows/s)."""
    done = subprocess.run(
        ["ip", "netns", "exec", lab.client, sys.executable, "-c", RATE_CLIENT, SERVER, kind,
         str(flows), str(threads), str(seconds)],
        capture_output=True, text=True, timeout=seconds + 30, check=False,
    )  # fmt: skip
    ok, tried, elapsed = done.stdout.split()
    del tried
    return int(ok), int(ok) / float(elapsed)


def decided(status: dict[str, Any]) -> int:
    return sum(dict(status.get("flows_classified", {})).values())


def run(args: argparse.Namespace) -> int:
    deadline = Deadline(args.timeout)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    lab = DpiLab(workdir)
    print(f"lab prefix: {lab.prefix}", file=sys.stderr, flush=True)
    try:
        lab.start()
        baseline = {kind: rate(lab, kind, args.flows, args.threads, deadline.left() / 4)
                    for kind in ("http", "short")}  # fmt: skip
        lab.start_classifier("--custom", "corp=*.corp.example")
        right, total, packets = identify(lab, args.rounds)
        print(f"applications identified: {right}/{total} flows ({100 * right / total:.1f}%, "
              f"goal >= 95%) over {len(TEST_FLOWS)} test applications")  # fmt: skip
        medians = ", ".join(
            f"{app} {statistics.median(n):g}" for app, n in sorted(packets.items()) if n
        )
        print(f"packets needed (median, both directions): {medians}")
        for kind, label in (("http", "identified (HTTP)"), ("short", "never identified")):
            before = lab.status()
            ok, per_second = rate(lab, kind, args.flows, args.threads, max(deadline.left(), 5))
            time.sleep(args.status_every * 2)
            after = lab.status()
            flows = decided(after) - decided(before)
            cpu = float(after["cpu_seconds"]) - float(before["cpu_seconds"])  # type: ignore[arg-type]
            base_ok, base_rate = baseline[kind]
            per_flow = 1e6 * cpu / max(flows, 1)
            print(f"new flows/s, {label}: {per_second:.0f} with DPI, {base_rate:.0f} without "
                  f"({ok}/{args.flows} and {base_ok}/{args.flows} flows completed); "
                  f"{flows} classified, CPU per classified flow {per_flow:.0f} µs")  # fmt: skip
            print(f"classifier capacity, {label}: about {1e6 / max(per_flow, 1):.0f} new flows/s "
                  "per core (1 s / CPU per flow)")  # fmt: skip
        print(f"queue drops: {lab.status().get('queue_dropped')}")
        if lab.stop_classifier() != 0:
            print(f"error: the classifier did not stop cleanly:\n{lab.log()[-2000:]}",
                  file=sys.stderr)  # fmt: skip
            return 1
        return 0
    finally:
        lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="times each test flow is run")
    parser.add_argument("--flows", type=int, default=2000, help="flows per rate run")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for everything")
    parser.add_argument(
        "--workdir", help="for the certificate, logs and status (default: a temporary one)"
    )
    parser.add_argument("--status-every", type=float, default=0.2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1 or args.flows < 1 or args.threads < 1 or args.timeout <= 0:
        parser.error("--rounds, --flows, --threads and --timeout must be positive")
    reason = skip_reason()
    if reason is not None:
        print(f"error: cannot run: {reason}", file=sys.stderr)
        return 2
    if args.workdir:
        return guarded(lambda: run(args))
    with tempfile.TemporaryDirectory(prefix="edgewise-bench-dpi-") as workdir:
        args.workdir = workdir
        return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
