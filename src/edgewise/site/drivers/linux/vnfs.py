"""Building, configuring and tearing down one VNF namespace (worker thread).

A VNF is a namespace with loopback up, forwarding on, its label on the loopback's alias and its
ruleset; its links come from the chain wiring (wiring.py). Static routes of a router and the
token buckets of a rate limiter are set on its legs (at wiring time, or at a config change);
the program of a process VNF starts with it, and again when its config or its links change;
a third-party VNF is prepared with it (packages, directories) and started once wired (driver).
"""

from __future__ import annotations

from edgewise.model.desired import VnfSpec
from edgewise.model.functions import ProcessConfig, RateLimiterConfig, RouterConfig
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import Netlink, SoftwareRunner
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN, PROTO_STATIC, VnfLabel
from edgewise.site.drivers.linux.rulesets import table_batch
from edgewise.site.drivers.linux.shaping import apply_shaping

LOOPBACK_INDEX = 1  # `lo` is the first interface of every new namespace
VNF_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}


def build_vnf(
    host: Host,
    namespace: str,
    service_id: str,
    spec: VnfSpec,
    software: SoftwareRunner | None = None,
) -> None:
    """Creates the VNF's namespace with its ruleset; on failure leaves nothing behind."""
    config = spec.config
    host.create_namespace(namespace)
    try:
        host.write_sysctl(namespace, VNF_SYSCTLS)
        label = VnfLabel(service_id, spec.name, spec.function.value).encode()
        with host.netlink(namespace) as nl:
            nl.set_link(LOOPBACK_INDEX, ifalias=label, state="up")
        with host.nft(namespace) as nft:
            nft.run(table_batch(spec.function.value, spec.ruleset_digest(), config))
        if isinstance(config, ProcessConfig):
            host.processes.start(namespace, config, restart=False)
        if isinstance(config, SoftwareConfig) and software is not None:
            software.prepare(namespace, config, spec.ruleset_digest())
    except BaseException:
        host.processes.stop(namespace)
        if software is not None:
            software.remove(namespace)
        host.remove_namespace(namespace)
        raise


def configure_vnf(host: Host, namespace: str, spec: VnfSpec) -> None:
    """Replaces the VNF's ruleset in one transaction (and a wired router's static routes)."""
    config = spec.config
    with host.nft(namespace) as nft:
        nft.run(table_batch(spec.function.value, spec.ruleset_digest(), config))
    if isinstance(config, RouterConfig):
        with host.netlink(namespace) as nl:
            set_static_routes(nl, config)
    elif isinstance(config, RateLimiterConfig):
        with host.netlink(namespace) as nl:
            apply_shaping(nl, config, replace=True)
    elif isinstance(config, ProcessConfig):
        host.processes.start(namespace, config, restart=False)


def restart_process(host: Host, namespace: str, spec: VnfSpec, *, died: bool = True) -> None:
    """Starts a process VNF's program again: it `died` (counted), or its interfaces are new."""
    config = spec.config
    if isinstance(config, ProcessConfig):
        host.processes.start(namespace, config, restart=died)


def set_static_routes(nl: Netlink, config: RouterConfig) -> bool:
    """Makes the router's static routes exactly `config.routes`; skipped until it has its legs."""
    legs = {link.group: link.index for link in nl.links() if link.group in (GROUP_LAN, GROUP_WAN)}
    if len(legs) < 2:
        return False
    wanted = [
        (
            r.destination,
            r.via,
            legs[GROUP_LAN if r.device == "lan" else GROUP_WAN] if r.device else None,
            r.metric,
        )
        for r in config.routes
    ]
    changed = False
    for route in nl.routes(PROTO_STATIC):
        if not any(route.destination == d and route.gateway == g for d, g, _, _ in wanted):
            nl.delete_route(route)
            changed = True
    present = {(r.destination, r.gateway) for r in nl.routes(PROTO_STATIC)}
    for destination, gateway, oif, metric in wanted:
        if (destination, gateway) not in present:
            nl.replace_route(destination, PROTO_STATIC, gateway=gateway, oif=oif, metric=metric)
            changed = True
    return changed


def teardown_vnf(host: Host, namespace: str, software: SoftwareRunner | None = None) -> bool:
    """Removes the VNF's namespace; the kernel deletes its veths (and their peers) shortly after.

    Link names are unique per link, so a rebuild right away cannot collide with a veth the
    kernel is still deleting.
    """
    host.processes.stop(namespace)  # a process would keep the namespace alive
    if software is not None:
        software.remove(namespace)  # its terminate hooks run in the namespace
    return host.remove_namespace(namespace)
