"""WireGuard's cross-platform userspace API (`get=1` / `set=1` over a unix socket), spoken
directly: what wireguard-go listens on at /var/run/wireguard/<ifname>.sock; no `wg` binary.

`parse_get` and `set_request` are pure (tested by tables); `UapiSocket` is the I/O. Keys are
base64 everywhere else in Edgewise and hex on this protocol: they are converted here, and
the private key read back from a device is reduced to its public key at once.
"""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass, field
from ipaddress import IPv4Network, ip_network
from pathlib import Path

from edgewise.site.drivers.linux.wireguard.config import Endpoint, OverlayDevice, OverlayPeer
from edgewise.site.drivers.linux.wireguard.errors import OverlayError
from edgewise.site.drivers.linux.wireguard.keys import decode_key, public_key_of

SOCKET_DIR = Path("/var/run/wireguard")
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PeerDump:
    """A peer as the device reports it."""

    public_key: str
    endpoint: Endpoint | None
    allowed: tuple[IPv4Network, ...]
    keepalive: int
    last_handshake: float | None  # seconds since the epoch; None: never
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True)
class DeviceDump:
    """A device as it reports itself (its private key only as the public key it makes)."""

    public_key: str | None
    listen_port: int
    fwmark: int
    peers: tuple[PeerDump, ...]


def hex_key(base64_key: str) -> str:
    return decode_key(base64_key).hex()


def _b64(hex_text: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_text)).decode()


@dataclass
class _PeerFields:
    """A peer's lines while `get=1`'s answer is read."""

    public_key: str
    endpoint: Endpoint | None = None
    allowed: list[IPv4Network] = field(default_factory=list)
    keepalive: int = 0
    seconds: int = 0
    nanoseconds: int = 0
    rx_bytes: int = 0
    tx_bytes: int = 0

    def read(self, key: str, value: str) -> None:
        if key == "endpoint":
            self.endpoint = Endpoint.parse(value) if "[" not in value else None
        elif key == "allowed_ip":
            network = ip_network(value, strict=False)
            if isinstance(network, IPv4Network):
                self.allowed.append(network)
        elif key == "last_handshake_time_sec":
            self.seconds = int(value)
        elif key == "last_handshake_time_nsec":
            self.nanoseconds = int(value)
        elif key == "rx_bytes":
            self.rx_bytes = int(value)
        elif key == "tx_bytes":
            self.tx_bytes = int(value)
        elif key == "persistent_keepalive_interval":
            self.keepalive = int(value)

    def dump(self) -> PeerDump:
        handshake = self.seconds + self.nanoseconds / 1e9 if self.seconds else None
        return PeerDump(
            self.public_key,
            self.endpoint,
            tuple(self.allowed),
            self.keepalive,
            handshake,
            self.rx_bytes,
            self.tx_bytes,
        )


def parse_get(text: str) -> DeviceDump:
    """The answer of `get=1` (key=value lines, `errno=0` last) as a DeviceDump."""
    public_key: str | None = None
    listen_port = fwmark = 0
    peers: list[_PeerFields] = []
    for line in text.splitlines():
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise OverlayError(f"WireGuard socket answered a line without '=': {line[:40]!r}")
        if key == "errno":
            if value != "0":
                raise OverlayError(f"WireGuard socket answered errno={value} to get")
        elif key == "private_key":
            public_key = public_key_of(bytes.fromhex(value))
        elif key == "listen_port":
            listen_port = int(value)
        elif key == "fwmark":
            fwmark = int(value)
        elif key == "public_key":
            peers.append(_PeerFields(_b64(value)))
        elif peers:
            peers[-1].read(key, value)
    return DeviceDump(public_key, listen_port, fwmark, tuple(p.dump() for p in peers))


def set_request(desired: OverlayDevice, private_key: bytes, observed: DeviceDump) -> str | None:
    """The `set=1` request that makes `observed` into `desired`, None when nothing differs.

    Only what differs is sent: a peer that stays keeps its session (a key, port or peer
    removal is what starts new handshakes), and an endpoint the peer roamed to is left alone
    when the desired one is None. A new private key ends every session of the device anyway:
    its peers are then set anew (`replace_peers`), and wireguard-go greets a new peer with a
    keepalive at once, so the handshakes under the new key start now, not at the next
    keepalive (a key rotation waits for them: docs/overlay.md).
    """
    lines = []
    replaced = observed.public_key != public_key_of(private_key)
    if replaced:
        lines += [f"private_key={private_key.hex()}", "replace_peers=true"]
    have = {} if replaced else {seen.public_key: seen for seen in observed.peers}
    if observed.listen_port != desired.listen_port:
        lines.append(f"listen_port={desired.listen_port}")
    if observed.fwmark != desired.fwmark:
        lines.append(f"fwmark={desired.fwmark}")
    wanted = {peer.public_key: peer for peer in desired.peers}
    for seen in observed.peers:
        if seen.public_key not in wanted and not replaced:
            lines += [f"public_key={hex_key(seen.public_key)}", "remove=true"]
    for peer in desired.peers:
        lines += _peer_lines(peer, have.get(peer.public_key))
    return "".join(f"{line}\n" for line in ["set=1", *lines]) + "\n" if lines else None


def _peer_lines(peer: OverlayPeer, seen: PeerDump | None) -> list[str]:
    lines = []
    if peer.endpoint is not None and (seen is None or seen.endpoint != peer.endpoint):
        lines.append(f"endpoint={peer.endpoint}")
    if seen is None or seen.keepalive != peer.keepalive:
        lines.append(f"persistent_keepalive_interval={peer.keepalive}")
    if seen is None or sorted(seen.allowed) != sorted(peer.allowed):
        lines.append("replace_allowed_ips=true")
        lines += [f"allowed_ip={prefix}" for prefix in peer.allowed]
    if not lines:
        return []
    return [f"public_key={hex_key(peer.public_key)}", *lines]


class UapiSocket:
    """One device's socket: each call connects, asks, reads the answer and closes."""

    def __init__(self, name: str, directory: Path = SOCKET_DIR) -> None:
        self.name = name
        self.path = directory / f"{name}.sock"

    def get(self) -> DeviceDump:
        return parse_get(self._ask("get=1\n\n"))

    def set(self, request: str) -> None:
        answer = self._ask(request).strip()
        if answer != "errno=0":
            # the request holds the private key when it changes: name the device, not it
            raise OverlayError(f"WireGuard device {self.name} refused the change: {answer}")

    def answers(self) -> bool:
        """Whether a program listens on the socket."""
        try:
            self._ask("get=1\n\n")
        except OverlayError:
            return False
        return True

    def _ask(self, request: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(TIMEOUT_S)
                sock.connect(str(self.path))
                sock.sendall(request.encode())
                answer = b""
                while not answer.endswith(b"\n\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError as exc:
            raise OverlayError(f"WireGuard socket {self.path}: {exc.strerror or exc}") from exc
        return answer.decode()
