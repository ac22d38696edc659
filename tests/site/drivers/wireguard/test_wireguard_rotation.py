"""Key rotation without dropping traffic, make-before-break across the per-link devices: the
traffic moves to the other link's device, the rotating device gets its new key (and the peer
the new public key, as the central would hand it over), its handshake comes back, the traffic
returns. A ping every 20 ms runs through two rotations (site 1's key on link A, site 2's on
link B) and loses nothing, whichever end takes the new key first and a second before the
other (the central's round trip). The control rotates without moving the traffic first: when
the peer has the new public key before the site switches (the order is not the site's to
choose), the peer's new handshakes fail until it does, and pings are lost."""

from __future__ import annotations

import re
import time
from pathlib import Path

import anyio
import pytest

from edgewise.site.drivers.linux.wireguard import OverlayEngine
from edgewise.site.drivers.linux.wireguard.keys import (
    ensure_key,
    prepare_rotation,
    promote_rotation,
)
from tests.site.drivers.wireguard.overlab import (
    SITES,
    OverlayLab,
    lan_host,
    lan_prefix,
    python_in,
    running,
)
from tests.site.drivers.wireguard.test_wireguard_traffic import build, handshaken_since
from tests.site.drivers.wireguard.traffic import PINGER

pytestmark = pytest.mark.anyio
PING_S = 12.0
CENTRAL_DELAY_S = 1.0  # from the site's report of its new key to the peer's next revision


async def steer_all(lab: OverlayLab, engine: OverlayEngine, link: str) -> None:
    for site in SITES:
        await engine.steer(lab.site(site), lab.device_name(site, link), [lan_prefix(3 - site)], 254)


async def rotate(
    lab: OverlayLab,
    engine: OverlayEngine,
    keys: Path,
    at: tuple[int, str],
    other: str | None,
    *,
    peer_first: bool,
) -> str:
    """One rotation of site `at[0]`'s key on link `at[1]` while the traffic rides link `other`
    (None: it stays, the control); the new key."""
    site, link = at
    if other is not None:
        await steer_all(lab, engine, other)  # make: the traffic leaves the rotating device
    key_file = keys / f"s{site}{link}.key"
    old = ensure_key(key_file)
    new = prepare_rotation(key_file)  # made at the site; the site reports it
    assert new != old
    since = time.time()
    assert promote_rotation(key_file) == new
    here, there = lab.device(site, link, keys), lab.device(3 - site, link, keys)
    first, then = (there, here) if peer_first else (here, there)
    await engine.ensure(first)  # the site takes its new key, or the peer its public key
    await anyio.sleep(CENTRAL_DELAY_S)  # the report goes up, the other revision comes down
    await engine.ensure(then)
    assert await handshaken_since(lab, engine, link, since)
    print(f"rotation of s{site}{link}: handshake back after {time.time() - since:.3f} s")
    state = await engine.observe(lab.device_name(site, link), lab.site(site))
    assert state is not None
    assert state.public_key == new
    await steer_all(lab, engine, link)  # break: back on the rotated device
    return new


async def test_keys_rotate_without_a_lost_ping(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    lab, keys = overlay_lab, tmp_path / "keys"
    await build(lab, engine, keys, preferred="a")
    started = time.monotonic()
    with running(python_in(lab.lan(1), PINGER, lan_host(2), "0.02", str(PING_S))) as pinger:
        assert pinger.stdout is not None
        assert pinger.stdout.readline().strip() == "started"
        await anyio.sleep(0.5)
        await rotate(lab, engine, keys, (1, "a"), "b", peer_first=False)
        await rotate(lab, engine, keys, (2, "b"), "a", peer_first=True)
        took = time.monotonic() - started
        assert took < PING_S - 0.5  # both rotations happened while the ping ran
        result = pinger.stdout.readline().strip()
    found = re.fullmatch(r"sent (\d+) received (\d+) lost \[\]", result)
    assert found, result
    assert int(found[1]) >= PING_S / 0.02 * 0.9
    print(f"two rotations in {took:.1f} s, {found[1]} pings every 20 ms, none lost")


async def test_the_control_rotating_under_traffic_loses_pings(
    overlay_lab: OverlayLab, engine: OverlayEngine, tmp_path: Path
) -> None:
    lab, keys = overlay_lab, tmp_path / "keys"
    await build(lab, engine, keys, preferred="a")
    with running(python_in(lab.lan(1), PINGER, lan_host(2), "0.02", "3")) as pinger:
        assert pinger.stdout is not None
        assert pinger.stdout.readline().strip() == "started"
        await anyio.sleep(0.5)
        await rotate(lab, engine, keys, (1, "a"), None, peer_first=True)
        result = pinger.stdout.readline().strip()
    found = re.fullmatch(r"sent (\d+) received (\d+) lost \[[\d, ]+\]", result)
    assert found, result
    print(f"control: {int(found[1]) - int(found[2])} of {found[1]} pings lost (20 ms apart)")
