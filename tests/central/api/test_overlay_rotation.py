"""A key rotation through the central (store, status intake, documents; the sites simulated by
their status reports): it starts when a site reports its next key, moves one link at a time
as the site and its peers report each revision applied, and ends when the site reports the
next key as its key; a member leaving, or the overlay deleted, mid-rotation ends it cleanly."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from edgewise.central.orchestrator import sdwan
from edgewise.central.services import link_reports
from edgewise.central.store.sdwan_tables import OverlayRotationRow, OverlayRotationWaitRow
from edgewise.central.store.tables import SiteStatusRow
from tests.central.api.conftest import Caller, Central
from tests.central.api.sdwan import LTE, MPLS, document, new_site
from tests.central.api.test_overlays import key, overlays_of, report

NEXT = key(99)
ITEMS = itertools.count()


class Sites:
    """Sites of one tenant's full mesh that report as a site controller would: the revision
    they applied and their keys."""

    def __init__(self, central: Central, tenant: Caller, names: list[str]) -> None:
        self.central, self.tenant = central, tenant
        self.ids = {name: new_site(central, tenant, name, MPLS, LTE) for name in names}
        created = central.client.post(
            "/api/v1/overlays",
            json={"tenantId": tenant.tenant_id, "name": "mesh", "topology": "full-mesh",
                  "prefix": "10.210.0.0/24", "sites": list(self.ids.values())},
            headers=central.admin.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        self.overlay = created.json()["id"]
        self.keys = {name: {"public_key": key(n + 1)} for n, name in enumerate(names)}
        for name in names:
            self.apply(name)

    def apply(self, name: str, **keys: str) -> int:
        """`name` applies its desired revision and reports it (with `keys` as its keys now)."""
        if keys:
            self.keys[name] = keys
        revision = document(self.central, self.ids[name])[0]
        body: dict[str, Any] = {"revision": revision}
        body["overlay_keys"] = {self.tenant.tenant_id: self.keys[name]}
        report(self.central, self.ids[name], f"r{next(ITEMS)}", **body)
        return revision

    def entry(self, name: str) -> dict[str, Any]:
        (found,) = overlays_of(self.central, self.ids[name])
        return found

    def links(self, name: str) -> list[tuple[str, str | None, bool]]:
        return [(k["link"], k.get("public_key"), k.get("draining", False))
                for k in self.entry(name)["links"]]  # fmt: skip

    def tunnels(self, name: str, to: str) -> list[tuple[str, str | None, bool]]:
        """`name`'s tunnels to `to`: (its link, the key it expects there, draining)."""
        (peer,) = [p for p in self.entry(name)["peers"] if p["site"] == self.ids[to]]
        return [(e["via"], e.get("public_key"), e.get("draining", False))
                for e in peer["endpoints"]]  # fmt: skip

    def peer_key(self, name: str, of: str) -> str:
        (peer,) = [p for p in self.entry(name)["peers"] if p["site"] == self.ids[of]]
        found: str = peer["public_key"]
        return found

    def rotations(self) -> tuple[int, int]:
        with self.central.sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(OverlayRotationRow)) or 0,
                session.scalar(select(func.count()).select_from(OverlayRotationWaitRow)) or 0,
            )


