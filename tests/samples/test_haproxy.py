"""The HAProxy sample on the real path (read by tosca.software, run by the linux driver,
confined and limited): requests from beyond the WAN side spread over two LAN servers; one that
goes down is skipped; a new server list is applied by the package's reload script without a
restart, and a list the script refuses fails the change, rolled back, changing nothing."""

from __future__ import annotations

import collections
import subprocess
from pathlib import Path

import pytest

from edgewise.site.drivers.linux import LinuxDriver
from edgewise.site.reconcile import ChangeOp
from tests.samples.conftest import need
from tests.samples.site import Peers, SampleVnf, check_limited, eventually, run
from tests.site.drivers.netlab import Lab

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
SERVERS = {20: "server-a", 21: "server-b"}  # LAN hosts by their number in the LAN subnet
REQUESTS = 8


def spread(lab: Lab, address: str) -> collections.Counter[str]:
    """Which server answered each of REQUESTS requests from the internet host."""
    seen: collections.Counter[str] = collections.Counter()
    for _ in range(REQUESTS):
        done = run(lab.internet, "curl", "-s", "-m", "2", f"http://{address}/", timeout=5)
        seen[done.stdout.strip() or f"failed ({done.returncode})"] += 1
    return seen


async def test_haproxy_spreads_requests_and_skips_a_server_that_is_down(
    lab: Lab, driver: LinuxDriver, peers: Peers, workdir: Path
) -> None:
    need("haproxy", "haproxy")
    need("curl", "curl")
    vnf = SampleVnf(lab, driver, "haproxy")
    base = vnf.lan_subnet.network_address
    listed = " ".join(f"{base + number}:8080" for number in SERVERS)
    status = await vnf.start({"servers": listed, "check_interval_ms": 200})
    check_limited(status, "haproxy", vnf.namespace, await vnf.pid("haproxy"))
    attachment = await vnf.attachment()

    def serve(number: int, name: str) -> None:
        www = workdir / name
        www.mkdir(exist_ok=True)
        (www / "index.html").write_text(name + "\n")
        address = str(base + number)
        argv = ["python3", "-m", "http.server", "8080", "--bind", address, "--directory", str(www)]
        servers[name] = peers.spawn(f"{lab.prefix}-{name}", argv, name)

    servers: dict[str, subprocess.Popen[bytes]] = {}
    for number, name in SERVERS.items():
        lab.add_host(name, attachment, number)
        serve(number, name)
    front = vnf.wan_address  # HAProxy binds :80 on every leg; the internet host uses the WAN one

    await eventually("both servers in rotation",
                     lambda: set(spread(lab, front)) == set(SERVERS.values()), 15)  # fmt: skip
    assert spread(lab, front) == {"server-a": REQUESTS // 2, "server-b": REQUESTS // 2}

    peers.stop(servers["server-b"])
    await eventually("server-b taken out",
                     lambda: spread(lab, front) == {"server-a": REQUESTS}, 10)  # fmt: skip

    # Day 2: only server-b listed (it runs again): the reload script applies it, same master
    serve(21, "server-b")
    pid = await vnf.pid("haproxy")
    results = await vnf.modify({"servers": f"{base + 21}:8080", "check_interval_ms": 200})
    assert [(r.change.op, r.error) for r in results] == [(ChangeOp.UPDATE_VNF_CONFIG, None)]
    await eventually("only server-b after the reload",
                     lambda: spread(lab, front) == {"server-b": REQUESTS}, 10)  # fmt: skip
    assert await vnf.pid("haproxy") == pid

    # a server without its port never reaches the site: the input's pattern refuses it (what
    # the central answers 422 with); a port out of range passes the pattern, and the reload
    # script's `haproxy -c` refuses it: the change fails, the previous configuration is back
    template = vnf.reading.template
    assert template is not None
    _, wrong = template.params({"servers": f"{base + 20}:8080 {base + 21}"})
    assert [name for name, _ in wrong] == ["servers"]
    results = await vnf.modify({"servers": f"{base + 21}:99999", "check_interval_ms": 200})
    (result,) = results
    assert result.failed
    error = result.error or ""
    assert "reload by script failed: hook modify_information_end exited with" in error, error
    assert "the previous configuration is back" in error
    assert "99999" in error  # haproxy -c says what it refused, the change carries it
    assert spread(lab, front) == {"server-b": REQUESTS}
    status = await vnf.status()
    assert status["state"] == "ready"
    assert "reload by script failed" in status["reload_error"]
    assert await vnf.pid("haproxy") == pid
