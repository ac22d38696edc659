"""A key rotation's step function and its composition into the members' entries, pure, by
tables of cases: one link at a time drained, switched, the next drained and the last undrained,
settled; what each member's entry says at each step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edgewise.central.orchestrator.keyrotation import (
    Phase,
    Rotation,
    busy,
    step,
)
from edgewise.central.orchestrator.topology import compose_overlays
from tests.central.orchestrator.test_topology import INET, LTE, MPLS, key, member, topology

N = key(99)
LINKS = ("mpls", "inet")
DRAIN_MPLS = Rotation(N, Phase.DRAIN, "mpls")
SWITCH_MPLS = Rotation(N, Phase.SWITCH, "mpls", ("mpls",))
DRAIN_INET = Rotation(N, Phase.DRAIN, "inet", ("mpls",))
SWITCH_INET = Rotation(N, Phase.SWITCH, "inet", ("mpls", "inet"))
SETTLE = Rotation(N, Phase.SETTLE, None, ("mpls", "inet"))


@pytest.mark.parametrize(
    ("current", "next_key", "links", "applied", "may_start", "expected"),
    [
        (None, None, LINKS, True, True, None),  # no next key: nothing
        (None, N, LINKS, True, True, DRAIN_MPLS),  # a next key: the first link is drained
        (None, N, LINKS, True, False, None),  # a peer rotates: wait
        (None, N, (), True, True, None),  # no links: nothing to ride
        (DRAIN_MPLS, N, LINKS, False, False, DRAIN_MPLS),  # not applied everywhere yet
        (DRAIN_MPLS, N, LINKS, True, False, SWITCH_MPLS),  # drained at both ends: switch
        (SWITCH_MPLS, N, LINKS, False, True, SWITCH_MPLS),
        (SWITCH_MPLS, N, LINKS, True, True, DRAIN_INET),  # the next link; mpls undrained
        (DRAIN_INET, N, LINKS, True, True, SWITCH_INET),
        (SWITCH_INET, N, LINKS, True, True, SETTLE),  # every link switched, none drained
        (SETTLE, N, LINKS, True, True, SETTLE),  # the site promotes and reports...
        (SETTLE, None, LINKS, True, True, None),  # ...its key is the next one: over
        (SWITCH_INET, None, LINKS, False, True, SWITCH_INET),  # promoted, a peer not there yet
        (SWITCH_INET, None, LINKS, True, True, None),  # every end applied the last switch
        (None, N, ("inet",), True, True, Rotation(N, Phase.DRAIN, "inet")),  # one link: still
        (Rotation(N, Phase.DRAIN, "inet"), N, ("inet",), True, True,
         Rotation(N, Phase.SWITCH, "inet", ("inet",))),  # (its break: docs/overlay.md)
        (DRAIN_MPLS, key(98), LINKS, True, True, Rotation(key(98), Phase.DRAIN, "mpls")),
        (SWITCH_MPLS, N, ("inet",), False, True,
         Rotation(N, Phase.DRAIN, "inet")),  # mpls went: on with inet
        (DRAIN_INET, N, ("inet", "lte"), True, True,
         Rotation(N, Phase.SWITCH, "inet", ("inet",))),  # a switched link went: forgotten
        (SWITCH_INET, N, ("mpls", "inet", "lte"), True, True,
         Rotation(N, Phase.DRAIN, "lte", ("mpls", "inet"))),  # a link came: its turn too
    ],
)  # fmt: skip
def test_step(
    current: Rotation | None,
    next_key: str | None,
    links: tuple[str, ...],
    applied: bool,
    may_start: bool,
    expected: Rotation | None,
) -> None:
    found = step(current, next_key=next_key, links=links, applied=applied, may_start=may_start)
    assert found == expected
    again = step(current, next_key=next_key, links=links, applied=applied, may_start=may_start)
    assert again == found  # idempotent


def test_who_may_start() -> None:
    assert busy("s", ["hub"], {"hub"})
    assert not busy("s", ["hub"], {"other-spoke"})  # spokes are not each other's peers


def endpoint_view(entry_peer: object) -> list[tuple[str, str | None, bool | None]]:
    return [(e.via, e.public_key, e.draining) for e in entry_peer.endpoints]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rotation", "s_links", "p_endpoints"),
    [
        (DRAIN_MPLS,
         [("mpls", None, True), ("inet", None, None)],
         [("mpls", None, True), ("inet", None, None)]),
        (SWITCH_MPLS,
         [("mpls", N, True), ("inet", None, None)],
         [("mpls", N, True), ("inet", None, None)]),
        (DRAIN_INET,
         [("mpls", N, None), ("inet", None, True)],
         [("mpls", N, None), ("inet", None, True)]),
        (SWITCH_INET,
         [("mpls", N, None), ("inet", N, True)],
         [("mpls", N, None), ("inet", N, True)]),
        (SETTLE,
         [("mpls", N, None), ("inet", N, None)],
         [("mpls", N, None), ("inet", N, None)]),
    ],
)  # fmt: skip
def test_compose_with_a_rotation(
    rotation: Rotation,
    s_links: list[tuple[str, str | None, bool | None]],
    p_endpoints: list[tuple[str, str | None, bool | None]],
) -> None:
    s, p = member("s", 1, MPLS, INET), member("p", 2, MPLS, INET)
    rotating = replace(topology("full-mesh", s, p), rotations={"s": rotation})
    entries = compose_overlays(rotating)
    assert [(k.link, k.public_key, k.draining) for k in entries["s"].links] == s_links
    (seen_from_p,) = entries["p"].peers
    assert seen_from_p.public_key == key(1)  # the site's key stays until it promotes
    assert endpoint_view(seen_from_p) == p_endpoints
    (seen_from_s,) = entries["s"].peers  # the peer's own tunnels are untouched
    assert endpoint_view(seen_from_s) == [("mpls", None, None), ("inet", None, None)]
    assert [(k.public_key, k.draining) for k in entries["p"].links] == [(None, None)] * 2


def test_a_promoted_site_keeps_its_rotation_until_the_step_function_ends_it() -> None:
    """The site promotes as it applies the last switch, maybe before its peers applied it:
    the drains stay (the peers route nothing over the last link until they hold the key)."""
    promoted = replace(member("s", 1, MPLS, INET), public_key=N)
    p = member("p", 2, MPLS, INET)
    entries = compose_overlays(
        replace(topology("full-mesh", promoted, p), rotations={"s": SWITCH_INET})
    )
    (seen_from_p,) = entries["p"].peers
    assert seen_from_p.public_key == N
    assert endpoint_view(seen_from_p) == [("mpls", N, None), ("inet", N, True)]
    assert [(k.public_key, k.draining) for k in entries["s"].links] == [(N, None), (N, True)]
    plain = compose_overlays(topology("full-mesh", promoted, p))  # the rotation ended
    assert endpoint_view(plain["p"].peers[0]) == [("mpls", None, None), ("inet", None, None)]


def test_the_tunnels_to_a_link_follow_the_pairing() -> None:
    """The peer's endpoints are marked by the rotating site's link they go to: a spoke with
    LTE and MPLS pairs its mpls with the hub's mpls, its lte with the hub's inet."""
    hub, spoke = member("hub", 1, MPLS, INET), member("spoke", 2, LTE, MPLS)
    rotating = replace(
        topology("hub-and-spoke", hub, spoke, hubs=("hub",)),
        rotations={"hub": Rotation(N, Phase.SWITCH, "inet", ("inet",))},
    )
    entries = compose_overlays(rotating)
    (seen,) = entries["spoke"].peers
    assert endpoint_view(seen) == [("lte", N, True), ("mpls", None, None)]
