"""Carrier of the WAN links, from netlink at once: an RTNL socket in the link group, opened in
the WAN namespace by the prober's thread (probing.py), which polls it with its probe sockets.

`carrier_changes` (pure) turns a datagram of RTM_NEWLINK/RTM_DELLINK messages into (interface,
carrier) pairs: carrier means administratively up with the lower layer up (IFF_UP and
IFF_LOWER_UP: a veth whose peer is set down, a cable pulled, a modem gone all clear the
latter); a link deleted has none.
The kernel announces a carrier change through its linkwatch, at once for "urgent" devices
(those whose ifindex differs from their iflink: most veths, stacked devices) but otherwise
batched at most once a second: a physical NIC's carrier loss may be announced up to 1 s late.
IFF_LOWER_UP in a link's answer to RTM_GETLINK is read live, though, so the prober `ask`s for a
link's carrier at each of its probe misses: a lost carrier is then seen at the first miss.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

from edgewise.site.drivers.linux.drift import (
    IFF_LOWER_UP,
    IFF_UP,
    RTM_DELLINK,
    RTM_NEWLINK,
    link_request,
)
from edgewise.site.drivers.linux.rtcodec import (
    IFINFO,
    IFLA_IFNAME,
    attr_str,
    attributes,
    ifinfo,
    message,
    messages,
    text,
)

RTMGRP_LINK = 0x1
RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
RECV_SIZE = 1 << 16
SOCKET_BUFFER = 1 << 20


def carrier_changes(data: bytes) -> Iterator[tuple[str, bool]]:
    """(interface, has carrier) for each link message in a netlink datagram."""
    for kind, _, _, payload in messages(data):
        if kind not in (RTM_NEWLINK, RTM_DELLINK) or len(payload) < IFINFO.size:
            continue
        _, _, _, flags, _ = IFINFO.unpack_from(payload)
        name = next((text(v) for k, v in attributes(payload, IFINFO.size) if k == IFLA_IFNAME), "")
        up = kind == RTM_NEWLINK and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
        yield name, up


class CarrierWatch:
    """A non-blocking RTNL link monitor in the calling thread's namespace, seeded by a dump."""

    def __init__(self) -> None:
        kind = socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        self.socket = socket.socket(socket.AF_NETLINK, kind, socket.NETLINK_ROUTE)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            self.socket.bind((0, RTMGRP_LINK))
            self.socket.send(link_request(1))  # the answer tells the carrier of every link now
        except OSError:
            self.socket.close()
            raise
        self.lost = False  # notifications were dropped (ENOBUFS): ask again with `resync`
        self._sequence = 2

    def fileno(self) -> int:
        return self.socket.fileno()

    def read(self) -> list[tuple[str, bool]]:
        """Every change waiting, oldest first (the last one of an interface is its state)."""
        found: list[tuple[str, bool]] = []
        for _ in range(1000):
            try:
                data = self.socket.recv(RECV_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.lost = True
                continue
            found.extend(carrier_changes(data))
        return found

    def ask(self, interface: str) -> None:
        """Asks for one link's carrier now; the answer is read like a notification."""
        self._sequence += 1
        request = ifinfo() + attr_str(IFLA_IFNAME, interface)
        self.socket.send(message(RTM_GETLINK, NLM_F_REQUEST, self._sequence, request))

    def resync(self) -> None:
        """Asks for a full dump again (after lost notifications)."""
        self.lost = False
        self.socket.send(link_request(2))

    def close(self) -> None:
        self.socket.close()
