"""The CLI's third-party VNF options against a real central and a site controller (sim driver):
`ns instantiate --vnf-param`, `ns update --add-vnf ... --after` and `--remove-vnf`, each applied
by the site over the channel; and the options' one-line refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.central.api.test_software_vnfs import nsd_text
from tests.integration.harness import Central, enroll, start_controller, stop
from tests.integration.test_chain_update import PKGS
from tests.integration.test_software_vnf import onboard
from tests.tosca.softpkg import package, vnfd


def cli(central: Central, *args: str) -> subprocess.CompletedProcess[str]:
    token = central.api.headers["Authorization"].removeprefix("Bearer ")
    env = dict(os.environ, EDGEWISE_CENTRAL=str(central.api.base_url), EDGEWISE_TOKEN=token,
               COLUMNS="200")  # fmt: skip
    return subprocess.run([sys.executable, "-m", "edgewise", "--json", *args],
                          capture_output=True, text=True, timeout=90, env=env,
                          check=False)  # fmt: skip


def service(central: Central, site_id: str) -> dict[str, Any]:
    document = central.api.get(f"api/v1/sites/{site_id}/desired-state").json()
    (entry,) = document["document"]["services"]
    return dict(entry)


def test_instantiate_with_vnf_params_then_add_and_remove_a_package_s_vnf(
    central: Central, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    vnfd_id, cache_id = f"cli-dns-{tag}", f"cli-cache-{tag}"
    onboard(central, PKGS, "package_content", package(vnfd(vnfd_id=vnfd_id)), "application/zip")
    onboard(central, PKGS, "package_content", package(vnfd(vnfd_id=cache_id)),
            "application/zip")  # fmt: skip
    nsd = onboard(central, "nsd/v1/ns_descriptors", "nsd_content",
                  nsd_text(vnfd_id, f"cli-nsd-{tag}"), "text/plain")  # fmt: skip
    site_dir = tmp_path / "site"
    site_id = enroll(central, f"cli-{tag}", site_dir)
    assert central.api.patch(f"api/v1/sites/{site_id}", json={"slotsPerNode": 4}).is_success
    controller = start_controller(site_dir)
    try:
        made = cli(central, "ns", "create", nsd, "--name", f"cli-{tag}", "--tenant",
                   central.tenant_id)  # fmt: skip
        assert made.returncode == 0, made.stderr
        ns = json.loads(made.stdout)["id"]
        started = cli(central, "ns", "instantiate", ns, "--site", site_id,
                      "--vnf-param", "dns.domain=lan.example")  # fmt: skip
        assert started.returncode == 0, started.stdout + started.stderr
        dns = next(v for v in service(central, site_id)["vnfs"] if v["name"] == "dns")
        assert dns["config"]["params"]["domain"] == "lan.example"

        added = cli(central, "ns", "update", ns, "--add-vnf", cache_id, "--vnf-name", "cache",
                    "--param", "domain=cache.example", "--after", "dns")  # fmt: skip
        assert added.returncode == 0, added.stdout + added.stderr
        assert service(central, site_id)["chain"] == ["dns", "cache", "firewall"]

        removed = cli(central, "ns", "update", ns, "--remove-vnf", "cache")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert service(central, site_id)["chain"] == ["dns", "firewall"]

        both = cli(central, "ns", "update", ns, "--add-vnf", cache_id, "--remove-vnf", "dns")
        assert both.returncode == 2
        assert "give one of: --set, --add-site/--remove-site, --nsd, --add-vnf" in both.stderr
        stray = cli(central, "ns", "update", ns, "--param", "domain=x")
        assert stray.returncode == 2
        assert "go with --add-vnf" in stray.stderr
        bad = cli(central, "ns", "update", ns, "--add-vnf", cache_id, "--param", "nokey")
        assert bad.returncode == 2
        assert "--param 'nokey': write input=VALUE" in bad.stderr
        unknown = cli(central, "ns", "update", ns, "--add-vnf", "no-such-vnfd")
        assert unknown.returncode == 1
        assert "no-such-vnfd" in unknown.stderr
        assert "Traceback" not in unknown.stderr
    finally:
        stop(controller)
