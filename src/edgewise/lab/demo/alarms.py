"""The demo's alarms step, after the vCPE is terminated: one site's controller is stopped by its
pid (`silence`), the central raises SITE_OFFLINE as a root once the site has been silent past
its threshold, `edgewise alarm list` shows it; the controller is started again and the alarm
cleared by its first report (`follow`). The wait overlaps the next step when there is one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from rich.console import Console

from edgewise.lab.demo.operator import CentralApi
from edgewise.lab.demo.sites import DemoFleet, DemoSite
from edgewise.lab.errors import LabError

# The demo's central: polls held 1-2 s, a site offline after 1 hold of 2 s without a poll plus
# the 5 s the channel takes to write its "heard from" marks (docs/alarms.md: 125 s by default)
CENTRAL_ENV = {"EDGEWISE_POLL_HOLD": "1,2", "EDGEWISE_ALARM_OFFLINE_HOLDS": "1"}
OFFLINE_AFTER_S = 7
RAISED_WITHIN_S = 30.0  # threshold, plus up to 5 s of marks and the sweep's 2 s pace, plus slack
CLEARED_WITHIN_S = 30.0  # a controller's start (interpreter, TLS) and its first report
POLL_S = 0.25


@dataclass(frozen=True)
class Silence:
    site: DemoSite
    pid: int
    since: float  # monotonic


def silence(console: Console, fleet: DemoFleet, site: DemoSite) -> Silence:
    """Stops `site`'s controller (SIGTERM to its pid); the central is not told."""
    pid = fleet.stop_controller(site)
    console.print(
        f"{site.name}'s site controller (pid {pid}) stopped: the central raises SITE_OFFLINE "
        f"once it has heard nothing from it for {OFFLINE_AFTER_S} s"
    )
    return Silence(site, pid, time.monotonic())


def follow(
    console: Console,
    client: CentralApi,
    edgewise: Callable[..., None],
    fleet: DemoFleet,
    silent: Silence,
) -> None:
    """The alarm listed as a root, the controller started again, the alarm cleared."""
    site = silent.site
    raised = wait_for(client, site, active=True, within=RAISED_WITHIN_S)
    if not raised.get("isRootCause"):
        raise LabError(f"{site.name}: its SITE_OFFLINE alarm is not a root cause ({raised})")
    console.print(
        f"SITE_OFFLINE of {site.name} raised {time.monotonic() - silent.since:.1f} s after its "
        "controller stopped, a root cause (CAUSE root):"
    )
    edgewise("alarm", "list")
    pid = fleet.start_controller(site)
    restarted = time.monotonic()
    console.print(f"{site.name}'s site controller started again (pid {pid}) ...")
    wait_for(client, site, active=False, within=CLEARED_WITHIN_S)
    console.print(
        f"... and its alarm cleared {time.monotonic() - restarted:.1f} s later, by its first "
        f"report (`alarm list --all --site {site.name}`: cleared alarms too):"
    )
    edgewise("alarm", "list", "--all", f"--site={site.name}")


def wait_for(
    client: CentralApi,
    site: DemoSite,
    *,
    active: bool,
    within: float,
    kind: str = "SITE_OFFLINE",
    component: str = "",
) -> dict[str, Any]:
    """The site's alarm of `kind` (on the component ending in `component`) from
    `GET /nsfm/v1/alarms` once it is (in)active."""
    query = urlencode({"kind": kind, "siteId": site.site_id})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alarms = [a for a in client.list_all(f"nsfm/v1/alarms?{query}")
                  if a.get("component", "").endswith(component)]  # fmt: skip
        if active:
            found = [a for a in alarms if a.get("active")]
        else:  # cleared: one there, none active
            found = alarms if alarms and not any(a.get("active") for a in alarms) else []
        if found:
            return found[-1]
        time.sleep(POLL_S)
    state = "raised" if active else "cleared"
    raise LabError(f"{site.name}: its {kind} alarm was not {state} within {within:.0f} s")


def link_recovered(console: Console, client: CentralApi, site: DemoSite, link: str) -> None:
    """Waits until the LINK_DOWN the blackout raised on `link` is cleared: the link is back once
    its probes have seen it healthy for the failback hold, and the site's next report clears
    the alarm."""
    began = time.monotonic()
    wait_for(client, site, active=False, within=CLEARED_WITHIN_S, kind="LINK_DOWN",
             component=f"/link:{link}")  # fmt: skip
    console.print(f"{link} of {site.name} is back: its LINK_DOWN cleared (waited "
                  f"{time.monotonic() - began:.1f} s)")  # fmt: skip
