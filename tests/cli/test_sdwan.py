"""`edgewise site link ...`, `edgewise sla|app-class|steering ...` and `edgewise overlay ...`
against a real central process: tables a person reads, one-line errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgewise.lab.central import free_port, local_central
from tests.cli.test_operator import as_json, edgewise, ok


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    state = tmp_path_factory.mktemp("state")
    with local_central(data_dir, free_port(), env={"XDG_STATE_HOME": str(state)}) as url:
        token = (data_dir / "admin.token").read_text().strip()
        env = {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}
        ok("tenant", "add", "acme", env=env)
        ok("site", "add", "branch-1", "--tenant", "acme", env=env)
        ok("site", "add", "branch-2", "--tenant", "acme", env=env)
        yield env


def test_site_link_add_list_set_remove(central: dict[str, str]) -> None:
    ok(
        "site",
        "link",
        "add",
        "branch-1",
        "mpls",
        "--kind",
        "mpls",
        "--interface",
        "wan0",
        "--address",
        "192.0.2.2/30",
        "--gateway",
        "192.0.2.1",
        env=central,
    )
    ok(
        "site",
        "link",
        "add",
        "branch-1",
        "inet",
        "--kind",
        "internet",
        "--interface",
        "wan1",
        "--dhcp",
        "--set",
        'probe.targets=["9.9.9.9"]',
        "--set",
        "cost=3",
        env=central,
    )
    table = ok("site", "links", "branch-1", env=central)
    assert "mpls" in table
    assert "not reported" in table
    assert "dhcp" in table
    ok("site", "link", "set", "branch-1", "inet", "--set", "metered=true", env=central)
    found = as_json("site", "link", "list", "branch-1", env=central)
    assert [link["name"] for link in found] == ["mpls", "inet"]
    assert found[1]["desired"]["metered"] is True
    assert found[1]["desired"]["probe"]["targets"] == ["9.9.9.9"]
    bad = edgewise(
        "site",
        "link",
        "add",
        "branch-1",
        "lte",
        "--kind",
        "sat",
        "--interface",
        "wwan0",
        "--dhcp",
        env=central,
    )
    assert bad.returncode == 1
    assert "kind:" in bad.stderr
    assert "Traceback" not in bad.stderr
    usage = edgewise("site", "link", "set", "branch-1", "inet", "--set", "nokey", env=central)
    assert usage.returncode == 2
    ok("site", "link", "remove", "branch-1", "inet", env=central)
    assert [link["name"] for link in as_json("site", "links", "branch-1", env=central)] == ["mpls"]


def test_sla_app_class_and_steering(central: dict[str, str]) -> None:
    ok(
        "site",
        "link",
        "add",
        "branch-2",
        "mpls",
        "--kind",
        "mpls",
        "--interface",
        "wan0",
        "--dhcp",
        env=central,
    )
    ok(
        "site",
        "link",
        "add",
        "branch-2",
        "lte",
        "--kind",
        "lte",
        "--interface",
        "wwan0",
        "--dhcp",
        env=central,
    )
    ok("sla", "add", "realtime", "--set", "max_latency_ms=150", env=central)
    ok("app-class", "add", "voice", "--set", "protocol=udp", "--set", "ports=[5060]", env=central)
    bad = edgewise("app-class", "add", "web", "--set", "ports=[80]", env=central)
    assert bad.returncode == 1
    assert "ports:" in bad.stderr
    assert "conferencing" in ok("app-class", "applications", env=central)
    ok("app-class", "add", "meetings", "--set", 'applications=["zoom","teams"]', env=central)
    unknown = edgewise("app-class", "add", "x", "--set", 'applications=["myspace"]', env=central)
    assert unknown.returncode == 1
    assert "applications[0]: 'myspace' is not an application of the catalogue" in unknown.stderr
    ok("app-class", "remove", "meetings", env=central)
    made = as_json(
        "steering",
        "add",
        "voice",
        "--links",
        "mpls,lte",
        "--fleet",
        "--sla",
        "realtime",
        env=central,
    )
    assert made["links"] == ["mpls", "lte"]
    assert "voice" in ok("steering", "list", env=central)
    shown = as_json("steering", "show", "branch-2", env=central)
    assert shown["steering"]["policies"][0]["class"] == "voice"
    ok("steering", "set", made["id"], "--links", "lte", "--sla", "none", env=central)
    ok("steering", "bounds", "acme", "--bound", "voice=lte:sla", env=central)
    bounds = as_json("steering", "bounds", "acme", env=central)
    assert bounds == [{"class": "voice", "links": ["lte"], "mayChangeSla": True}]
    in_use = edgewise("app-class", "remove", "voice", env=central)
    assert in_use.returncode == 1
    assert "in use" in in_use.stderr
    ok("steering", "remove", made["id"][:8], env=central)  # an id prefix will do
    ok("steering", "bounds", "acme", "--clear", env=central)
    ok("app-class", "remove", "voice", env=central)
    assert "(none)" in ok("app-class", "list", env=central)


def test_overlay_create_list_show_join_leave_delete(central: dict[str, str]) -> None:
    ok("site", "add", "hq", "--tenant", "acme", env=central)
    ok(
        "site",
        "link",
        "add",
        "hq",
        "inet",
        "--kind",
        "internet",
        "--interface",
        "wan1",
        "--address",
        "198.51.100.2/24",
        "--gateway",
        "198.51.100.1",
        env=central,
    )
    made = as_json(
        "overlay",
        "create",
        "corp",
        "--tenant",
        "acme",
        "--prefix",
        "10.200.0.0/16",
        "--hub",
        "hq",
        "--site",
        "branch-1",
        env=central,
    )
    assert [m["address"] for m in made["members"]] == ["10.200.0.1", "10.200.0.2"]
    table = ok("overlay", "show", "corp", env=central)
    assert "waiting for its key" in table
    assert "hub-and-spoke" in table
    assert "corp" in ok("overlay", "list", env=central)
    joined = as_json("overlay", "join", "corp", "--site", "branch-2", env=central)
    assert len(joined["members"]) == 3
    ok("overlay", "leave", "corp", "branch-2", env=central)
    hub = edgewise("overlay", "leave", "corp", "hq", env=central)
    assert hub.returncode == 1
    assert "hub" in hub.stderr
    bad = edgewise(
        "overlay",
        "create",
        "x",
        "--tenant",
        "acme",
        "--prefix",
        "10.1.0.0/33",
        "--topology",
        "full-mesh",
        env=central,
    )
    assert bad.returncode == 1
    assert "prefix" in bad.stderr
    ok("overlay", "delete", "corp", env=central)
