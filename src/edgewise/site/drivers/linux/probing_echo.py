"""A UDP echo responder for link probes (tests, the demo, or a hub without one): every datagram
goes back to its sender as it came. Run it in the target's namespace:

    python -m edgewise.site.drivers.linux.probing_echo --port 7 [--address 0.0.0.0]

It prints "ready" once listening and runs until killed.
"""

from __future__ import annotations

import argparse
import socket
import sys

BUFFER = 2048


def serve(address: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, port))
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while True:
            data, peer = sock.recvfrom(BUFFER)
            try:
                sock.sendto(data, peer)
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
