"""SD-WAN use cases at the service level (orchestrator.links, steering, overlays over a real
store): who may do what, and what each rule refuses, without the HTTP layer."""

from __future__ import annotations

import pytest

from edgewise.central.orchestrator import documents, links, overlays, steering
from edgewise.central.orchestrator import steering_catalogue as catalogue
from edgewise.central.services import sites
from edgewise.central.services.errors import Conflict, Forbidden, NotFound, Unprocessable
from edgewise.model.sites import SiteKind
from tests.central.services.conftest import World

INET = {"name": "inet", "kind": "internet", "interface": "wan1", "dhcp": True}
LTE = {"name": "lte", "kind": "lte", "interface": "wwan0", "dhcp": True}


def site_of(world: World, name: str, *specs: dict[str, object], tenant: str = "acme") -> str:
    owner = world.acme if tenant == "acme" else world.globex
    site = sites.create_site(world.session, owner, sites.SiteSpec(name, SiteKind.ON_PREMISE)).id
    for spec in specs:
        links.add_link(world.session, world.admin, site, spec)
    return site


def test_links_are_the_operators_and_read_by_the_contract(world: World) -> None:
    site = site_of(world, "a", INET)
    with pytest.raises(Forbidden):
        links.add_link(world.session, world.acme, site, LTE)
    with pytest.raises(Unprocessable) as refused:
        links.add_link(world.session, world.admin, site, LTE | {"kind": "sat", "cost": -1})
    assert [p.where for p in refused.value.problems] == ["kind", "cost"]
    assert [k.name for k in links.list_links(world.session, world.acme, site).links] == ["inet"]
    with pytest.raises(NotFound):
        links.list_links(world.session, world.globex, site)
    assert documents.get_desired(world.session, site).revision == 1


def test_tenant_preferences_within_bounds(world: World) -> None:
    site = site_of(world, "a", INET, LTE)
    catalogue.create(world.session, world.admin, catalogue.APP_CLASSES, {"name": "bulk", "dscp": 8})
    catalogue.create(
        world.session, world.admin, catalogue.SLA_PROFILES, {"name": "p", "max_loss_percent": 5}
    )
    acme = world.acme.tenant_id
    assert acme is not None
    mine = steering.PolicySpec("tenant", None, None, "bulk", ("lte",))
    with pytest.raises(Forbidden, match="no bound"):
        steering.create_policy(world.session, world.acme, mine)
    with pytest.raises(Forbidden):
        steering.set_bounds(world.session, world.acme, acme, [steering.BoundSpec("bulk", ("lte",))])
    steering.set_bounds(world.session, world.admin, acme, [steering.BoundSpec("bulk", ("lte",))])
    with pytest.raises(Forbidden, match=r"links\[0\]: link 'inet' is outside"):
        steering.create_policy(
            world.session, world.acme, steering.PolicySpec("tenant", None, None, "bulk", ("inet",))
        )
    with pytest.raises(Forbidden, match="sla"):
        steering.create_policy(
            world.session,
            world.acme,
            steering.PolicySpec("tenant", None, None, "bulk", ("lte",), "p"),
        )
    made = steering.create_policy(world.session, world.acme, mine)
    assert made.tenant_id == acme
    with pytest.raises(NotFound):
        steering.read_policy(world.session, world.globex, made.id)
    with pytest.raises(NotFound):
        steering.read_bounds(world.session, world.globex, acme)
    with pytest.raises(Forbidden):
        steering.create_policy(
            world.session, world.acme, steering.PolicySpec("fleet", None, None, "bulk", ("lte",))
        )
    document = documents.get_desired(world.session, site).document
    assert document["steering"]["policies"] == [
        {"class": "bulk", "links": ["lte"], "spread": False, "tenant": acme}
    ]
    with pytest.raises(Conflict, match="in use"):
        catalogue.delete(world.session, world.admin, catalogue.APP_CLASSES, "bulk")


def test_overlays_are_one_per_tenant_and_of_its_sites_only(world: World) -> None:
    hub = site_of(world, "hub", INET)
    theirs = site_of(world, "theirs", INET, tenant="globex")
    acme = world.acme.tenant_id
    assert acme is not None
    spec = overlays.OverlaySpec(acme, "corp", "hub-and-spoke", "10.200.0.0/16", hubs=(hub,))
    with pytest.raises(Forbidden):
        overlays.create_overlay(world.session, world.acme, spec)
    made = overlays.create_overlay(world.session, world.admin, spec)
    with pytest.raises(Conflict, match="has an overlay already"):
        overlays.create_overlay(world.session, world.admin, spec)
    with pytest.raises(Unprocessable) as foreign:
        overlays.join(world.session, world.admin, made.id, [theirs])
    assert [p.where for p in foreign.value.problems] == ["siteIds[0]"]
    spoke = site_of(world, "spoke", INET)
    with pytest.raises(Unprocessable) as lacking:
        overlays.join(world.session, world.admin, made.id, [spoke], ["inet", "lte"])
    assert [p.where for p in lacking.value.problems] == ["links[1]"]
    assert overlays.list_overlays(world.session, world.globex) == []
    with pytest.raises(NotFound):
        overlays.read_overlay(world.session, world.globex, made.id)
    with pytest.raises(Conflict, match="hub"):
        overlays.leave(world.session, world.admin, made.id, hub)
