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
