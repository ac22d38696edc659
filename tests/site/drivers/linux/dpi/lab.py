"""A client → router → server lab of namespaces for the classifier's real-traffic tests and
benchmark: real servers (TLS with a self-signed certificate, HTTP, DNS, SSH banner, SIP) in the
server namespace, the classifier program in the router, client flows with known source ports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.site.drivers.netlab import can_build_namespaces, in_ns, ip

CLIENT, SERVER = "10.91.1.2", "10.91.2.2"
SRC = str(Path(__file__).resolve().parents[5] / "src")

SERVERS = r"""
import socket, ssl, sys, threading
def serve_tcp(port, handle, wrap=None):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(256)
    def one(c):
        try:
            if wrap: c = wrap.wrap_socket(c, server_side=True)
            c.settimeout(10)
            handle(c)
        except OSError:
            pass
        finally:
            c.close()
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=one, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def echo(c):
    while data := c.recv(4096):
        c.sendall(data)
def http(c):
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
def ssh(c):
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    echo(c)
def serve_udp(port, answer):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    def loop():
        while True:
            data, peer = s.recvfrom(4096)
            s.sendto(answer(data), peer)
    threading.Thread(target=loop, daemon=True).start()
def dns(q):
    return q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00" + q[12:] + (
        b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x5b\x02\x02")
def sip(q):
    return b"SIP/2.0 180 Ringing\r\n" + q.split(b"\r\n", 1)[1]
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); tls.load_cert_chain(sys.argv[1], sys.argv[2])
serve_tcp(443, echo, tls); serve_tcp(80, http); serve_tcp(22, ssh); serve_tcp(9000, echo)
serve_udp(53, dns); serve_udp(5060, sip)
print("ready", flush=True)
sys.stdin.read()
"""

CLIENT_FLOWS = r"""
import socket, ssl, struct, sys, time
server = sys.argv[1]
def tcp(sport, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport)); s.settimeout(5); s.connect((server, port)); return s
def tls(sport, sni, rounds):
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(tcp(sport, 443), server_hostname=sni)
    for i in range(rounds):
        s.sendall(b"x" * 100); s.recv(4096)
    s.close(); return "ok"
def http(sport, host):
    s = tcp(sport, 80)
    s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/7.88\r\n\r\n".encode())
    data = s.recv(4096); s.close(); return "ok" if b"200 OK" in data else "bad"
def ssh(sport):
    s = tcp(sport, 22); banner = s.recv(100)
    s.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); s.recv(100); s.close()
    return "ok" if banner.startswith(b"SSH-2.0") else "bad"
