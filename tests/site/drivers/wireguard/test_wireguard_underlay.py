"""The engine's `route_peers` and `underlay` on the real kernel (root, wireguard-go): the
steered routes of a table become exactly those asked (others removed, moves in place), the
overlay's rules exactly those asked (and nothing of anyone else's), both idempotent; the
in-memory overlay answers the same."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.wireguard import OverlayEngine
from edgewise.site.drivers.linux.wireguard.fake import FakeOverlay
from edgewise.site.drivers.linux.wireguard.underlay import Underlay
from tests.site.drivers.netlab import in_ns
from tests.site.drivers.wireguard.overlab import OverlayLab

pytestmark = pytest.mark.anyio
TABLE = 777
A, B, C = (IPv4Network(p) for p in ("192.168.7.0/24", "192.168.8.0/24", "10.77.0.2/32"))


def table_routes(namespace: str) -> list[str]:
    shown = in_ns(namespace, "ip", "-N", "route", "show", "table", str(TABLE))  # 191, not a name
    return sorted(line.strip() for line in shown.splitlines())


def rules(namespace: str) -> list[str]:
    return [line for line in in_ns(namespace, "ip", "rule").splitlines() if "eigrp" in line]


async def test_route_peers_and_underlay(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    a = replace(overlay_lab.device(1, "a", tmp_path / "keys"), table=None)
    b = replace(overlay_lab.device(1, "b", tmp_path / "keys"), table=None)
    for device in (a, b):
        await engine.ensure(device)
    ns = a.namespace
    await engine.route_peers(ns, TABLE, {a.name: [A, C], b.name: [B]})
    assert table_routes(ns) == [f"10.77.0.2 dev {a.name} proto 191 scope 253",
                                f"192.168.7.0/24 dev {a.name} proto 191 scope 253",
                                f"192.168.8.0/24 dev {b.name} proto 191 scope 253"]  # fmt: skip
    await engine.route_peers(ns, TABLE, {b.name: [A]})  # A moves, B and C go
    assert table_routes(ns) == [f"192.168.7.0/24 dev {b.name} proto 191 scope 253"]
    await engine.route_peers(ns, TABLE, {})
    assert table_routes(ns) == []
    wanted = Underlay(TABLE, 0x10000000, 9000, (a.name, b.name))
    assert await engine.underlay(ns, wanted)
    assert not await engine.underlay(ns, wanted)  # idempotent
    assert sorted(rules(ns)) == [
        f"9000:\tfrom all fwmark 0/0x10000000 lookup {TABLE} proto eigrp",
        *sorted(f"9001:\tfrom all iif {d} lookup main suppress_prefixlength 0 proto eigrp"
                for d in (a.name, b.name)),
    ]  # fmt: skip
    in_ns(ns, "ip", "rule", "add", "pref", "9001", "lookup", "main")  # someone else's
    assert await engine.underlay(ns, replace(wanted, devices=(b.name,)))
    assert len(rules(ns)) == 2
    assert await engine.underlay(ns, None)
    assert rules(ns) == []
    assert "9001:\tfrom all lookup main" in in_ns(ns, "ip", "rule")  # left alone
    fake = FakeOverlay()
    assert await fake.underlay(ns, wanted)
    assert not await fake.underlay(ns, wanted)
    assert await fake.underlay(ns, None)
