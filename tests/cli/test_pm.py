"""`edgewise pm` against a real central process: PM jobs and thresholds created, listed, shown
and deleted by the names of what they measure; a bad request is one clear line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from edgewise.lab.central import free_port, local_central
from tests.cli.test_cli import SAMPLES, edgewise


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("central")
    with local_central(data_dir, free_port()) as url:
        token = (data_dir / "admin.token").read_text().strip()
        yield {"EDGEWISE_CENTRAL": url, "EDGEWISE_TOKEN": token}


def test_pm_jobs_and_thresholds_from_the_command_line(central: dict[str, str]) -> None:
    tenant = json.loads(edgewise("--json", "tenant", "add", "pmco", env=central).stdout)["id"]
    onboarded = edgewise("--json", "catalog", "onboard", str(SAMPLES / "vcpe-nsd.yaml"),
                         "--tenant", tenant, env=central)  # fmt: skip
    assert onboarded.returncode == 0, onboarded.stderr
    nsd = json.loads(onboarded.stdout)[0]["id"]
    made = edgewise("--json", "ns", "create", nsd, "--name", "measured", "--tenant", tenant,
                    env=central)  # fmt: skip
    assert made.returncode == 0, made.stderr
    ns = json.loads(made.stdout)["id"]

    created = edgewise("--json", "pm", "job", "create", "measured", "--metric", "PacketCount",
                       "--group", "VnfTraffic", "--collect", "30", "--report", "60",
                       "--tenant", tenant, env=central)  # fmt: skip
    assert created.returncode == 0, created.stderr
    job = json.loads(created.stdout)
    assert (job["objectInstanceIds"], job["criteria"]["reportingPeriod"]) == ([ns], 60)
    listed = edgewise("pm", "job", "list", env=central)
    assert job["id"] in listed.stdout
    assert "PacketCount, VnfTraffic" in listed.stdout
    assert job["id"] in edgewise("pm", "job", "show", job["id"][:8], env=central).stdout
    none_yet = edgewise("pm", "job", "report", job["id"], env=central)
    assert none_yet.returncode == 1
    assert none_yet.stderr.strip() == f"error: PM job {job['id']} has no report yet"

    bad = edgewise("pm", "job", "create", "measured", "--metric", "CpuLoad", env=central)
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "criteria.performanceMetric[0]" in bad.stderr

    threshold = edgewise("--json", "pm", "threshold", "create", "measured", "--metric",
                         "DropCount", "--value", "100", "--hysteresis", "5",
                         "--tenant", tenant, env=central)  # fmt: skip
    assert threshold.returncode == 0, threshold.stderr
    threshold_id = json.loads(threshold.stdout)["id"]
    assert "DropCount" in edgewise("pm", "threshold", "list", env=central).stdout
    deleted = edgewise("pm", "threshold", "delete", threshold_id[:8], env=central)
    assert deleted.stdout.strip() == f"deleted threshold {threshold_id}"
    assert edgewise("pm", "job", "delete", job["id"], env=central).returncode == 0
    assert job["id"] not in edgewise("pm", "job", "list", env=central).stdout
