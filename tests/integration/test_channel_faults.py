"""Bad input on the channel, both ways, between real processes over mutual TLS.

To the central (a real `edgewise server`): malformed JSON, an oversized body, a replayed batch,
an older status after a newer one, polls with a bad revision. To a real site controller (from a
scripted test central): a malformed document, an oversized body, garbage bytes, an older
revision. Nothing crashes, nothing changes that should not, and the refusals are visible.
(Unit-level cases live in tests/central/southbound/test_channel.py and are not repeated.)
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from aiohttp import web

from tests.integration.harness import (
    Central,
    JournalView,
    document,
    edgewise,
    enroll,
    read_journal,
    read_only,
    start_controller,
    stop,
)
from tests.site.central import FakeCentral, server_context
from tests.site.pki import ThrowawayCa

PROBLEM = "application/problem+json"


# -- to the central ------------------------------------------------------------------------------


def site_client(central: Central, site_dir: Path) -> httpx.Client:
    """An mTLS client holding the enrolled site's own key and certificate."""
    context = ssl.create_default_context(cafile=str(site_dir / "pki" / "ca.crt"))
    context.load_cert_chain(site_dir / "pki" / "site.crt", site_dir / "pki" / "site.key")
    return httpx.Client(base_url=central.southbound + "/southbound/v1/", verify=context, timeout=10)


def report(kind: str, at: datetime, body: dict[str, Any]) -> dict[str, Any]:
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"id": str(uuid.uuid4()), "kind": kind, "at": stamp, "body": body}


def status(revision: int, at: datetime) -> dict[str, Any]:
    return report(
        "status", at, {"revision": revision, "state": "converged", "services": [], "error": None}
    )


def assert_problem(response: httpx.Response, code: int, *words: str) -> None:
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == code
    assert body["title"]
    assert body["detail"]
    for word in words:
        assert word in body["detail"], body


def recorded(central: Central, site_id: str) -> tuple[int, int, Any]:
    """(report items, events, status row) as the central's store holds them."""
    with read_only(central.data_dir / "edgewise.db") as db:
        items = db.execute(
            "SELECT count(*) FROM site_report_items WHERE site_id = ?", (site_id,)
        ).fetchone()[0]
        events = db.execute(
            "SELECT count(*) FROM site_events WHERE site_id = ?", (site_id,)
        ).fetchone()[0]
        row = db.execute(
            "SELECT applied_revision, state, reported_at FROM site_status WHERE site_id = ?",
            (site_id,),
        ).fetchone()
    return int(items), int(events), row


def test_the_central_refuses_bad_channel_input_and_changes_nothing(
    central: Central, tmp_path: Path
) -> None:
    site_id = enroll(central, "bad-input", tmp_path / "site")
    now = datetime.now(UTC)
    newer = status(2, now)
    with site_client(central, tmp_path / "site") as sb:
        batch = {"items": [newer, report("event", now, {"event": "vnf-repaired"})]}
        assert sb.post("reports", json=batch).json() == {"accepted": 2, "duplicates": 0}
        baseline = recorded(central, site_id)
        assert baseline[:2] == (2, 1)

        # A replayed batch is accepted again and counted once.
        assert sb.post("reports", json=batch).json() == {"accepted": 2, "duplicates": 2}
        assert recorded(central, site_id) == baseline

        # Malformed, not an object, truncated, oversized: refused whole, nothing recorded.
        headers = {"Content-Type": "application/json"}
        assert_problem(sb.post("reports", content=b"{not json", headers=headers), 400, "JSON")
        assert_problem(sb.post("reports", content=b"\xff\xfe\x00", headers=headers), 400, "UTF-8")
        assert_problem(sb.post("reports", json=[batch]), 400, "object")
        truncated = json.dumps(batch).encode()[:-5]
        assert_problem(sb.post("reports", content=truncated, headers=headers), 400, "JSON")
        huge = {"items": [report("event", now, {"blob": "x" * (2 * 1024 * 1024)})]}
        assert_problem(sb.post("reports", json=huge), 413, str(1024 * 1024))
        assert recorded(central, site_id) == baseline

        # An older status arriving after a newer one is recorded but does not overwrite it.
        older = status(1, now - timedelta(minutes=1))
        assert sb.post("reports", json={"items": [older]}).json() == {
            "accepted": 1,
            "duplicates": 0,
        }
        items, events, row = recorded(central, site_id)
        assert (items, events, row) == (baseline[0] + 1, baseline[1], baseline[2])
        seen = central.status(site_id)
        assert (seen["appliedRevision"], seen["detail"]["revision"]) == (2, 2)

        # A poll with a revision that is negative, not a number, or not whole: 400.
        for bad in ("-1", "abc", "1.5", "", "0x1"):
            polled = sb.get("desired-state", params={"revision": bad})
            assert_problem(polled, 400, "revision")
        assert recorded(central, site_id) == (items, events, row)
    assert central.status(site_id)["appliedRevision"] == 2


# -- to the site ---------------------------------------------------------------------------------


@dataclass
class ScriptedCentral(FakeCentral):
    """The test central, but desired-state polls first get the scripted answers, in order."""

    script: list[web.Response] = field(default_factory=list)
    answered: int = 0

    async def desired_state(self, request: web.Request) -> web.StreamResponse:
        if self.site_of(request) is not None and self.script:
            self.answered += 1
            return self.script.pop(0)
        held = int(request.query.get("revision", "0"))
        if held > self.revision:  # the site holds a later, rejected revision: nothing new
            await asyncio.sleep(self.hold)
            return web.Response(status=204)
        return await super().desired_state(request)