def test_a_rotation_walks_link_by_link_to_the_end(central: Central) -> None:
    sites = Sites(central, central.tenant("acme"), ["s", "p"])
    plain = [("mpls", None, False), ("lte", None, False)]
    assert sites.links("s") == plain
    assert sites.tunnels("p", "s") == plain
    # the site reports its next key: its first link is drained at both ends
    old = sites.keys["s"]["public_key"]
    sites.apply("s", public_key=old, next_public_key=NEXT)
    drain_mpls = [("mpls", None, True), ("lte", None, False)]
    assert sites.links("s") == drain_mpls
    assert sites.tunnels("p", "s") == drain_mpls
    assert sites.rotations() == (1, 2)  # waiting for both
    # one end applied: nothing moves; both: the drained link switches
    sites.apply("s")
    assert sites.links("s") == drain_mpls
    sites.apply("p")
    switch_mpls = [("mpls", NEXT, True), ("lte", None, False)]
    assert sites.links("s") == switch_mpls
    assert sites.tunnels("p", "s") == switch_mpls
    assert sites.peer_key("p", "s") == old
    # the peer first this time; then the next link is drained, the switched one undrained
    sites.apply("p")
    assert sites.links("s") == switch_mpls
    sites.apply("s")
    drain_lte = [("mpls", NEXT, False), ("lte", None, True)]
    assert sites.links("s") == drain_lte
    assert sites.tunnels("p", "s") == drain_lte
    sites.apply("s")
    sites.apply("p")
    switch_lte = [("mpls", NEXT, False), ("lte", NEXT, True)]
    assert sites.links("s") == switch_lte
    assert sites.tunnels("p", "s") == switch_lte
    sites.apply("p")
    sites.apply("s")
    settle = [("mpls", NEXT, False), ("lte", NEXT, False)]
    assert sites.links("s") == settle
    assert sites.tunnels("p", "s") == settle
    assert sites.tunnels("s", "p") == plain  # the peer's own tunnels never moved
    # applied again and again, nothing moves until the site promotes its next key
    revision = sites.apply("s")
    sites.apply("p")
    sites.apply("s")
    assert document(central, sites.ids["s"])[0] == revision
    sites.apply("s", public_key=NEXT)
    assert sites.links("s") == plain
    assert sites.tunnels("p", "s") == plain
    assert sites.peer_key("p", "s") == NEXT
    assert sites.rotations() == (0, 0)


