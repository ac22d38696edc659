"""The WAN side of a site for `overlay_throughput.py --site`: what the linux driver puts in a
WAN namespace around an overlay, built from the driver's own batches and constants.

In each of the two namespaces: the link's routing table (default via the other end, then the
unreachable default) and its fwmark rule, `rp_filter` 0 (as the overlay side sets it), and the
nftables tables `ip ew_links` (source NAT out of the link) and `ip ew_steer` (steering, default
traffic on the link), so every packet is tracked and crosses the steering chains. The Edgewise
device then gets what `overlays.py` gives it: OVERLAY_MARK plus the link's mark on its UDP,
its peer's prefix in OVERLAY_TABLE, the overlay's two rules. The hand tunnel stays as made by
hand: its packets cross the same tables, with no mark.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface

from tests.site.drivers.netlab import in_ns, ip

from edgewise.model.links import WanLink
from edgewise.model.steering import Steering
from edgewise.site.drivers.linux.overlays import OVERLAY_MARK, OVERLAY_TABLE, RULE_PRIORITY
from edgewise.site.drivers.linux.steering import route_elements, steering_batch
from edgewise.site.drivers.linux.wanplan import LinkPlan, links_batch
from edgewise.site.drivers.linux.wireguard import OverlayDevice
from edgewise.site.drivers.linux.wireguard.underlay import Underlay
from edgewise.site.sdwan.decide import DEFAULT, Decision, Route

SLOT = 1
LINK = "wan"


def link_plan(interface: str, address: str, gateway: str) -> LinkPlan:
    link = WanLink(name=LINK, kind="internet", interface=interface,
                   address=IPv4Interface(address), gateway=IPv4Address(gateway))  # fmt: skip
    return LinkPlan(link, SLOT, link.gateway)


def build_wan_side(namespace: str, plan: LinkPlan) -> None:
    """The link's table, rule and sysctls, and the links and steering tables, in `namespace`."""
    for key in ("all", "default", plan.link.interface):
        in_ns(namespace, "sysctl", "-qw", f"net.ipv4.conf.{key}.rp_filter=0")
    table = str(plan.table)
    ip("-n", namespace, "route", "add", "default", "via", str(plan.gateway), "dev",
       plan.link.interface, "table", table)  # fmt: skip
    ip("-n", namespace, "route", "add", "unreachable", "default", "metric", "65535", "table", table)
    rule = plan.rule
    ip("-n", namespace, "rule", "add", "fwmark", f"{rule.fwmark:#x}/{rule.fwmask:#x}", "lookup",
       table, "priority", str(rule.priority))  # fmt: skip
    steering = Steering()
    decision = Decision({DEFAULT: Route((LINK,), 0.0)})
    elements = route_elements(steering, {LINK: plan}, decision)
    batch = links_batch([plan], "bench") + steering_batch(
        steering, {LINK: plan}, {}, elements, "bench"
    )
    subprocess.run(
        ["ip", "netns", "exec", namespace, "nft", "-j", "-f", "-"],
        input=json.dumps({"nftables": batch}), text=True, check=True, timeout=10,
    )  # fmt: skip


def site_device(device: OverlayDevice, plan: LinkPlan) -> OverlayDevice:
    """`device` as the overlay plan makes it at a site: the marks, routed in OVERLAY_TABLE."""
    return replace(device, fwmark=OVERLAY_MARK | plan.mark, table=OVERLAY_TABLE)


def underlay(device: OverlayDevice) -> Underlay:
    """The overlay's rules for `device` (overlayside.py sets these)."""
    return Underlay(OVERLAY_TABLE, OVERLAY_MARK, RULE_PRIORITY, (device.name,))
