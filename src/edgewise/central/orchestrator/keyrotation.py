"""A site's overlay key rotation as the central runs it, pure: the state (which of the site's
links use the next key, which one is drained) and the step function that moves it on once
the site and its peers applied the last step. `orchestrator.rotations` keeps it in the store;
`topology.compose_overlays` writes it into the documents (docs/overlay.md, "Key rotation").

Per (site, tenant) with a next key reported, one link at a time: DRAIN y (the site's link y
and its peers' tunnels to it carry no traffic; the link before is undrained), SWITCH y (both
ends of y's tunnels use the next key, y still drained). The last switch names the next key on
every link, so the site promotes it as it applies that step, and its report ends the rotation;
should the site still report its next key once every end applied it, SETTLE undrains the last
link and waits for the promotion.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    DRAIN = "drain"  # `link` drained at both ends, its key unchanged
    SWITCH = "switch"  # `link` uses the next key at both ends, still drained
    SETTLE = "settle"  # every link uses the next key, none drained: waits for the promotion


@dataclass(frozen=True)
class Rotation:
    """Where one site's rotation to `next_key` stands."""

    next_key: str
    phase: Phase
    link: str | None  # the link drained (DRAIN, SWITCH); None when settling
    switched: tuple[str, ...] = ()  # the links using the next key, in the order switched

    def uses_next(self, link: str) -> bool:
        return link in self.switched

    def drains(self, link: str) -> bool:
        return self.phase is not Phase.SETTLE and link == self.link


def step(
    current: Rotation | None,
    *,
    next_key: str | None,
    links: Sequence[str],
    applied: bool,
    may_start: bool = True,
) -> Rotation | None:
    """The rotation after this one (None: none under way), from the next key the site
    reports (None once it promoted it: the rotation ends once every end applied the step
    that made it promote, not before — a peer may not hold the key yet), its links in order,
    whether the site and its peers applied the documents of `current` (`applied`), and whether
    it may start now (no rotation of its peers is under way). Idempotent: the same inputs give
    the same answer."""
    if next_key is None:  # promoted (or never prepared): over once every end applied
        return current if current is not None and not applied else None
    if not links:
        return None  # nothing to ride
    if current is None or current.next_key != next_key:
        return Rotation(next_key, Phase.DRAIN, links[0]) if may_start else None
    switched = tuple(link for link in current.switched if link in links)
    current = replace(current, switched=switched)
    if current.link is not None and current.link not in links:
        return _next_link(current, links)  # the link it was on left the site: the rest
    if not applied:
        return current
    if current.phase is Phase.DRAIN:
        assert current.link is not None
        return replace(current, phase=Phase.SWITCH, switched=(*switched, current.link))
    if current.phase is Phase.SWITCH:
        return _next_link(current, links)
    return current  # settling: the site promotes and reports, which ends it


def _next_link(current: Rotation, links: Sequence[str]) -> Rotation:
    """Drains the first link not switched yet; settles when none is left."""
    left = [link for link in links if link not in current.switched]
    if left:
        return replace(current, phase=Phase.DRAIN, link=left[0])
    return replace(current, phase=Phase.SETTLE, link=None)


def busy(site: str, peers: Collection[str], rotating: Collection[str]) -> bool:
    """Whether a rotation of `site` must wait: it, or one of its peers, rotates now (two ends
    of one tunnel moving at once could leave a pair of sites no undrained tunnel)."""
    return site in rotating or any(peer in rotating for peer in peers)
