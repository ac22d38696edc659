"""Sites and site groups: capacity defaults, label selectors, paging, tenant scoping."""

from __future__ import annotations

import pytest

from edgewise.central.services import sites
from edgewise.central.services.errors import Conflict, Forbidden, Invalid, NotFound
from edgewise.model.sites import LabelSelector, SiteKind
from tests.central.services.conftest import World


def test_capacity_defaults_follow_the_site_kind(world: World) -> None:
    box = sites.create_site(world.session, world.acme, sites.SiteSpec("cpe-1", SiteKind.ON_PREMISE))
    pop = sites.create_site(
        world.session, world.acme, sites.SiteSpec("pop-1", SiteKind.CLOUD, compute_nodes=3)
    )
    assert (box.compute_nodes, box.slots_per_node) == (1, 2)
    assert (pop.compute_nodes, pop.slots_per_node) == (3, 20)


def test_on_premise_site_is_one_box(world: World) -> None:
    with pytest.raises(Invalid, match="one box"):
        sites.create_site(
            world.session, world.acme, sites.SiteSpec("cpe", SiteKind.ON_PREMISE, compute_nodes=2)
        )


def test_names_are_unique_per_tenant_only(world: World) -> None:
    sites.create_site(world.session, world.acme, sites.SiteSpec("hq", SiteKind.ON_PREMISE))
    with pytest.raises(Conflict):
        sites.create_site(world.session, world.acme, sites.SiteSpec("hq", SiteKind.ON_PREMISE))
    sites.create_site(world.session, world.globex, sites.SiteSpec("hq", SiteKind.ON_PREMISE))


def test_admin_must_name_the_owner_and_tenants_only_their_own(world: World) -> None:
    with pytest.raises(Forbidden):
        sites.create_site(world.session, world.admin, sites.SiteSpec("x", SiteKind.CLOUD))
    with pytest.raises(Forbidden):
        sites.create_site(
            world.session,
            world.acme,
            sites.SiteSpec("x", SiteKind.CLOUD, tenant_id=world.globex.tenant_id),
        )


def test_label_selector_filters_and_pages(world: World) -> None:
    for index in range(12):
        region = "eu" if index % 2 else "us"
        sites.create_site(
            world.session,
            world.acme,
            sites.SiteSpec(f"s{index:02d}", SiteKind.ON_PREMISE, labels={"region": region}),
        )
    selector = LabelSelector.parse("region=eu")
    names: list[str] = []
    marker = None
    while True:
        page = sites.list_sites(
            world.session, world.acme, selector=selector, marker=marker, limit=4
        )
        names.extend(s.name for s in page.items)
        if page.next_marker is None:
            break
        marker = page.next_marker
    assert names == [f"s{i:02d}" for i in range(12) if i % 2]


def test_another_tenants_site_is_not_found(world: World) -> None:
    theirs = sites.create_site(world.session, world.globex, sites.SiteSpec("g", SiteKind.CLOUD))
    with pytest.raises(NotFound):
        sites.get_site(world.session, world.acme, theirs.id)
    with pytest.raises(NotFound):
        sites.delete_site(world.session, world.acme, theirs.id)
    assert sites.list_sites(world.session, world.acme, marker=None, limit=10).items == ()


def test_groups_hold_only_the_owners_sites(world: World) -> None:
    mine = sites.create_site(world.session, world.acme, sites.SiteSpec("a", SiteKind.CLOUD))
    theirs = sites.create_site(world.session, world.globex, sites.SiteSpec("b", SiteKind.CLOUD))
    with pytest.raises(Invalid) as refused:
        sites.create_group(world.session, world.acme, "g", [mine.id, theirs.id])
    assert [p.where for p in refused.value.problems] == ["siteIds[1]"]
    group = sites.create_group(world.session, world.acme, "g", [mine.id, mine.id])
    assert group.site_ids == (mine.id,)
    page = sites.list_sites(world.session, world.acme, group_id=group.id, marker=None, limit=10)
    assert [s.id for s in page.items] == [mine.id]
    sites.update_group(world.session, world.acme, group.id, site_ids=[], description=None)
    assert sites.read_group(world.session, world.acme, group.id).site_ids == ()


def test_deleting_a_site_removes_it_from_groups(world: World) -> None:
    site = sites.create_site(world.session, world.acme, sites.SiteSpec("a", SiteKind.CLOUD))
    group = sites.create_group(world.session, world.acme, "g", [site.id])
    world.session.commit()
    sites.delete_site(world.session, world.acme, site.id)
    world.session.commit()
    world.session.expire_all()
    assert sites.read_group(world.session, world.acme, group.id).site_ids == ()
