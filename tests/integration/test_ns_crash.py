"""The central SIGKILLed in the middle of an NS instantiation on 100 sites, then restarted on
the same store: the operation finishes without operator help, and its subscriber hears the
end of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from edgewise.lab import samples
from tests.central.api.callbacks import Callback
from tests.integration.harness import Central, CentralProcess, stop, wait_for
from tests.integration.test_central_crash import FLEET, enroll_all

SITES = 100
NSD = samples.path("vcpe-nsd.yaml")


def onboard(central: Central) -> str:
    nsd: str = central.api.post("nsd/v1/ns_descriptors", json={}).json()["id"]
    uploaded = central.api.put(
        f"nsd/v1/ns_descriptors/{nsd}/nsd_content",
        content=NSD.read_bytes(),
        headers={"Content-Type": "text/plain"},
    )
    assert uploaded.status_code == 204, uploaded.text
    return nsd


def operation(central: Central, location: str) -> dict[str, Any]:
    op: dict[str, Any] = central.api.get(location).json()
    return op


@pytest.mark.slow
def test_central_killed_mid_instantiation_the_operation_completes(tmp_path: Path) -> None:
    data_dir = tmp_path / "central"
    data_dir.mkdir()
    process = CentralProcess(data_dir, env={"EDGEWISE_FETCH_ALLOW": "127.0.0.0/8"})  # callback
    subscriber, server, uri = Callback.serve()
    try:
        with process.running() as central:
            batch = [
                {"name": f"ns-{i:03d}", "kind": "on-premise", "tenantId": central.tenant_id,
                 "labels": {"fleet": "crash"}}
                for i in range(SITES)
            ]  # fmt: skip
            created = central.api.post("api/v1/sites/batch", json={"sites": batch})
            assert created.status_code == 201, created.text
            tokens = {s["id"]: s["enrollmentToken"]["token"] for s in created.json()}
            journals = asyncio.run(enroll_all(central, tokens, tmp_path / "sites"))
            ready = tmp_path / "fleet.ready"
            with (tmp_path / "fleet.log").open("ab") as log:
                fleet = subprocess.Popen(
                    [sys.executable, str(FLEET), "--latency", "0.5", "--ready", str(ready),
                     *map(str, journals)],
                    stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                wait_for(ready.exists, 30, "the fleet to start")
                subscribed = central.api.post(
                    "nslcm/v1/subscriptions",
                    json={"callbackUri": uri, "tenantId": central.tenant_id, "filter": {
                        "notificationTypes": ["NsLcmOperationOccurrenceNotification"]}},
                )  # fmt: skip
                assert subscribed.status_code == 201, subscribed.text
                nsd = onboard(central)
                ns = central.api.post(
                    "nslcm/v1/ns_instances",
                    json={"nsdId": nsd, "nsName": "crash", "tenantId": central.tenant_id},
                ).json()
                started = central.api.post(
                    f"nslcm/v1/ns_instances/{ns['id']}/instantiate",
                    json={"nsFlavourId": "default",
                          "additionalParamsForNs": {"placement": {"labels": "fleet=crash"}}},
                )  # fmt: skip
                assert started.status_code == 202, started.text
                location = started.headers["Location"]
                time.sleep(0.3)  # the sites take 0.25-0.75 s a change: the kill lands mid-way
                before = operation(central, location)
                process.kill9()
                assert before["operationState"] == "PROCESSING"
                assert before["sitesDone"] < SITES
                time.sleep(1.0)
                process.start()
                wait_for(
                    lambda: operation(central, location)["operationState"] != "PROCESSING",
                    60,
                    "the operation to end",
                )
                done = operation(central, location)
                assert (done["operationState"], done["sitesDone"]) == ("COMPLETED", SITES)
                instance = central.api.get(f"nslcm/v1/ns_instances/{ns['id']}").json()
                assert instance["nsState"] == "INSTANTIATED"
                assert len(instance["sites"]) == SITES
                heard = subscriber.wait_for(2, timeout=20)
                statuses = sorted(n["notificationStatus"] for n in heard)
                assert statuses == ["RESULT", "START"]
            finally:
                stop(fleet, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
