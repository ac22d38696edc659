"""Rollouts in the operator console (in-process): a dry run of the placement (sites by wave,
those left out and why) that starts nothing, then the rollout, its live part, pause, resume
and abort offered only when the state allows them."""

from __future__ import annotations

import re

from tests.central.api.conftest import Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_rollouts import fleet
from tests.central.web.conftest import ADMIN_PASSWORD, Portal

ROLLOUT = re.compile(r"/ui/rollouts/([0-9a-f-]{36})$")


def test_a_dry_run_shows_the_waves_and_starts_nothing_then_the_rollout_is_driven(
    portal: Portal,
) -> None:
    central = Central(portal.client, portal.admin)
    nsd = onboard_nsd(central, central.admin)
    fleet(central, central.tenant("acme"), eu=3, us=1)
    csrf = portal.sign_in("admin", ADMIN_PASSWORD)
    client = portal.client
    assert 'action="/ui/rollouts/preview"' in client.get("/ui/rollouts/new").text
    form = {"csrf": csrf, "name": "vcpe", "nsd": nsd, "labels": "region=eu", "batch_size": "2"}

    dry = client.post("/ui/rollouts/preview", data=form)
    assert dry.status_code == 200, dry.text
    assert "Dry run: 3 site(s) in 2 wave(s)" in dry.text
    waves = re.findall(r"<tr><td>(\d)</td><th scope=\"row\">([\w-]+)</th>", dry.text)
    assert waves == [("1", "eu-0"), ("1", "eu-1"), ("2", "eu-2")]
    assert "labels do not match region=eu (has region=us)" in dry.text
    assert client.get("/api/v1/rollouts", headers=portal.admin.headers).json() == []

    empty = client.post("/ui/rollouts/preview", data=form | {"labels": "region=mars"})
    assert empty.status_code == 422
    assert "no site to roll out to" in empty.text
    assert 'aria-invalid="true" aria-describedby="labels-error"' in empty.text
    nameless = client.post("/ui/rollouts/preview", data=form | {"name": ""})
    assert nameless.status_code == 422
    assert 'id="name-error" class="field-error" role="alert">give the rollout a name' in (
        nameless.text
    )
    too_big = client.post("/ui/rollouts/preview", data=form | {"batch_size": "0"})
    assert too_big.status_code == 422
    assert "batch_size" in too_big.text

    started = client.post("/ui/rollouts", data=form, follow_redirects=False)
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    assert ROLLOUT.search(url), url
    page = client.get(url)
    assert f'data-refresh="{url}"' in page.text
    assert "RUNNING" in page.text
    assert f'action="{url}/pause"' in page.text
    assert f'action="{url}/resume"' not in page.text
    assert "Resume (not while RUNNING)" in page.text
    assert client.post(f"{url}/resume", data={"csrf": csrf}).status_code == 409
    paused = client.post(f"{url}/pause", data={"csrf": csrf}, follow_redirects=False)
    assert paused.status_code == 303
    live = client.get(url, headers={"X-Requested-With": "edgewise"}).text
    assert "<html" not in live
    assert "PAUSED" in live
    assert f'action="{url}/resume"' in live
    assert client.post(f"{url}/abort", data={"csrf": csrf}).status_code == 200
    aborted = client.get(url).text
    assert "ABORTED" in aborted
    assert "data-refresh" not in aborted  # nothing moves any more
    listed = client.get("/ui/rollouts").text
    assert url in listed