def test_a_site_promoting_before_its_peer_applied_the_last_switch(central: Central) -> None:
    """The site promotes as it applies the last switch; its report alone does not end the
    rotation: the peer's tunnel to the last link stays drained until the peer applied it."""
    sites = Sites(central, central.tenant("acme"), ["s", "p"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    for _ in range(3):  # drain mpls, switch mpls, drain lte: both apply each
        sites.apply("s")
        sites.apply("p")
    switch_lte = [("mpls", NEXT, False), ("lte", NEXT, True)]
    assert sites.tunnels("p", "s") == switch_lte
    sites.apply("s", public_key=NEXT)  # promoted as it applied the switch; p has not yet
    assert sites.tunnels("p", "s") == switch_lte
    assert sites.peer_key("p", "s") == NEXT
    sites.apply("p")
    assert sites.tunnels("p", "s") == [("mpls", None, False), ("lte", None, False)]
    assert sites.links("s") == [("mpls", None, False), ("lte", None, False)]
    assert sites.rotations() == (0, 0)


def test_only_the_last_report_a_step_waits_for_steps_it(central: Central) -> None:
    """Each site's report strikes its wait off; only the one that leaves none asks for the
    rotation to step (a hub's spokes applying a step recompose the hub once, not per spoke)."""
    sites = Sites(central, central.tenant("acme"), ["s", "p", "q"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    answers = []
    for name in ("p", "q", "s"):
        revision = document(central, sites.ids[name])[0]
        with central.sessions.begin() as session:
            body = {"revision": revision}
            answers.append(link_reports.record(session, sites.ids[name], body, datetime.now(UTC)))
    assert answers == [False, False, True]


def test_a_sweep_steps_a_rotation_whose_last_reports_crossed(central: Central) -> None:
    """Two replicas take in the step's last two reports at once, each seeing the other's wait
    still there: neither steps it. The timer's sweep finds every wait met and steps it, once."""
    sites = Sites(central, central.tenant("acme"), ["s", "p"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    with central.sessions.begin() as session:  # both applied; their waits not struck off
        for name in ("s", "p"):
            row = session.get_one(SiteStatusRow, sites.ids[name])
            row.applied_revision = document(central, sites.ids[name])[0]
    assert sites.rotations() == (1, 2)
    with central.sessions.begin() as session:
        written = sdwan.sweep_rotations(session)
    assert set(written) == set(sites.ids.values())
    assert sites.links("s")[0] == ("mpls", NEXT, True)
    assert sites.rotations() == (1, 2)  # the switch's waits
    with central.sessions.begin() as session:
        assert sdwan.sweep_rotations(session) == {}  # nothing met: nothing composed


def test_the_trackers_pass_sweeps_the_rotations(central: Central) -> None:
    """The same crossing, left to the workers: their tracker pass (every second) steps it."""
    sites = Sites(central, central.tenant("acme"), ["s", "p"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    with central.sessions.begin() as session:
        for name in ("s", "p"):
            row = session.get_one(SiteStatusRow, sites.ids[name])
            row.applied_revision = document(central, sites.ids[name])[0]
    deadline = time.monotonic() + 10
    while sites.links("s")[0] != ("mpls", NEXT, True) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sites.links("s")[0] == ("mpls", NEXT, True)


def test_a_peer_leaving_mid_rotation_is_waited_for_no_more(central: Central) -> None:
    sites = Sites(central, central.tenant("acme"), ["s", "p", "q"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    sites.apply("p")  # q never applies the drain: the rotation waits for it
    assert sites.links("s")[0] == ("mpls", None, True)
    left = central.client.delete(
        f"/api/v1/overlays/{sites.overlay}/members/{sites.ids['q']}",
        headers=central.admin.headers,
    )
    assert left.status_code == 200, left.text
    assert sites.links("s")[0] == ("mpls", None, True)  # s has not applied it either
    sites.apply("s")
    assert sites.links("s")[0] == ("mpls", NEXT, True)  # moved on without q
    assert overlays_of(central, sites.ids["q"]) == []


def test_the_rotating_site_leaving_or_the_overlay_deleted_ends_it(central: Central) -> None:
    sites = Sites(central, central.tenant("acme"), ["s", "p", "q"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    assert sites.rotations() == (1, 3)
    left = central.client.delete(
        f"/api/v1/overlays/{sites.overlay}/members/{sites.ids['s']}",
        headers=central.admin.headers,
    )
    assert left.status_code == 200, left.text
    assert sites.rotations() == (0, 0)
    assert [p["site"] for p in sites.entry("p")["peers"]] == [sites.ids["q"]]
    assert sites.tunnels("p", "q") == [("mpls", None, False), ("lte", None, False)]
    # q rotates, then the overlay goes
    sites.apply("q", public_key=sites.keys["q"]["public_key"], next_public_key=NEXT)
    assert sites.rotations() == (1, 2)
    gone = central.client.delete(f"/api/v1/overlays/{sites.overlay}", headers=central.admin.headers)
    assert gone.status_code == 204
    assert sites.rotations() == (0, 0)
    sites.apply("q")  # a late report changes nothing
    assert overlays_of(central, sites.ids["q"]) == []


def test_two_peers_do_not_rotate_at_once(central: Central) -> None:
    sites = Sites(central, central.tenant("acme"), ["s", "p"])
    sites.apply("s", public_key=sites.keys["s"]["public_key"], next_public_key=NEXT)
    sites.apply("p", public_key=sites.keys["p"]["public_key"], next_public_key=key(98))
    assert sites.links("p") == [("mpls", None, False), ("lte", None, False)]  # p waits
    assert sites.rotations() == (1, 1)  # p's report applied s's first step: s waits for s
    for _ in range(3):  # s's rotation goes through its steps meanwhile
        sites.apply("s")
        sites.apply("p")
    sites.apply("s", public_key=NEXT)  # s promoted: p's turn
    assert sites.links("p") == [("mpls", None, True), ("lte", None, False)]