@asynccontextmanager
async def scripted_central(directory: Path) -> AsyncIterator[ScriptedCentral]:
    """Like tests.site.central.running_central, with the scripted central."""
    central = ScriptedCentral(ThrowawayCa.create(), hold=0.3)
    runner = web.AppRunner(central.app(), shutdown_timeout=0.5)
    await runner.setup()
    try:
        context = server_context(central.ca, directory)
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        host, port = runner.addresses[0][:2]
        central.url = f"https://{host}:{port}/"
        yield central
    finally:
        central.changed.set()
        await runner.cleanup()


async def until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@dataclass
class Site:
    central: ScriptedCentral
    site_id: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def journal(self) -> JournalView:
        return read_journal(self.data_dir / "journal.db")

    def statuses(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.central.reports.values() if r["kind"] == "status"]

    def events(self) -> list[dict[str, Any]]:
        return self.journal.items("event")

    def log(self) -> str:
        return (self.data_dir / "controller.log").read_text()

    async def answer(self, response: web.Response, what: str) -> None:
        """Answers the site's next poll with `response` and waits until it was taken."""
        before = self.central.answered
        self.central.script.append(response)
        await until(lambda: self.central.answered > before, 15, f"the site to poll ({what})")
        await asyncio.sleep(0.6)  # a reconcile pass (0.5 s) after the answer

    def assert_kept(self, revision: int, good: dict[str, Any]) -> None:
        assert self.process.poll() is None, f"the controller exited:\n{self.log()[-3000:]}"
        view = self.journal
        assert (view.desired_revision, view.desired) == (revision, good)


@asynccontextmanager
async def site_on(central: ScriptedCentral, data_dir: Path) -> AsyncIterator[Site]:
    """A real, enrolled controller converged on revision 3 of the scripted central."""
    central.tokens.add("token-1")
    ca_file = data_dir.parent / "fake-ca.pem"
    ca_file.write_bytes(central.ca.pem)
    args = ["site-controller", "enroll", "--central", central.url, "--token", "token-1"]
    args += ["--data-dir", str(data_dir), "--ca-file", str(ca_file)]
    enrolled = await anyio.to_thread.run_sync(lambda: edgewise(*args))
    assert enrolled.returncode == 0, enrolled.stderr
    (site_id,) = central.enrolled
    central.revision = 2
    central.publish(document(3))
    process = start_controller(data_dir)
    site = Site(central, site_id, data_dir, process)
    try:
        await until(
            lambda: any(s["revision"] == 3 for s in site.statuses()), 20, "revision 3 applied"
        )
        yield site
    finally:
        await anyio.to_thread.run_sync(stop, process)


def answer(site_id: str, revision: object, document: object) -> web.Response:
    return web.json_response({"siteId": site_id, "revision": revision, "document": document})


@pytest.mark.anyio
async def test_the_site_keeps_its_last_good_state_on_bad_answers(tmp_path: Path) -> None:
    good = document(3)
    async with scripted_central(tmp_path) as central, site_on(central, tmp_path / "s") as site:
        # A malformed document: refused with an event; the good state stays.
        await site.answer(answer(site.site_id, 4, {"services": [{"id": 7}]}), "malformed")
        site.assert_kept(3, good)
        rejected = [e for e in site.events() if e["event"] == "document-rejected"]
        assert [e["revision"] for e in rejected] == [4]
        assert site.journal.received == 4

        # An oversized body (4 MiB) holding an invalid document: refused the same way.
        blob = {"services": "x" * (4 * 1024 * 1024)}
        await site.answer(answer(site.site_id, 5, blob), "oversized")
        site.assert_kept(3, good)
        rejected = [e for e in site.events() if e["event"] == "document-rejected"]
        assert [e["revision"] for e in rejected] == [4, 5]

        # Garbage bytes and a JSON array: a bad answer, retried later; nothing stored.
        for body in (b"\x89PNG\r\n\x1a\n\x00\xff garbage", b"[1, 2, 3]"):
            garbage = web.Response(body=body, status=200, content_type="application/json")
            await site.answer(garbage, "garbage")
            site.assert_kept(3, good)
        assert "the answer is not JSON" in site.log()
        assert "the answer is not a JSON object" in site.log()

        # The site carries on: its reports still reach the central, with the rejection.
        await until(
            lambda: any("revision 5 rejected" in (s["error"] or "") for s in site.statuses()),
            10,
            "a status naming the rejection",
        )
        assert all(s["revision"] == 3 for s in site.statuses())
        central.revision = 6  # the next revision (7) is above the rejected 5
        central.publish(document(7))
        await until(
            lambda: any(
                s["revision"] == 7 and s["state"] == "converged" and not s["error"]
                for s in site.statuses()
            ),
            15,
            "the next good revision to be applied",
        )
        assert site.process.poll() is None
    assert "Traceback" not in site.log()


@pytest.mark.anyio
async def test_the_site_ignores_an_older_revision(tmp_path: Path) -> None:
    async with scripted_central(tmp_path) as central, site_on(central, tmp_path / "s") as site:
        polls = len(central.polls)
        await site.answer(answer(site.site_id, 2, document(2)), "older")
        # Had it taken revision 2, it would poll with 2 (and be re-sent 3 by this central).
        assert 2 not in central.polls[polls:], "the site went back to revision 2"
        assert all(s["revision"] == 3 for s in site.statuses())
        site.assert_kept(3, document(3))


@pytest.mark.anyio
async def test_an_answer_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    async with scripted_central(tmp_path) as central, site_on(central, tmp_path / "s") as site:
        huge = {"services": [], "padding": "x" * (9 * 1024 * 1024)}
        await site.answer(answer(site.site_id, 4, huge), "too large")
        site.assert_kept(3, document(3))
        assert "exceeds" in site.log()
        await until(
            lambda: any(e["event"] == "bad-answer" for e in site.events()), 10, "a bad-answer event"
        )
