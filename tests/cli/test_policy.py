"""`edgewise policy add|list|remove` against a real central process: a site's and a tenant's
rules, the table a person reads, one-line errors naming the field."""

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
        yield env


def test_policy_add_list_remove(central: dict[str, str]) -> None:
    ok(
        "policy",
        "add",
        "scan",
        "--site",
        "branch-1",
        "--when",
        "kind=new_flows",
        "--when",
        "flows_above=50",
        "--then",
        "kind=block",
        "--then",
        "for_s=60",
        env=central,
    )
    ok(
        "policy",
        "add",
        "alert",
        "--tenant",
        "acme",
        "--when",
        "kind=new_flows",
        "--when",
        "flows_above=500",
        "--then",
        "kind=event",
        "--hold-s",
        "30",
        env=central,
    )
    table = ok("policy", "list", "--site", "branch-1", env=central)
    assert "scan" in table
    assert "flows_above=50" in table
    assert "for_s=60" in table
    assert "in the site's document: scan, alert" in table
    rules = as_json("policy", "list", "--tenant", "acme", env=central)
    assert [(r["name"], r["spec"]["hold_s"]) for r in rules] == [("alert", 30)]
    assert "removed policy rule scan" in ok("policy", "remove", "scan", "--site", "branch-1",
                                            env=central)  # fmt: skip
    assert as_json("policy", "list", "--site", "branch-1", env=central) == []


def test_policy_errors_name_the_field_in_one_line(central: dict[str, str]) -> None:
    bad = edgewise("policy", "add", "x", "--site", "branch-1", "--when", "kind=new_flows",
                   "--then", "kind=block", "--then", "for_s=60", env=central)  # fmt: skip
    assert bad.returncode == 1
    assert "when.flows_above" in bad.stderr
    assert "Traceback" not in bad.stderr
    both = edgewise("policy", "list", "--site", "branch-1", "--tenant", "acme", env=central)
    assert both.returncode == 2
    assert "give --site or --tenant" in both.stderr
