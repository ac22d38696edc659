"""The overlay engine's pure parts, by tables: configuration problems, the UAPI answer read
and the `set=1` request planned (only what differs), keys as `wg` makes them, the rotation
schedule. No root needed."""

from __future__ import annotations

import shutil
import stat
import subprocess
from dataclasses import replace
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from edgewise.site.drivers.linux.wireguard import (
    Endpoint,
    OverlayDevice,
    OverlayPeer,
    problems,
    process,
)
from edgewise.site.drivers.linux.wireguard.errors import (
    OverlayConfigError,
    OverlayError,
    OverlayUnavailable,
)
from edgewise.site.drivers.linux.wireguard.genl import kernel_has_family, kernel_has_wireguard
from edgewise.site.drivers.linux.wireguard.keys import (
    decode_key,
    encode_key,
    ensure_key,
    new_private_key,
    prepare_rotation,
    promote_rotation,
    public_key_of,
    read_private_key,
)
from edgewise.site.drivers.linux.wireguard.rotation import KeyView, RotationChoice, next_rotation
from edgewise.site.drivers.linux.wireguard.uapi import DeviceDump, PeerDump, parse_get, set_request

PRIVATE = bytes(range(32))
PEER_KEY = encode_key(bytes([7] * 32))
OTHER_KEY = encode_key(bytes([9] * 32))
LAN = IPv4Network("192.168.2.0/24")
PEER = OverlayPeer(PEER_KEY, Endpoint.parse("10.101.2.2:51801"), (LAN,), keepalive=25)
DEVICE = OverlayDevice(
    name="ew1a",
    namespace="site",
    private_key_file=Path("/run/k"),
    listen_port=51801,
    fwmark=0x65,
    address=IPv4Interface("10.255.1.0/31"),
    peers=(PEER,),
)
MATCHING = DeviceDump(
    public_key_of(PRIVATE),
    51801,
    0x65,
    (PeerDump(PEER_KEY, PEER.endpoint, (LAN,), 25, 1.5, 10, 20),),
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "a-name-that-is-too-long"}, "name 'a-name-that-is-too-long': 1 to 15"),
        ({"name": "../etc"}, "name '../etc'"),
        ({"namespace": ""}, "namespace '': a name under /run/netns"),
        ({"listen_port": 0}, "listen_port 0: 1 to 65535"),
        ({"fwmark": -1}, "fwmark -1"),
        ({"mtu": 1000}, "mtu 1000: 1280 to 65455"),
        ({"table": 0}, "table 0"),
        ({"peers": (replace(PEER, public_key="not a key!"),)}, "peers[0].public_key: not base64"),
        ({"peers": (replace(PEER, public_key=encode_key(b"x" * 16)),)}, "16 bytes"),
        ({"peers": (PEER, PEER)}, "peers[1].public_key: the key of another peer"),
        ({"peers": (PEER, replace(PEER, public_key=OTHER_KEY))}, "peers[1].allowed 192.168"),
        ({"peers": (replace(PEER, keepalive=-1),)}, "peers[0].keepalive -1"),
        ({"peers": (replace(PEER, endpoint=Endpoint.parse("1.2.3.4:0")),)}, "port 0"),
    ],
)
def test_a_configuration_problem_names_its_field(change: dict[str, object], expected: str) -> None:
    assert problems(DEVICE) == []
    found = problems(replace(DEVICE, **change))  # type: ignore[arg-type]
    assert any(expected in line for line in found), found


GET = (
    f"private_key={PRIVATE.hex()}\nlisten_port=51801\nfwmark=101\n"
    f"public_key={bytes([7] * 32).hex()}\npreshared_key={'0' * 64}\nprotocol_version=1\n"
    "endpoint=10.101.2.2:51801\nlast_handshake_time_sec=1700000000\n"
    "last_handshake_time_nsec=500000000\ntx_bytes=20\nrx_bytes=10\n"
    "persistent_keepalive_interval=25\nallowed_ip=192.168.2.0/24\nallowed_ip=fd00::/64\n"
    f"public_key={bytes([9] * 32).hex()}\nlast_handshake_time_sec=0\n"
    "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n"
    "errno=0\n\n"
)


def test_the_get_answer_is_read_and_the_private_key_kept_only_as_its_public_key() -> None:
    dump = parse_get(GET)
    assert dump.public_key == public_key_of(PRIVATE)
    assert (dump.listen_port, dump.fwmark) == (51801, 101)
    first, second = dump.peers
    assert first == PeerDump(PEER_KEY, PEER.endpoint, (LAN,), 25, 1700000000.5, 10, 20)
    assert second == PeerDump(OTHER_KEY, None, (), 0, None, 0, 0)  # never handshaken
    assert PRIVATE.hex() not in repr(dump)


@pytest.mark.parametrize("answer", ["errno=1\n\n", "garbage\n\n"])
def test_a_refusing_or_garbled_answer_is_an_error(answer: str) -> None:
    with pytest.raises(OverlayError):
        parse_get(answer)


def lines(request: str | None) -> list[str]:
    assert request is not None
    assert request.startswith("set=1\n")
    assert request.endswith("\n\n")
    return request.strip().splitlines()[1:]


def test_a_fresh_device_gets_everything() -> None:
    empty = DeviceDump(None, 0, 0, ())
    assert lines(set_request(DEVICE, PRIVATE, empty)) == [
        f"private_key={PRIVATE.hex()}",
        "replace_peers=true",
        "listen_port=51801",
        "fwmark=101",
        f"public_key={bytes([7] * 32).hex()}",
        "endpoint=10.101.2.2:51801",
        "persistent_keepalive_interval=25",
        "replace_allowed_ips=true",
        "allowed_ip=192.168.2.0/24",
    ]


