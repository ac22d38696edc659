"""The `edgewise` command against a real central process: tables, --json, one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.lab import samples
from edgewise.lab.central import free_port, local_central
from tests.cli.enrolled import add_enrolled_site
from tests.conftest import SHARED

SAMPLES = samples.path()


def edgewise(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgewise", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, COLUMNS="200", **(env or {})),
        check=False,
    )


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    with local_central(data_dir, free_port()) as url:
        token = (data_dir / "admin.token").read_text().strip()
        yield {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}


def test_validate_is_offline_and_counts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tosca_definitions_version: tosca_simple_yaml_1_3\nnode_types: [\n")
    good = edgewise("catalog", "validate", str(SAMPLES / "vcpe-nsd.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.strip().splitlines()[-1] == "1 valid, 0 invalid"
    mixed = edgewise("catalog", "validate", str(SAMPLES / "vcpe-nsd.yaml"), str(bad))
    assert mixed.returncode == 1
    lines = mixed.stdout.strip().splitlines()
    assert lines[-1] == "1 valid, 1 invalid"
    assert any("bad.yaml:" in line for line in lines)
    assert "Traceback" not in mixed.stdout + mixed.stderr


def test_validate_the_whole_corpus() -> None:
    corpus = SHARED / "corpus" / "sol001"
    if not corpus.is_dir():
        pytest.skip("the SOL001 corpus is not available")
    packages = sorted(str(p) for p in corpus.iterdir() if p.is_dir())
    result = edgewise("catalog", "validate", *packages)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1] == f"{len(packages)} valid, 0 invalid"


def test_onboard_list_show_and_sites(central: dict[str, str]) -> None:
    tenant = edgewise("--json", "tenant", "add", "acme", env=central)
    assert tenant.returncode == 0, tenant.stderr
    tenant_id = json.loads(tenant.stdout)["id"]
    onboard = edgewise("--json", "catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"), env=central)
    assert onboard.returncode == 0, onboard.stderr
    nsd_id = json.loads(onboard.stdout)[0]["id"]
    listed = edgewise("--json", "catalog", "list", env=central)
    assert nsd_id in {item["id"] for item in json.loads(listed.stdout)}
    shown = edgewise("catalog", "show", nsd_id, env=central)
    assert shown.returncode == 0
    assert "ONBOARDED" in shown.stdout

    added = edgewise(
        "site", "add", "paris-1", "--kind", "cloud", "--compute-nodes", "2",
        "--label", "region=eu", "--tenant", tenant_id, env=central,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    table = edgewise("site", "list", "--labels", "region=eu", env=central)
    assert "paris-1" in table.stdout
    assert "40" in table.stdout  # 2 nodes x 20 slots


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("site", "add", "x", "--label", "novalue"), "key=value"),
        (("site", "show", "no-such-site"), "does not exist"),
        (("tenant", "add", "Bad Name"), "name"),
        (("catalog", "show", "nope"), "NSD or VNF package 'nope' does not exist"),
    ],
)
def test_errors_are_one_clear_line(
    central: dict[str, str], args: tuple[str, ...], needle: str
) -> None:
    result = edgewise(*args, env=central)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_central_and_bad_token(central: dict[str, str]) -> None:
    down = edgewise(
        "site", "list", env={"EDGEWISE_CENTRAL": "http://127.0.0.1:9", "EDGEWISE_TOKEN": "x"}
    )
    assert down.returncode == 1
    assert "cannot reach the central" in down.stderr
    bad = edgewise("site", "list", env=central | {"EDGEWISE_TOKEN": "ew_wrong"})
    assert bad.returncode == 1
    assert "401" in bad.stderr


def test_invalid_descriptor_is_not_onboarded(central: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tosca_definitions_version: tosca_simple_yaml_1_3\ntopology_template: 7\n")
    before = json.loads(edgewise("--json", "catalog", "list", env=central).stdout)
    result = edgewise("catalog", "onboard", str(bad), env=central)
    assert result.returncode == 1
    after = json.loads(edgewise("--json", "catalog", "list", env=central).stdout)
    assert before == after


def test_central_info_writes_the_ca(central: dict[str, str], tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    shown = edgewise("--json", "central", "--ca-out", str(ca), env=central)
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["southboundUrl"].startswith("https://127.0.0.1:")
    assert len(info["caFingerprint"].split(":")) == 32
    assert "BEGIN CERTIFICATE" in ca.read_text()


def test_ns_place_dry_run_instantiate_and_follow(central: dict[str, str], tmp_path: Path) -> None:
    tenant = json.loads(edgewise("--json", "tenant", "add", "nsco", env=central).stdout)["id"]
    onboarded = edgewise("--json", "catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"),
                         "--tenant", tenant, env=central)  # fmt: skip
    assert onboarded.returncode == 0, onboarded.stderr
    nsd = json.loads(onboarded.stdout)[0]["id"]
    for name, region in (("ns-eu", "eu"), ("ns-us", "us")):
        add_enrolled_site(
            central, tmp_path, name, "--label", f"region={region}", "--tenant", tenant
        )
    made = edgewise("--json", "ns", "create", nsd, "--name", "v", "--tenant", tenant, env=central)
    assert made.returncode == 0, made.stderr
    ns = json.loads(made.stdout)["id"]

    plan = edgewise("ns", "place", ns, "--labels", "region=eu", "--dry-run", env=central)
    assert plan.returncode == 0, plan.stderr
    assert "ns-eu" in plan.stdout
    assert "labels do not match region=eu (has region=us)" in plan.stdout
    both = edgewise("ns", "place", ns, "--site", "ns-eu", "--labels", "x=y", env=central)
    assert both.returncode == 2
    assert "not both" in both.stderr

    started = edgewise("--json", "ns", "instantiate", ns, "--labels", "region=eu", "--no-wait",
                       env=central)  # fmt: skip
    assert started.returncode == 0, started.stderr
    op = json.loads(started.stdout)
    assert (op["operationState"], op["sitesTotal"]) == ("PROCESSING", 1)
    ops = edgewise("ns", "ops", "--ns", ns, env=central)
    assert "INSTANTIATE" in ops.stdout
    assert "0/1" in ops.stdout
    waited = edgewise("ns", "terminate", ns, "--timeout", "1", env=central)
    assert waited.returncode == 1
    assert f"has operation {op['id']} (INSTANTIATE) PROCESSING" in waited.stderr
    both_ways = edgewise("ns", "scale", ns, "--out", "1", "--in", "1", env=central)
    assert both_ways.returncode == 2
    assert "give one of --out N, --in N or --level N" in both_ways.stderr
    busy = edgewise("ns", "scale", ns, "--out", "1", "--no-wait", env=central)
    assert busy.returncode == 1
    assert f"has operation {op['id']} (INSTANTIATE) PROCESSING" in busy.stderr


def test_the_central_writes_header_names_in_their_canonical_case(central: dict[str, str]) -> None:
    """Some clients (ETSI's conformance library) compare header names case-sensitively."""
    host, port = central["EDGEWISE_CENTRAL"].removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /nslcm/api_versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    head, _, body = answer.decode().partition("\r\n\r\n")
    assert "\r\nContent-Type: application/json" in head
    assert "\r\nVersion: 2.6.1" in head
    assert json.loads(body) == {"uriPrefix": "/nslcm/v1", "apiVersions": [{"version": "2.6.1"}]}


def test_rollout_start_show_pause_resume_abort(central: dict[str, str], tmp_path: Path) -> None:
    tenant = json.loads(edgewise("--json", "tenant", "add", "rollco", env=central).stdout)["id"]
    onboarded = edgewise("--json", "catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"),
                         "--tenant", tenant, env=central)  # fmt: skip
    nsd = json.loads(onboarded.stdout)[0]["id"]
    for index in range(3):
        add_enrolled_site(central, tmp_path, f"roll-{index}", "--label", "fleet=roll",
                          "--tenant", tenant)  # fmt: skip
    started = edgewise("--json", "rollout", "start", nsd, "--name", "wave", "--labels",
                       "fleet=roll", "--batch-size", "2", "--tenant", tenant, "--no-wait",
                       env=central)  # fmt: skip
    assert started.returncode == 0, started.stderr
    rollout = json.loads(started.stdout)
    assert (rollout["state"], rollout["total"], rollout["waves"]) == ("RUNNING", 3, 2)
    paused = edgewise("rollout", "pause", rollout["id"], env=central)
    assert paused.returncode == 0, paused.stderr
    assert "PAUSED" in paused.stdout
    assert "paused by the operator" in paused.stdout
    again = edgewise("rollout", "pause", rollout["id"], env=central)
    assert again.returncode == 1
    assert "it can be paused only when RUNNING" in again.stderr
    assert "RUNNING" in edgewise("rollout", "resume", rollout["id"], env=central).stdout
    assert "ABORTED" in edgewise("rollout", "abort", rollout["id"], env=central).stdout
    listed = edgewise("rollout", "list", env=central)
    assert "wave" in listed.stdout
    assert "ABORTED" in listed.stdout
    two = edgewise("ns", "update", "some-id", "--set", "fw.x=1", "--nsd", "v2", env=central)
    assert two.returncode == 2
    assert "give one of: --set, --add-site/--remove-site, --nsd" in two.stderr
    bad = edgewise("ns", "update", "some-id", "--set", "nodot=1", env=central)
    assert bad.returncode == 2
    assert "write VNF.property=JSON" in bad.stderr
