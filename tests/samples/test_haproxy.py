"""The HAProxy sample: requests from the WAN spread over two LAN servers; one that goes down is
skipped; a new server list is applied by the package's reload script without a restart."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from tests.samples.conftest import need
from tests.samples.harness import start_vnf
from tests.samples.lab import WAN_VNF, Lab, wait_for

pytestmark = pytest.mark.slow
SERVERS = {"172.16.3.20": "server-a", "172.16.3.21": "server-b"}  # on the LAN host, port 8080
REQUESTS = 8


def spread(lab: Lab) -> collections.Counter[str]:
    """Which server answered each of REQUESTS requests from the WAN peer."""
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(REQUESTS):
        done = lab.run(lab.wan, "curl", "-s", "-m", "2", f"http://{WAN_VNF}/", timeout=5)
        seen[done.stdout.strip() or f"failed ({done.returncode})"] += 1
    return seen


def test_haproxy_spreads_requests_and_skips_a_server_that_is_down(
    lab: Lab, samples: Path, workdir: Path
) -> None:
    need("haproxy", "haproxy")
    need("curl", "curl")
    servers = {}
    for address, name in SERVERS.items():
        lab.run(lab.lan, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
        www = workdir / name
        www.mkdir()
        (www / "index.html").write_text(name + "\n")
        servers[name] = lab.spawn(
            lab.lan,
            ["python3", "-m", "http.server", "8080", "--bind", address, "--directory", str(www)],
            workdir / f"{name}.log",
        )
    listed = " ".join(f"{address}:8080" for address in SERVERS)
    vnf = start_vnf(
        lab, samples / "haproxy", {"servers": listed, "check_interval_ms": "200"}, workdir / "vnf"
    )

    wait_for("both servers in rotation", lambda: set(spread(lab)) == set(SERVERS.values()), 10)
    assert spread(lab) == {"server-a": REQUESTS // 2, "server-b": REQUESTS // 2}  # round robin

    lab.stop(servers["server-b"])
    wait_for("server-b taken out", lambda: spread(lab) == {"server-a": REQUESTS}, 10)

    # Day 2: only server-b's address listed (it runs again): the reload script applies it
    servers["server-b"] = lab.spawn(
        lab.lan,
        [
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "172.16.3.21",
            "--directory",
            str(workdir / "server-b"),
        ],
        workdir / "server-b.log",
    )
    done = vnf.modify({"servers": "172.16.3.21:8080", "check_interval_ms": "200"})
    assert done is not None
    assert done.returncode == 0, done.stdout + done.stderr
    wait_for("only server-b after the reload", lambda: spread(lab) == {"server-b": REQUESTS}, 10)
    # a server list the script refuses fails the reload (the site rolls back) and changes nothing
    refused = vnf.modify({"servers": "172.16.3.21", "check_interval_ms": "200"})
    assert refused is not None
    assert refused.returncode != 0
    assert "is not address:port" in refused.stderr
    assert spread(lab) == {"server-b": REQUESTS}