@pytest.mark.parametrize(
    ("desired", "expected"),
    [
        (DEVICE, None),
        (replace(DEVICE, listen_port=51900), ["listen_port=51900"]),
        (replace(DEVICE, fwmark=0), ["fwmark=0"]),
        (
            replace(DEVICE, peers=(replace(PEER, keepalive=0),)),
            [f"public_key={bytes([7] * 32).hex()}", "persistent_keepalive_interval=0"],
        ),
        (
            replace(DEVICE, peers=(replace(PEER, endpoint=None),)),
            None,  # the peer roamed: no endpoint wanted, none forced
        ),
        (
            replace(DEVICE, peers=(replace(PEER, allowed=(LAN, IPv4Network("10.9.0.0/16"))),)),
            [f"public_key={bytes([7] * 32).hex()}", "replace_allowed_ips=true",
             "allowed_ip=192.168.2.0/24", "allowed_ip=10.9.0.0/16"],
        ),
        (
            replace(DEVICE, peers=(replace(PEER, public_key=OTHER_KEY),)),
            [f"public_key={bytes([7] * 32).hex()}", "remove=true",
             f"public_key={bytes([9] * 32).hex()}", "endpoint=10.101.2.2:51801",
             "persistent_keepalive_interval=25", "replace_allowed_ips=true",
             "allowed_ip=192.168.2.0/24"],
        ),
    ],
)  # fmt: skip
def test_only_what_differs_is_sent(desired: OverlayDevice, expected: list[str] | None) -> None:
    request = set_request(desired, PRIVATE, MATCHING)
    assert (lines(request) if request is not None else None) == expected


def test_a_new_private_key_sets_the_peers_anew() -> None:
    """A new key ends the device's sessions anyway; its peers set anew are greeted with a
    keepalive at once, so the handshakes under the new key start now (a rotation's switch)."""
    other = bytes(range(1, 33))
    assert lines(set_request(DEVICE, other, MATCHING)) == [
        f"private_key={other.hex()}",
        "replace_peers=true",
        f"public_key={bytes([7] * 32).hex()}",
        "endpoint=10.101.2.2:51801",
        "persistent_keepalive_interval=25",
        "replace_allowed_ips=true",
        "allowed_ip=192.168.2.0/24",
    ]


def test_keys_are_made_0600_in_a_0700_directory_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "s1a.key"
    public = ensure_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ensure_key(path) == public  # made once
    assert len(decode_key(path.read_text())) == 32
    following = prepare_rotation(path)
    assert following != public
    assert prepare_rotation(path) == following  # one next key, whatever the retries
    assert ensure_key(path) == public  # the current one stays until promoted
    assert promote_rotation(path) == following
    assert ensure_key(path) == following
    assert not (tmp_path / "keys" / "s1a.key.next").exists()


def test_a_malformed_key_file_is_named_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("secret-but-not-a-key\n")
    path.chmod(0o600)
    with pytest.raises(OverlayConfigError, match=r"bad\.key: not base64") as caught:
        read_private_key(path)
    assert "secret-but-not-a-key" not in str(caught.value)
    with pytest.raises(OverlayConfigError, match="does not exist"):
        read_private_key(tmp_path / "missing.key")


@pytest.mark.skipif(shutil.which("wg") is None, reason="wireguard-tools is not installed")
def test_public_keys_are_those_wg_computes() -> None:
    for _ in range(5):
        private = new_private_key()
        done = subprocess.run(
            ["wg", "pubkey"], input=encode_key(private), capture_output=True, text=True,
            timeout=10, check=True,
        )  # fmt: skip
        assert done.stdout.strip() == public_key_of(private)


DAY = 86400.0
NOW = 100 * DAY


def view(device: str, peer: str, age_days: float, handshake_ago: float | None = 5.0) -> KeyView:
    handshake = None if handshake_ago is None else NOW - handshake_ago
    return KeyView(device, peer, NOW - age_days * DAY, handshake)


@pytest.mark.parametrize(
    ("views", "expected"),
    [
        ([view("s2a", "s2", 10), view("s2b", "s2", 40)], RotationChoice("s2b", "s2a")),
        ([view("s2a", "s2", 45), view("s2b", "s2", 40)], RotationChoice("s2a", "s2b")),
        ([view("s2a", "s2", 10), view("s2b", "s2", 20)], None),  # none is due
        ([view("s2a", "s2", 40, None), view("s2b", "s2", 40, None)], None),  # nothing to ride
        ([view("s2a", "s2", 40), view("s2b", "s2", 10, 600)], None),  # the other is stale
        ([view("s2a", "s2", 40)], None),  # a single link never breaks its only tunnel
        (
            [replace(view("s2a", "s2", 10), rotating=True), view("s2b", "s2", 40),
             view("s3a", "s3", 35), view("s3b", "s3", 1)],
            RotationChoice("s3a", "s3b"),  # s2 is busy; s3 may go
        ),
    ],
)  # fmt: skip
def test_the_rotation_schedule(views: list[KeyView], expected: RotationChoice | None) -> None:
    assert next_rotation(views, NOW, period_s=30 * DAY) == expected


def test_the_kernel_probe_finds_a_family_that_exists_and_not_one_that_does_not() -> None:
    assert kernel_has_family("nlctrl")  # the controller itself: always there
    assert not kernel_has_family("edgewise-no-such-family")
    assert kernel_has_wireguard() in (True, False)  # this machine: False (no module)


def test_without_wireguard_go_the_engine_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(OverlayUnavailable, match="wireguard-go is not installed"):
        process.find_program()
