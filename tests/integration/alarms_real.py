"""The alarms scenario over real processes (the end-to-end test's and `benchmarks/alarms.py
--real`'s): a real `edgewise server` (short holds) and a real site controller running the linux
driver in namespaces, with three WAN links to a data centre (tests/site/drivers/wanlab.py).
Each fault is made for real and its alarm looked for in GET /nsfm/v1/alarms; `measure` answers
the latency from each fault to its alarm:

- a WAN link's carrier lost → LINK_DOWN, and the SLA of the class on it not raised on its own
  (suppressed, or correlated to the link's alarm); carrier back → cleared;
- a process VNF's program killed with its restart made to fail → VNF_DOWN; the restart able to
  run again → cleared once the controller heals it, and the restart counted (VNF_FLAPPING);
- the site controller SIGKILLed → SITE_OFFLINE within the bound the settings give; started
  again → cleared.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.integration.harness import (
    Central,
    CentralProcess,
    kill9,
    read_journal,
    read_only,
    stop,
    wait_for,
)
from tests.integration.test_mixed_chain import RUNTIME_ROOT, enroll_site, start_linux_controller
from tests.site.drivers.netlab import stop_processes
from tests.site.drivers.wanlab import WanLab

ALARMS = "nsfm/v1/alarms"
HOLDS = {  # a site is offline 1 x 2 s + 5 s after its last "heard from" mark (docs/alarms.md)
    "EDGEWISE_POLL_HOLD": "1,2",
    "EDGEWISE_ALARM_OFFLINE_HOLDS": "1",
    "EDGEWISE_ALARM_FLAP_RESTARTS": "1",
    "EDGEWISE_ALARM_FLAP_WINDOW": "5",
}
# marks every 5 s, offline 7 s after one, a sweep at most every 2 s: 14 s at worst, by design
OFFLINE_BOUND_S = 14.0 + 6.0  # (+ the shared machine's slack)
REPORT_BOUND_S = 10.0  # an alarm from a report: the site's pass, its report, the intake
PROGRAM = "#!/bin/sh\nexec sleep 86400\n"


@contextlib.contextmanager
def wan_lab() -> Iterator[WanLab]:
    """A WAN lab (check `can_build_namespaces` first), removed with what the site left."""
    lab = WanLab(prefix="al" + secrets.token_hex(2))
    try:
        lab.start()
        yield lab
    finally:
        lab.close()
        stop_processes(RUNTIME_ROOT / lab.prefix)  # the process VNF's program outlives us
        shutil.rmtree(RUNTIME_ROOT / lab.prefix, ignore_errors=True)


def document(lab: WanLab, tenant: str, program: Path) -> dict[str, Any]:
    """A firewall and a process VNF (its program `program`), three links probed every 100 ms,
    voice steered over mpls with an SLA profile."""
    service = {
        "id": "svc-1", "name": "svc-1", "tenant": tenant,
        "vnfs": [
            {"name": "fw", "function": "firewall", "config": {"default_action": "accept"}},
            {"name": "app", "function": "process",
             "config": {"command": str(program), "restart": "always"}},
        ],
        "chain": ["fw", "app"],
    }  # fmt: skip
    probe = {"interval_ms": 100, "hold_s": 1}
    steering = {
        "classes": [{"name": "voice", "protocol": "udp", "ports": [5060]}],
        "sla_profiles": [{"name": "voice", "max_latency_ms": 150, "max_loss_percent": 5}],
        "policies": [{"class": "voice", "links": ["mpls", "inet"], "sla": "voice"}],
        "default_links": ["inet", "mpls", "lte"],
        "hold_s": 1,
    }  # fmt: skip
    links = [{**link, "probe": probe} for link in lab.links_document()]
    return {"services": [service], "links": links, "steering": steering}


def alarms(central: Central, site_id: str, kind: str) -> list[dict[str, Any]]:
    answer = central.api.get(ALARMS, params={"siteId": site_id, "kind": kind})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def active(central: Central, site_id: str, kind: str, part: str = "") -> list[dict[str, Any]]:
    return [a for a in alarms(central, site_id, kind) if a["active"] and part in a["component"]]


def latency(check: Callable[[], bool], seconds: float, what: str) -> float:
    started = time.monotonic()
    wait_for(check, seconds, what)
    return time.monotonic() - started


def last_status(site_dir: Path) -> dict[str, Any]:
    statuses = read_journal(site_dir / "journal.db").items("status")
    return statuses[-1] if statuses else {}


def app_pid(site_dir: Path) -> int | None:
    """The process VNF's pid, as the site's last status tells it."""
    for service in last_status(site_dir).get("services", ()):
        for vnf in service.get("vnfs", ()):
            counted = vnf.get("counters", {}).get("process", {})
            if vnf["name"] == "app" and vnf["healthy"] and counted.get("running"):
                return int(counted["pid"])
    return None


def suppressed_by(database: Path, alarm_id: str) -> list[str]:
    """The faults an alarm, as a root, keeps from being raised (`details.suppressedFaults`)."""
    with read_only(database) as db:
        (details,) = db.execute("SELECT details FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
    named: list[str] = json.loads(details).get("suppressedFaults", [])
    return named


def links_up(site_dir: Path) -> bool:
    links = last_status(site_dir).get("links") or []
    return len(links) == 3 and all(link["state"] == "up" for link in links)


def measure(tmp_path: Path) -> dict[str, float]:
    """Runs the scenario in `tmp_path` (an AssertionError names what did not happen in its
    bound); the seconds from each fault to its alarm, and a counters report's size."""
    data = tmp_path / "central"
    data.mkdir()
    program = tmp_path / "app.sh"
    program.write_text(PROGRAM)
    program.chmod(0o755)
    figures: dict[str, float] = {}
    with wan_lab() as lab, CentralProcess(data, env=HOLDS).running() as central:
        site_dir = tmp_path / "site"
        site_id = enroll_site(central, f"alarms-{uuid.uuid4().hex[:8]}", site_dir)
        central.put_desired(site_id, document(lab, central.tenant_id, program))
        controller = start_linux_controller(site_dir, lab)
        try:
            wait_for(lambda: links_up(site_dir) and app_pid(site_dir) is not None, 60,
                     "the site converged with its three links up")  # fmt: skip
            assert not alarms(central, site_id, "LINK_DOWN")

            # (b) a WAN link's carrier lost
            lab.cut("mpls")
            figures["LINK_DOWN"] = latency(
                lambda: bool(active(central, site_id, "LINK_DOWN", "link:mpls")),
                REPORT_BOUND_S, "LINK_DOWN of mpls")  # fmt: skip
            (link_down,) = active(central, site_id, "LINK_DOWN", "link:mpls")
            assert link_down["isRootCause"] is True
            wait_for(lambda: last_status(site_dir).get("links", [{}])[0].get("state") == "down",
                     REPORT_BOUND_S, "a status showing mpls down")  # fmt: skip
            time.sleep(1.0)  # the intake has settled that status
            slas = active(central, site_id, "SLA_BROKEN", "link:mpls")
            for sla in slas:  # raised before the link's alarm: correlated to it
                assert (sla["isRootCause"], sla["correlatedAlarmIds"]) == (
                    False, [link_down["id"]]), sla  # fmt: skip
            if not slas:  # else not raised: counted in the root's details (the store's)
                explained = suppressed_by(data / "edgewise.db", link_down["id"])
                assert any("SLA_BROKEN" in key and "app-class:voice" in key
                           for key in explained), explained  # fmt: skip
            lab.cut("mpls", down=False)
            figures["LINK_DOWN cleared"] = latency(
                lambda: not active(central, site_id, "LINK_DOWN"), 30, "LINK_DOWN cleared"
            )

            # (c) the process VNF's program killed, its restart failing until mended
            pid = app_pid(site_dir)
            assert pid is not None
            program.chmod(0o644)  # no longer executable: the restart fails
            kill_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            wait_for(lambda: bool(active(central, site_id, "VNF_DOWN", "vnf:svc-1/app")),
                     REPORT_BOUND_S, "VNF_DOWN of app")  # fmt: skip
            figures["VNF_DOWN"] = time.monotonic() - kill_at
            (vnf_down,) = active(central, site_id, "VNF_DOWN")
            assert "process-down" in vnf_down["faultDetails"], vnf_down
            program.chmod(0o755)  # the controller's next pass restarts it
            mended = time.monotonic()
            wait_for(lambda: not active(central, site_id, "VNF_DOWN"), REPORT_BOUND_S,
                     "VNF_DOWN cleared")  # fmt: skip
            figures["VNF_DOWN cleared"] = time.monotonic() - mended
            wait_for(lambda: bool(active(central, site_id, "VNF_FLAPPING")), REPORT_BOUND_S,
                     "the restart counted (VNF_FLAPPING at 1 restart)")  # fmt: skip

            # the history's cadence: the counters report a site with links sends
            sent = read_journal(site_dir / "journal.db").items("counters")
            assert sent
            assert "probes" in sent[-1]["wan"]
            figures["counters report bytes"] = len(json.dumps(sent[-1]))

            # (a) the site controller SIGKILLed
            kill9(controller)
            figures["SITE_OFFLINE"] = latency(
                lambda: bool(active(central, site_id, "SITE_OFFLINE")),
                OFFLINE_BOUND_S, "SITE_OFFLINE")  # fmt: skip
            controller = start_linux_controller(site_dir, lab)
            figures["SITE_OFFLINE cleared"] = latency(
                lambda: not active(central, site_id, "SITE_OFFLINE"), 30, "SITE_OFFLINE cleared"
            )
            wait_for(lambda: not active(central, site_id, "VNF_FLAPPING"), 30,
                     "VNF_FLAPPING ended by the sweep after its window")  # fmt: skip
        finally:
            stop(controller)
        log = (site_dir / "controller.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]
    return figures
