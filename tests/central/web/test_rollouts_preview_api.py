"""The rollout dry run on the API (`POST api/v1/rollouts/preview`): the same placement as
`POST api/v1/rollouts`, its sites by wave and those left out, and nothing started; its
refusals are the rollout's own ProblemDetails."""

from __future__ import annotations

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_rollouts import ROLLOUTS, fleet
from tests.central.web.conftest import Portal


def test_a_preview_plans_the_waves_and_starts_nothing(portal: Portal) -> None:
    central = Central(portal.client, portal.admin)
    client, acme = central.client, central.tenant("acme")
    nsd = onboard_nsd(central, central.admin)
    sites = fleet(central, acme, eu=3, us=1)
    body = {"name": "vcpe", "nsdId": nsd, "labels": "region=eu", "batchSize": 2}
    previewed = client.post(f"{ROLLOUTS}/preview", json=body, headers=acme.headers)
    assert previewed.status_code == 200, previewed.text
    plan = previewed.json()
    assert (plan["total"], plan["waves"]) == (3, 2)
    assert [(s["siteName"], s["wave"], s["state"]) for s in plan["sites"]] == [
        ("eu-0", 1, "PENDING"), ("eu-1", 1, "PENDING"), ("eu-2", 2, "PENDING"),
    ]  # fmt: skip
    assert plan["notChosen"] == [
        {
            "siteId": sites["us-0"],
            "siteName": "us-0",
            "reason": "labels do not match region=eu (has region=us)",
        }
    ]
    assert client.get(ROLLOUTS, headers=acme.headers).json() == []
    assert client.get("/nslcm/v1/ns_instances", headers=acme.headers).json() == []
    nowhere = client.post(
        f"{ROLLOUTS}/preview", json=body | {"labels": "region=mars"}, headers=acme.headers
    )
    assert nowhere.status_code == 400
    assert nowhere.headers["content-type"] == "application/problem+json"
    assert nowhere.json()["detail"] == "no site to roll out to"
    started = client.post(ROLLOUTS, json=body, headers=acme.headers)
    assert started.status_code == 201
    assert started.json()["total"] == plan["total"]
