"""The application catalogue: stable ids within the mark's 8 bits, valid names, custom
applications by host pattern with ids that do not move."""

from __future__ import annotations

import re

import pytest

from edgewise.model.applications import (
    CATALOGUE,
    CATALOGUE_IDS,
    CUSTOM_IDS,
    MAX_CUSTOM,
    Applications,
    CatalogueError,
    Category,
    custom_applications,
    home_id,
)
from edgewise.model.names import NAME

# Ids are the data plane's contract: these must never change (append only).
PINNED = {"dns": 1, "http": 2, "tls": 3, "ssh": 4, "sip": 5, "rtp": 6, "quic": 7,
          "youtube": 14, "zoom": 15, "teams": 16, "office365": 17, "salesforce": 18}  # fmt: skip


def test_catalogue_ids_are_pinned_unique_and_in_their_range() -> None:
    ids = [a.app_id for a in CATALOGUE]
    assert len(set(ids)) == len(ids)
    assert all(i in CATALOGUE_IDS for i in ids)
    by_name = {a.name: a.app_id for a in CATALOGUE}
    assert {n: by_name[n] for n in PINNED} == PINNED


def test_catalogue_names_follow_the_document_name_syntax_and_are_unique() -> None:
    names = [a.name for a in CATALOGUE]
    assert len(set(names)) == len(names)
    assert NAME.pattern is not None
    pattern = re.compile(NAME.pattern)
    assert all(pattern.fullmatch(n) for n in names)


def test_an_ndpi_protocol_means_one_application_only() -> None:
    ndpi = [n for a in CATALOGUE for n in a.ndpi_names]
    assert len(set(ndpi)) == len(ndpi)
    assert all(a.ndpi_names and a.description for a in CATALOGUE)


def test_the_brief_s_applications_are_in_the_catalogue() -> None:
    apps = Applications.build()
    brief = "dns http tls ssh sip rtp quic ntp smtp imap bittorrent netflix youtube zoom teams"
    for name in [*brief.split(), "office365", "salesforce"]:
        assert apps.by_name(name) is not None, name
    assert apps.by_name("sip").category is Category.VOICE  # type: ignore[union-attr]
    assert apps.ndpi_index()["YouTube"].name == "youtube"


def test_custom_applications_get_hashed_ids_that_stay_when_others_change() -> None:
    one = Applications.build({"corp": ["*.corp.example"]}).by_name("corp")
    assert one is not None
    assert one.app_id == home_id("corp")
    assert one.app_id in CUSTOM_IDS
    assert one.hosts == ("*.corp.example",)
    assert one.category is Category.CUSTOM
    more = Applications.build({"corp": ["*.corp.example"], "erp": ["erp.example.net"]})
    assert more.by_name("corp") == one
    assert one.ndpi_names == ("EW_corp",)


def test_custom_ids_that_collide_take_the_next_free_one_in_name_order() -> None:
    names = {f"app{i}": ["x.example"] for i in range(MAX_CUSTOM)}
    apps = custom_applications(names)
    ids = [a.app_id for a in apps]
    assert len(set(ids)) == MAX_CUSTOM
    assert all(i in CUSTOM_IDS for i in ids)
    assert custom_applications(dict(reversed(names.items()))) == apps  # order given is moot


@pytest.mark.parametrize(
    ("custom", "says"),
    [
        ({"bad name": ["a.example"]}, "not a name"),
        ({"dns": ["a.example"]}, "catalogue already names it"),
        ({"corp": []}, "give 1 to 64 host patterns"),
        ({"corp": ["a..example"]}, "host pattern 'a..example'"),
        ({"corp": ["*"]}, "host pattern '*'"),
        ({"corp": ['a.example"@x']}, "is not a domain name"),
        ({f"a{i}": ["a.example"] for i in range(MAX_CUSTOM + 1)}, "at most 64"),
    ],
)
def test_custom_applications_that_cannot_be_are_refused_saying_why(
    custom: dict[str, list[str]], says: str
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(says)):
        Applications.build(custom)
