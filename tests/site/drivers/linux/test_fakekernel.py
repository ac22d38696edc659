"""The fake kernel keeps the kernel's rules the driver relies on (test_linux_fake_parity.py holds
it against the real kernel): veth pairs, carrier, routes and nexthops, nftables transactions."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from edgewise.model.functions import ProcessConfig
from edgewise.site.drivers.linux.errors import DataPlaneError
from edgewise.site.drivers.linux.fakekernel import FakeKernel
from edgewise.site.drivers.linux.fakekernel.netlink import FakeNetlink
from edgewise.site.drivers.linux.kernel import Kernel, ProcessListener


class Listener(ProcessListener):
    def __init__(self) -> None:
        self.heard: list[str] = []

    def process_started(self, namespace: str, pid: int) -> None:
        self.heard.append(f"started {namespace}")

    def process_stopping(self, namespace: str) -> None:
        self.heard.append(f"stopping {namespace}")


@pytest.fixture
def pair() -> Iterator[tuple[FakeKernel, FakeNetlink, FakeNetlink]]:
    """Namespaces a and b joined by a veth (a: `va`, b: `vb`), both ends down."""
    kernel = FakeKernel("a", "b")
    with (
        kernel.open_netlink("a") as a,
        kernel.open_netlink("b") as b,
        kernel.namespace_fd("b") as fd,
    ):
        a.add_veth("va", "vb", fd)
        yield kernel, a, b


def test_it_is_a_kernel_the_driver_can_use() -> None:
    kernel: Kernel = FakeKernel("lan")

    assert kernel.namespaces("la") == ["lan"]
    assert kernel.inode("lan") is not None
    assert kernel.inode("wan") is None


def test_a_namespace_is_made_once_and_anew_after_removal() -> None:
    kernel = FakeKernel()
    kernel.create_namespace("x")
    first = kernel.inode("x")

    with pytest.raises(DataPlaneError) as taken:
        kernel.create_namespace("x")
    assert kernel.remove_namespace("x")
    assert not kernel.remove_namespace("x")
    kernel.create_namespace("x")

    assert taken.value.code == "exists"
    assert kernel.inode("x") not in (None, first)
    with kernel.open_netlink("x") as nl:
        [lo] = nl.links()
    assert (lo.index, lo.name, lo.up, lo.carrier) == (1, "lo", False, False)
    with pytest.raises(DataPlaneError) as gone, kernel.open_netlink("y"):
        pass
    assert gone.value.code == "no-namespace"


def test_a_veth_end_has_carrier_when_both_ends_are_up(
    pair: tuple[FakeKernel, FakeNetlink, FakeNetlink],
) -> None:
    _, a, b = pair
    va, vb = a.required("va"), b.required("vb")
    a.set_link(va.index, state="up")
    assert (a.required("va").carrier, b.required("vb").carrier) == (False, False)

    b.set_link(vb.index, state="up")
    assert (a.required("va").carrier, b.required("vb").carrier) == (True, True)

    a.set_link(va.index, state="down")
    assert (a.required("va").up, b.required("vb").up, b.required("vb").carrier) == (
        False, True, False
    )  # fmt: skip


def test_a_veth_goes_with_its_peer_and_its_namespace(
    pair: tuple[FakeKernel, FakeNetlink, FakeNetlink],
) -> None:
    kernel, a, b = pair
    b.delete(b.required("vb").index)
    assert a.link("va") is None
    b.delete(99)  # gone already: not an error

    with kernel.namespace_fd("b") as fd:
        a.add_veth("va", "vb", fd)
    kernel.remove_namespace("b")
    assert a.link("va") is None


def test_link_names_are_short_and_unique_per_namespace(
    pair: tuple[FakeKernel, FakeNetlink, FakeNetlink],
) -> None:
    kernel, a, _ = pair
    with kernel.namespace_fd("b") as fd:
        for name, peer, code in (
            ("va", "x", "eexist"),
            ("x", "vb", "eexist"),
            ("a" * 16, "y", "einval"),
        ):
            with pytest.raises(DataPlaneError) as refused:
                a.add_veth(name, peer, fd)
            assert refused.value.code == code
    assert sorted(k.name for k in a.links()) == ["lo", "va"]


def test_routes_need_an_up_link_to_their_gateway_and_go_when_it_goes_down(
    pair: tuple[FakeKernel, FakeNetlink, FakeNetlink],
) -> None:
    _, a, _ = pair
    va = a.required("va")
    a.add_address(va.index, IPv4Interface("10.0.0.0/31"))
    a.add_address(va.index, IPv4Interface("10.0.0.0/31"))  # there already: not an error
    default, gateway = IPv4Network("0.0.0.0/0"), IPv4Address("10.0.0.1")
    with pytest.raises(DataPlaneError) as down:
        a.replace_route(default, 186, gateway=gateway)
    a.set_link(va.index, state="up")
    with pytest.raises(DataPlaneError) as elsewhere:
        a.replace_route(default, 186, gateway=IPv4Address("10.9.9.9"))

    a.replace_route(default, 186, gateway=gateway)
    a.replace_route(default, 186, gateway=gateway, oif=va.index)  # replaced, not added
    assert [(r.destination, r.gateway, r.oif) for r in a.routes(186)] == [
        (default, gateway, va.index)
    ]
    assert a.routes(187) == []
    a.set_link(va.index, state="down")

    assert (down.value.code, elsewhere.value.code) == ("enetunreach", "enetunreach")
    assert a.routes(186) == []  # IPv4 drops the routes of a link that goes down
    assert a.addresses(va.index) == {IPv4Interface("10.0.0.0/31")}


def test_a_batch_is_one_transaction_and_lists_as_libnftables_does() -> None:
    kernel = FakeKernel("x")
    nft = kernel.open_nftables("x")
    table = {"family": "inet", "name": "t"}
    rule = {
        "family": "inet",
        "table": "t",
        "chain": "c",
        "comment": "r",
        "expr": [{"counter": None}],
    }
    nft.run([{"add": {"table": table}}, {"add": {"chain": {**table, "table": "t", "name": "c"}}}])
    nft.run([{"add": {"rule": rule}}])

    with pytest.raises(DataPlaneError) as refused:
        nft.run([{"delete": {"table": table}}, {"add": {"rule": rule}}])  # the table is gone
    with pytest.raises(DataPlaneError):
        nft.run([{"flush": {"ruleset": None}}])  # not known to the fake: said so

    assert refused.value.code == "nftables"
    items = nft.list_table("inet", "t") or []
    assert [next(iter(item)) for item in items] == ["table", "chain", "rule"]
    assert items[2]["rule"]["expr"] == [{"counter": {"packets": 0, "bytes": 0}}]
    assert nft.list_table("inet", "other") is None


def test_a_program_runs_while_its_namespace_lives(tmp_path: Path) -> None:
    kernel = FakeKernel("x")
    listener = Listener()
    supervisor = kernel.supervisor(tmp_path, listener)  # its state is in the kernel
    supervisor.start("x", ProcessConfig("sleep", restart="always"), restart=False)
    pid = supervisor.running()["x"]

    kernel.end_program("x")
    dead = supervisor.status("x")
    supervisor.start("x", ProcessConfig("sleep", restart="always"), restart=True)
    again = supervisor.status("x")
    kernel.remove_namespace("x")
    kernel.create_namespace("x")

    assert dead is not None
    assert (dead.running, dead.ok, dead.exit_code) == (False, False, -9)
    assert again is not None
    assert (again.running, again.restarts) == (True, 1)
    assert again.pid != pid
    assert supervisor.running() == {}  # a program does not follow its namespace's name
    assert listener.heard == ["stopping x", "started x", "stopping x", "started x"]
    with pytest.raises(DataPlaneError):
        supervisor.start("y", ProcessConfig("sleep"), restart=False)
