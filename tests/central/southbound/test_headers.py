"""The channel's answers carry only the headers a site reads: an idle site pays for every byte."""

from __future__ import annotations

import aiohttp
import pytest

from edgewise.central.orchestrator import documents
from tests.central.southbound.conftest import Channel

pytestmark = pytest.mark.anyio


async def test_no_change_and_json_answers_carry_no_server_or_date(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        site_id, context = await channel.enroll(http, "quiet")
        url = f"{channel.url}/desired-state"
        async with http.get(url, params={"revision": "0"}, ssl=context) as held:
            assert held.status == 204
            empty_headers = dict(held.headers)
        with channel.runtime.sessions.begin() as session:
            documents.write_revision(session, site_id, {"services": []})
        async with http.get(url, params={"revision": "0"}, ssl=context) as changed:
            assert changed.status == 200
            assert (await changed.json())["revision"] == 1
            json_headers = dict(changed.headers)
    assert set(empty_headers) <= {"Content-Length"}  # a 204 is its status line and nothing else
    assert json_headers["Content-Type"] == "application/json"
    assert "Server" not in json_headers
    assert "Date" not in json_headers


async def test_a_problem_keeps_its_media_type_without_a_charset(channel: Channel) -> None:
    async with aiohttp.ClientSession() as http:
        _, context = await channel.enroll(http, "asks-badly")
        url = f"{channel.url}/desired-state"
        async with http.get(url, params={"revision": "x"}, ssl=context) as refused:
            assert refused.status == 400
            assert refused.headers["Content-Type"] == "application/problem+json"
            assert "Server" not in refused.headers
            assert (await refused.json())["status"] == 400
