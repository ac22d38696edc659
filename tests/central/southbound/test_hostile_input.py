"""What one site (or anyone, on enrollment) can send the listener: every bad input is a 400
naming the field, alone; no other site's call fails with it, and nothing reaches the store."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from edgewise.central.services.errors import Invalid
from edgewise.central.services.site_channel import ReportItem
from edgewise.central.southbound.bodies import read_object
from edgewise.central.southbound.intake import NotRecorded, ReportIntake
from tests.central.southbound.conftest import Channel

pytestmark = pytest.mark.anyio
NOW = datetime.now(UTC).isoformat()


def status(**fields: Any) -> dict[str, Any]:
    body = {"revision": 1, "state": "converged"}
    item = {"id": str(uuid.uuid4()), "kind": "status", "at": NOW, "body": body}
    for key, value in fields.items():
        (body if key in {"revision", "state", "services", "error"} else item)[key] = value
    return item


def nested(depth: int) -> bytes:
    return b'{"items": [' + b"[" * depth + b"]" * depth + b"]}"


async def post(http: aiohttp.ClientSession, url: str, tls: ssl.SSLContext, body: Any) -> Any:
    data = body if isinstance(body, bytes) else None
    async with http.post(
        url, json=None if data else body, data=data, ssl=tls,
        headers={"Content-Type": "application/json"},
    ) as answer:  # fmt: skip
        return answer.status, await answer.json(content_type=None)


BAD_ITEMS = [
    ("revision", status(revision=1180591620717411303424), "items[0].body.revision"),
    ("revision", status(revision=2**40), "items[0].body.revision"),
    ("revision", status(revision="7"), "items[0].body.revision"),
    ("at", status(at="9999-12-31T23:59:59-01:00"), "items[0].at"),
    ("at", status(at="0001-01-01T00:00:00+01:00"), "items[0].at"),
    ("at", status(at="2999-01-01T00:00:00Z"), "items[0].at"),
    ("at", status(at="2026-01-01T00:00:00"), "items[0].at"),
    ("id", status(id="a" * 65), "items[0].id"),
    ("id", status(id="nul\u0000"), "items[0].id"),
    ("state", status(state="x" * 17), "items[0].body.state"),
    ("services", status(services=7), "items[0].body.services"),
    ("error", status(error={"no": 1}), "items[0].body.error"),
    ("string", status(services=[{"id": "\ud800"}]), "items[0].body.services[0].id"),
    ("string", status(services=[{"id": "nul\u0000"}]), "items[0].body.services[0].id"),
]


@pytest.mark.parametrize(
    ("what", "bad", "where"), BAD_ITEMS, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(BAD_ITEMS)]
)
async def test_a_bad_report_is_refused_alone_and_others_go_through(
    channel: Channel, what: str, bad: dict[str, Any], where: str
) -> None:
    async with aiohttp.ClientSession() as http:
        _, good_tls = await channel.enroll(http, "good")
        _, bad_tls = await channel.enroll(http, "bad")
        url = f"{channel.url}/reports"
        good = [post(http, url, good_tls, {"items": [status()]}) for _ in range(3)]
        answers = await asyncio.gather(post(http, url, bad_tls, {"items": [bad]}), *good)
    (bad_status, problem), *others = answers
    assert bad_status == 400, (what, problem)
    assert where in [p["where"] for p in problem["problems"]], problem
    assert [code for code, _ in others] == [200, 200, 200]


async def test_deep_nesting_and_huge_numbers_are_a_400_on_every_route(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        _, tls = await channel.enroll(http, "hq")
        trust = channel.server_trust()
        for route, context in (("enroll", trust), ("reports", tls)):
            url = f"{channel.url}/{route}"
            code, problem = await post(http, url, context, nested(100_000))
            assert (code, problem["detail"]) == (400, "the body nests deeper than 32 levels")
            code, problem = await post(http, url, context, nested(40))
            assert code == 400
            assert problem["problems"][0]["message"] == "nests deeper than 32 levels"
            code, problem = await post(http, url, context, b'{"n": ' + b"9" * 5000 + b"}")
            assert code == 400
            assert "not JSON" in problem["detail"]
            code, problem = await post(http, url, context, b'{"n": NaN}')
            assert (code, problem["detail"]) == (
                400,
                "the body is not JSON: NaN is not a JSON number",
            )
            for number in (b"99999999999999999999", b"-9223372036854775809", b"1e400"):
                code, problem = await post(http, url, context, b'{"n": [%s]}' % number)
                assert (code, problem["problems"][0]["where"]) == (400, "n[0]")
        code, problem = await post(
            http, f"{channel.url}/enroll", trust, {"token": "t" * 300, "csr": "x"}
        )
        assert code == 400
        assert {p["where"] for p in problem["problems"]} == {"token", "csr"}


@pytest.mark.parametrize(
    "revision", ["9223372036854775807", "2147483648", "-1", "+1", "1_0", "٣", " 1", "9" * 5000]
)
async def test_a_poll_naming_a_revision_out_of_range_is_a_400(
    channel: Channel, revision: str
) -> None:
    async with aiohttp.ClientSession() as http:
        _, tls = await channel.enroll(http, "hq")
        async with http.get(
            f"{channel.url}/desired-state", params={"revision": revision}, ssl=tls
        ) as answer:
            assert answer.status == 400
            problem = await answer.json(content_type=None)
    assert problem["problems"][0]["where"] == "revision"
    assert "2147483647" in problem["detail"]


async def test_the_highest_revision_cannot_be_fast_forwarded(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        _, tls = await channel.enroll(http, "hq")
        url = f"{channel.url}/desired-state"
        async with http.get(url, params={"revision": "2147483647"}, ssl=tls) as answer:
            assert answer.status == 400
            assert "2147483646" in (await answer.json(content_type=None))["problems"][0]["message"]
        async with http.get(url, params={"revision": "2147483646"}, ssl=tls) as answer:
            assert answer.status == 200
            assert (await answer.json())["revision"] == 2147483647


async def test_a_batch_that_fails_to_write_fails_only_its_guilty_item(channel: Channel) -> None:
    """Past the edge's checks, a write that still fails is retried batch by batch, then item by
    item: the other sites' batches and the guilty site's other items are recorded."""
    intake = ReportIntake(channel.runtime.sessions, max_pending=1000, interval=0.2)
    first, _ = channel.new_site("first")
    second, _ = channel.new_site("second")
    at = datetime.now(UTC)

    def item(item_id: str | None = None) -> ReportItem:  # a lone surrogate: not storable
        return ReportItem(item_id or str(uuid.uuid4()), "event", at, {"event": "test"})

    intake.start()
    try:
        async with asyncio.timeout(10):
            innocent, guilty = await asyncio.gather(
                intake.submit(first, [item()]),
                intake.submit(second, [item(), item("\ud800"), item()]),
                return_exceptions=True,
            )
    finally:
        await intake.stop()
    assert innocent == (1, 0)
    assert isinstance(guilty, Exception)
    problems = [(p.where, p.message.split(":")[0]) for p in getattr(guilty, "problems", ())]
    assert problems == [("items[1]", "could not be recorded")]
    assert intake.written_items == 3


@pytest.mark.parametrize(
    ("raw", "refusal"),
    [
        ('{"a": "x\\u0000"}'.encode("utf-16"), "not UTF-8"),
        (b'{"a": ["\\ud800"]}', "a[0]: a string holds an unpaired surrogate (not Unicode text)"),
        (b'{"a": "\\u0000"}', "a: a string holds a NUL character (\\u0000)"),
        (b'{"a": "' + b"x" * 65537 + b'"}', "a: a string of 65537 characters; at most 65536"),
        (json.dumps({"a": "\n" * 70_000}).encode(), "a: a string of 70000 characters"),
        (json.dumps({"a": ("x" * 60_000 + '"') * 2}).encode(), "a: a string of 120002 characters"),
        (b'{"a":' + b'[{"b":' * 16 + b"1" + b"}]" * 16 + b"}", "nests deeper than 32 levels"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "nests deeper than 32 levels"),
        (b'{"a": -9223372036854775809}', "a: -9223372036854775809 is outside the signed 64-bit"),
        (b'{"a": 1E+400}', "a: inf is not a finite number"),
        (b'{"a": Infinity}', "not JSON: Infinity is not a JSON number"),
        (b"[]", "the body must be a JSON object"),
    ],
)
def test_the_reader_names_what_is_out_of_bounds(raw: bytes, refusal: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_object(raw)
    assert refusal in "; ".join([refused.value.detail, *map(str, refused.value.problems)])


def test_the_reader_takes_the_edges_of_the_bounds() -> None:
    edge = b'{"a": [9223372036854775807, -9223372036854775808, 1e308, "\\ud83d\\ude00"]}'
    assert read_object(edge)["a"][3] == "\U0001f600"
    assert read_object(b'{"a":' * 32 + b"1" + b"}" * 32)


async def test_a_store_that_is_away_is_a_temporary_refusal(tmp_path: Path) -> None:
    """Nothing the items did: every batch of the window is told to retry (503), none refused."""
    away = sessionmaker(create_engine(f"sqlite:///{tmp_path}/missing/dir/store.db"))
    intake = ReportIntake(away, max_pending=1000, interval=0.05)
    at = datetime.now(UTC)
    intake.start()
    try:
        async with asyncio.timeout(10):
            answers = await asyncio.gather(
                intake.submit("a", [ReportItem("1", "event", at, {})]),
                intake.submit("b", [ReportItem("2", "event", at, {})]),
                return_exceptions=True,
            )
    finally:
        await intake.stop()
    assert [type(answer) for answer in answers] == [NotRecorded, NotRecorded]
