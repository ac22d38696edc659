"""`python -m edgewise.site.drivers.linux.dpi`: the DPI classifier as a process of its own
(the site controller starts one per WAN namespace; docs/dpi.md). Exits 0 on SIGTERM, 2 on bad
arguments, 3 when the host lacks what it needs, 4 when the queue or its rules fail."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from edgewise.site.drivers.linux.dpi.classifier import GIVE_UP_AFTER
from edgewise.site.drivers.linux.dpi.errors import DpiConfigError, DpiUnavailable, QueueError
from edgewise.site.drivers.linux.dpi.hooks import HOOKS
from edgewise.site.drivers.linux.dpi.program import Options, run, stop_on_signals

log = logging.getLogger("edgewise.site.drivers.linux.dpi")


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m edgewise.site.drivers.linux.dpi",
                                     description=__doc__)  # fmt: skip
    parser.add_argument("--queue", type=int, default=0, help="netfilter queue number (0-65535)")
    parser.add_argument("--netns", help="network namespace to classify in (default: this one)")
    parser.add_argument("--give-up-after", type=int, default=GIVE_UP_AFTER,
                        help="packets per flow (both directions) before giving up")  # fmt: skip
    parser.add_argument("--hook", action="append", choices=HOOKS,
                        help="mangle hooks to queue from (default FORWARD)")  # fmt: skip
    parser.add_argument("--status-file", type=Path, help="JSON status written periodically")
    parser.add_argument("--status-every", type=float, default=2.0, help="seconds")
    parser.add_argument("--max-flows", type=int, default=16384, help="flows inspected at once")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds before a flow expires")
    parser.add_argument("--custom", action="append", default=[], metavar="NAME=HOST[,HOST]",
                        help="a custom application by host/SNI patterns, e.g. "
                        "corp=*.example.com (repeatable)")  # fmt: skip
    parser.add_argument("--cache", action="store_true",
                        help="learn identified servers into the nftables application cache "
                        "(table ip ew_appcache, made by the site controller)")  # fmt: skip
    parser.add_argument("--learn-dns", action="store_true",
                        help="with --cache: cache the addresses DNS answers give for the custom "
                        "applications' hosts (tcp 443, 80; udp 443)")  # fmt: skip
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    args = parser.parse_args(argv)
    custom: dict[str, tuple[str, ...]] = {}
    for item in args.custom:
        name, sep, hosts = item.partition("=")
        if not sep or not name or not hosts:
            parser.error(f"--custom {item!r}: expected NAME=HOST[,HOST...]")
        custom[name] = tuple(h.strip() for h in hosts.split(","))
    if not 0 <= args.queue <= 0xFFFF:
        parser.error(f"--queue {args.queue}: expected 0 to 65535")
    if not 1 <= args.give_up_after <= 255:
        parser.error(f"--give-up-after {args.give_up_after}: expected 1 to 255")
    if args.max_flows < 1 or args.idle <= 0 or args.status_every <= 0:
        parser.error("--max-flows, --idle and --status-every must be positive")
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s dpi: %(message)s")  # fmt: skip
    return Options(
        queue=args.queue, netns=args.netns, give_up_after=args.give_up_after,
        hooks=tuple(args.hook or ("FORWARD",)), status_file=args.status_file,
        status_every=args.status_every, max_flows=args.max_flows, idle=args.idle, custom=custom,
        cache=args.cache, learn_dns=args.learn_dns,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        run(options, stop)
    except (DpiUnavailable, DpiConfigError) as exc:
        log.error("%s", exc.message)  # noqa: TRY400 - the message says it all
        return 3 if isinstance(exc, DpiUnavailable) else 2
    except QueueError as exc:
        log.error("%s", exc.message)  # noqa: TRY400
        return 4
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
