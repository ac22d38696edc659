"""Hand-made IPv4 packets of real application first messages (a TLS ClientHello made by Python's
own ssl module, an HTTP request, a DNS query, SSH banners, a SIP INVITE) for the engine's tests."""

from __future__ import annotations

import contextlib
import ssl
import struct
from dataclasses import dataclass, field

TCP, UDP = 6, 17
CLIENT, SERVER = "10.1.0.2", "10.2.0.2"


def _addr(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def ipv4(src: str, dst: str, proto: int, l4: bytes) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, _addr(src), _addr(dst)
    )
    return header + l4


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"") -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SYN, ACK, PSH = 0x02, 0x10, 0x08


@dataclass
class TcpExchange:
    """A TCP connection's packets as a router sees them: handshake, then data either way."""

    sport: int
    dport: int
    client: str = CLIENT
    server: str = SERVER
    packets: list[bytes] = field(default_factory=list)
    _seq: list[int] = field(default_factory=lambda: [1000, 5000])

    def __post_init__(self) -> None:
        c, s = self._seq
        self.packets += [
            ipv4(self.client, self.server, TCP, tcp(self.sport, self.dport, c, 0, SYN)),
            ipv4(self.server, self.client, TCP, tcp(self.dport, self.sport, s, c + 1, SYN | ACK)),
            ipv4(self.client, self.server, TCP, tcp(self.sport, self.dport, c + 1, s + 1, ACK)),
        ]
        self._seq = [c + 1, s + 1]

    def send(self, payload: bytes, *, from_server: bool = False) -> TcpExchange:
        c, s = self._seq
        if from_server:
            segment = tcp(self.dport, self.sport, s, c, PSH | ACK, payload)
            self.packets.append(ipv4(self.server, self.client, TCP, segment))
            self._seq = [c, s + len(payload)]
        else:
            segment = tcp(self.sport, self.dport, c, s, PSH | ACK, payload)
            self.packets.append(ipv4(self.client, self.server, TCP, segment))
            self._seq = [c + len(payload), s]
        return self


def client_hello(sni: str) -> bytes:
    """The first flight of a real TLS client (Python's ssl) naming `sni`."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    conn = context.wrap_bio(incoming, outgoing, server_hostname=sni)
    with contextlib.suppress(ssl.SSLWantReadError):
        conn.do_handshake()
    return outgoing.read()


def tls_flow(sni: str, sport: int = 40001, dport: int = 443) -> list[bytes]:
    return TcpExchange(sport, dport).send(client_hello(sni)).packets


def http_flow(host: str, sport: int = 40002) -> list[bytes]:
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n"
    return TcpExchange(sport, 80).send(request.encode()).packets


def ssh_flow(sport: int = 40003) -> list[bytes]:
    return (
        TcpExchange(sport, 22)
        .send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", from_server=True)
        .send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        .packets
    )


def dns_query(name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", 1, 1)


def dns_flow(name: str, sport: int = 40004) -> list[bytes]:
    return [ipv4(CLIENT, SERVER, UDP, udp(sport, 53, dns_query(name)))]


def sip_invite(sport: int = 5060) -> bytes:
    body = "v=0\r\no=- 1 1 IN IP4 10.1.0.2\r\ns=-\r\nc=IN IP4 10.1.0.2\r\nt=0 0\r\n"
    return (
        "INVITE sip:bob@example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 10.1.0.2:{sport};branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n"
        "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@10.1.0.2\r\nCSeq: 314159 INVITE\r\n"
        "Contact: <sip:alice@10.1.0.2>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def sip_flow(sport: int = 5060) -> list[bytes]:
    return [ipv4(CLIENT, SERVER, UDP, udp(sport, 5060, sip_invite(sport)))]