def udp(sport, port, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", sport))
    s.settimeout(5); s.sendto(payload, (server, port)); s.recvfrom(4096); s.close(); return "ok"
def dns(sport, name):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
    return udp(sport, 53, q)
def sip(sport):
    body = "v=0\r\no=- 1 1 IN IP4 10.91.1.2\r\ns=-\r\nc=IN IP4 10.91.1.2\r\nt=0 0\r\n"
    msg = ("INVITE sip:bob@example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 10.91.1.2:{sport};branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n"
        "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@10.91.1.2\r\nCSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@10.91.1.2>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}")
    return udp(sport, 5060, msg.encode())
def short(sport):
    s = tcp(sport, 9000); s.sendall(b"hello"); s.recv(100); s.close(); return "ok"
for line in sys.stdin:
    kind, sport, *args = line.split()
    try:
        if kind == "tls": out = tls(int(sport), args[0], int(args[1]))
        elif kind == "http": out = http(int(sport), args[0])
        elif kind == "ssh": out = ssh(int(sport))
        elif kind == "dns": out = dns(int(sport), args[0])
        elif kind == "sip": out = sip(int(sport))
        elif kind == "short": out = short(int(sport))
        else: out = "unknown"
    except OSError as exc:
        out = f"failed {exc}"
    print(kind, sport, out, flush=True)
"""


def skip_reason() -> str | None:
    """Why the classifier's lab cannot run here, or None."""
    reason = can_build_namespaces()
    if reason:
        return reason
    for program in ("iptables-nft", "conntrack"):
        if not any((Path(d) / program).exists() for d in ("/usr/sbin", "/sbin", "/usr/bin")):
            return f"{program} is not installed (Debian packages iptables, conntrack)"
    if not any(
        Path(d, "libndpi.so.4.2").exists() for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib")
    ):
        return "nDPI is not installed (Debian package libndpi4.2)"
    return None


def make_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgewise-dpi-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class DpiLab:
    """Three namespaces (client, router, server) with servers up; `close` removes everything."""

    workdir: Path
    prefix: str = field(default_factory=lambda: "d" + secrets.token_hex(2))
    processes: list[subprocess.Popen[str]] = field(default_factory=list)
    classifier_process: subprocess.Popen[str] | None = None

    def __post_init__(self) -> None:
        self.client, self.router, self.server = (
            f"{self.prefix}-{n}" for n in ("cli", "rtr", "srv")
        )

    def start(self) -> None:
        for ns in (self.client, self.router, self.server):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        in_ns(self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for ns, far, net in ((self.client, "c", "10.91.1"), (self.server, "s", "10.91.2")):
            ip("-n", self.router, "link", "add", f"{far}{self.prefix}", "type", "veth", "peer",
               "name", "eth0", "netns", ns)  # fmt: skip
            ip("-n", self.router, "addr", "add", f"{net}.1/24", "dev", f"{far}{self.prefix}")
            ip("-n", self.router, "link", "set", f"{far}{self.prefix}", "up")
            ip("-n", ns, "addr", "add", f"{net}.2/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "route", "add", "default", "via", f"{net}.1")
        cert, key = make_certificate(self.workdir)
        server = self.spawn(self.server, "-c", SERVERS, str(cert), str(key))
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"

    def spawn(self, namespace: str, *args: str, env: dict[str, str] | None = None,
              stderr: int | None = subprocess.DEVNULL) -> subprocess.Popen[str]:  # fmt: skip
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
        )  # fmt: skip
        self.processes.append(proc)
        return proc

    def start_classifier(self, *args: str, queue: int = 7) -> Path:
        """Starts the classifier program in the router; returns its status file."""
        status = self.workdir / "dpi-status.json"
        status.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": SRC}
        argv = [sys.executable, "-m", "edgewise.site.drivers.linux.dpi", "--netns", self.router,
                "--queue", str(queue), "--status-file", str(status), "--status-every", "0.2",
                "--log-level", "DEBUG", *args]  # fmt: skip
        with (self.workdir / "dpi.log").open("a") as log:
            self.classifier_process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, text=True, env=env
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if status.exists():
                return status
            if self.classifier_process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"the classifier did not start: {self.log()}")

    def stop_classifier(self, timeout: float = 10) -> int:
        proc = self.classifier_process
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout)

    def log(self) -> str:
        path = self.workdir / "dpi.log"
        return path.read_text() if path.exists() else ""

    def flows(self, lines: list[str], timeout: float = 60) -> list[str]:
        """Runs client flows (`kind sport args...` each) one after another; their results."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.client, sys.executable, "-c", CLIENT_FLOWS, SERVER],
            input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        return done.stdout.splitlines()

    def ct_marks(self) -> dict[tuple[str, int], int]:
        """(protocol, client source port) → conntrack mark, of the router's flows."""
        out = in_ns(self.router, "conntrack", "-L", "-s", CLIENT)
        found = {}
        for line in out.splitlines():
            proto = line.split()[0]
            sport = re.search(r"sport=(\d+)", line)
            mark = re.search(r"mark=(\d+)", line)
            if sport and mark:
                found[proto, int(sport[1])] = int(mark[1])
        return found

    def queue_last_id(self, queue: int = 7) -> int:
        """The id the kernel gave the last packet it queued (grows by one per packet)."""
        text = in_ns(self.router, "cat", "/proc/net/netfilter/nfnetlink_queue")
        for line in text.splitlines():
            fields = line.split()
            if fields and int(fields[0]) == queue:
                return int(fields[7])
        return 0

    def hook_rules(self) -> str:
        return in_ns(self.router, "iptables-nft-save", "-t", "mangle")

    def status(self) -> dict[str, object]:
        path = self.workdir / "dpi-status.json"
        for _ in range(50):  # bounded: the file is replaced atomically, a read is whole
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                found: dict[str, object] = json.loads(path.read_text())
                return found
            time.sleep(0.02)
        return {}

    def close(self) -> None:
        if self.classifier_process and self.classifier_process.poll() is None:
            self.classifier_process.kill()
            self.classifier_process.wait(5)
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            for pipe in (proc.stdin, proc.stdout):
                if pipe:
                    pipe.close()
        for ns in (self.client, self.router, self.server):
            ip("netns", "del", ns, check=False)
