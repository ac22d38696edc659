"""What the linux driver does for third-party VNFs (worker thread): their deployment from the
kernel's view of their legs, their start once wired, and their status in what observe reports.
"""

from __future__ import annotations

from edgewise.model.desired import ServiceSpec, VnfSpec
from edgewise.model.functions import VnfFunction
from edgewise.model.software import SoftwareConfig
from edgewise.site.drivers.linux.host import Host
from edgewise.site.drivers.linux.kernel import Netlink, SoftwareRunner
from edgewise.site.drivers.linux.layout import GROUP_LAN, GROUP_WAN, SiteNetwork
from edgewise.site.drivers.linux.software.facts import Leg, VnfFacts
from edgewise.site.drivers.linux.software.values import Deployment
from edgewise.site.drivers.linux.survey import SiteView

SOFTWARE = VnfFunction.SOFTWARE.value


def read_legs(nl: Netlink) -> tuple[Leg | None, Leg | None]:
    """The VNF's LAN and WAN legs (by interface group), each with its first address."""
    found: dict[int, Leg] = {}
    for link in nl.links():
        if link.group in (GROUP_LAN, GROUP_WAN):
            addresses = sorted(nl.addresses(link.index))
            found[link.group] = Leg(link.name, addresses[0] if addresses else None)
    return found.get(GROUP_LAN), found.get(GROUP_WAN)


def deployment(  # noqa: PLR0917 - the driver's one call
    host: Host,
    runner: SoftwareRunner,
    site: SiteNetwork,
    slot: int,
    service_id: str,
    spec: VnfSpec,
) -> Deployment:
    """What `spec` (a software VNF) runs with, its legs as the kernel has them now."""
    assert isinstance(spec.config, SoftwareConfig)
    namespace = site.vnf_namespace(slot, spec.name)
    with host.netlink(namespace) as nl:
        lan, wan = read_legs(nl)
    facts = VnfFacts(spec.name, service_id, namespace, runner.dirs(namespace),
                     site.lan_subnet(slot), site.lan_gateway(slot), lan, wan)  # fmt: skip
    return Deployment(spec.config, spec.config_digest(), facts)


def start_wired(
    host: Host, runner: SoftwareRunner, site: SiteNetwork, slot: int, spec: ServiceSpec
) -> bool:
    """After wiring: (re)starts each software VNF of the chain whose legs are not those its
    programs were rendered with; True when one was started."""
    changed = False
    for name in spec.chain:
        vnf = spec.vnf(name)
        if vnf is None or vnf.function is not VnfFunction.SOFTWARE:
            continue
        wanted = deployment(host, runner, site, slot, spec.id, vnf)
        if runner.started_with(wanted.facts.namespace) != wanted.facts.variables():
            runner.start(wanted)
            changed = True
    return changed


def mark_software(view: SiteView, runner: SoftwareRunner) -> None:
    """Puts each software VNF's status into its view: its counters' `software`, and a fault
    (PROCESS_DOWN) when a program's restart is due, or when its legs are wired but the set does
    not run on them (its start failed after the wiring: the restart starts it)."""
    for service in view.services.values():
        for vnf in service.vnfs.values():
            if vnf.label is None or vnf.label.function != SOFTWARE:
                continue
            status = runner.status(vnf.namespace)
            legs = {e.link.group: e.link.name for e in vnf.ends if e.namespace == vnf.namespace}
            started = runner.started_with(vnf.namespace) or {}
            behind = (
                GROUP_LAN in legs
                and GROUP_WAN in legs
                and (started.get("lan_if"), started.get("wan_if"))
                != (legs[GROUP_LAN], legs[GROUP_WAN])
            )
            vnf.process_ok = status is not None and not status.restart_due and not behind
            vnf.counters["software"] = (
                status.as_json() if status is not None else {"state": "failed",
                                                             "reason": "no state recorded"}
            )  # fmt: skip
