"""A UDP echo responder for link probes (tests, the demo, or a hub without one): every datagram
goes back to its sender as it came, from the address it was sent to (IP_PKTINFO: a host with
several addresses answers from the probed one, as NAT on the way back expects). Run it in the
target's namespace:

    python -m edgewise.site.drivers.linux.probing_echo --port 7 [--address 0.0.0.0]

It prints "ready" once listening and runs until killed.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

BUFFER = 2048
IP_PKTINFO = 8
PKTINFO = struct.Struct("=I4s4s")  # ifindex, local (source) address, header destination


def serve(address: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((address, port))
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while True:
            data, ancillary, _, peer = sock.recvmsg(BUFFER, 64)
            reply = [
                (socket.IPPROTO_IP, IP_PKTINFO, PKTINFO.pack(0, info[8:12], bytes(4)))
                for level, kind, info in ancillary
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(info) >= 12
            ]
            try:
                sock.sendmsg([data], reply, 0, peer)
            except OSError:
                continue  # no route back for now: the probe is lost, as it should be


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="UDP echo responder for WAN link probes")
    parser.add_argument("--port", type=int, default=7)
    parser.add_argument("--address", default="0.0.0.0")  # noqa: S104 - a responder listens on all
    args = parser.parse_args(argv)
    serve(args.address, args.port)


if __name__ == "__main__":
    main()
