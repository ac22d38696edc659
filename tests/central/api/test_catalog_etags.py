"""NSD and VNF package resources carry an ETag (SOL005 NsdInfo, VnfPkgInfo) and honour
If-Match on PATCH and DELETE: a stale one is 412, checked before the resource's state (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from edgewise.lab import samples
from tests.central.api.conftest import Central
from tests.central.api.test_catalog import NSD_YAML, NSDS, PKGS, zip_dir


class Catalog(NamedTuple):
    collection: str
    content: str
    data: Callable[[], bytes]
    media_type: str
    state: str  # the operational state's attribute


CATALOGS = [
    Catalog(NSDS, "nsd_content", lambda: NSD_YAML, "text/plain", "nsdOperationalState"),
    Catalog(
        PKGS, "package_content", lambda: zip_dir(samples.path("edgewise-router-vnf")),
        "application/zip", "operationalState",
    ),
]  # fmt: skip


def onboarded(central: Central, catalog: Catalog) -> str:
    admin = central.admin.headers
    created = central.client.post(catalog.collection, json={}, headers=admin)
    assert created.status_code == 201, created.text
    item: str = created.json()["id"]
    uploaded = central.client.put(
        f"{catalog.collection}/{item}/{catalog.content}",
        content=catalog.data(),
        headers=admin | {"Content-Type": catalog.media_type},
    )
    assert uploaded.status_code == 204, uploaded.text
    return item


def etag_of(central: Central, url: str) -> str:
    answer = central.client.get(url, headers=central.admin.headers)
    assert answer.status_code == 200, answer.text
    names = [name for name, _ in answer.headers.raw]
    assert b"ETag" in names, names  # as SOL005 spells it: ETSI's suite reads it so
    etag = answer.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    return etag


@pytest.mark.parametrize("catalog", CATALOGS, ids=["nsd", "vnf-package"])
def test_a_stale_if_match_is_412_before_the_state_is_checked(
    central: Central, catalog: Catalog
) -> None:
    admin = central.admin.headers
    url = f"{catalog.collection}/{onboarded(central, catalog)}"
    etag = etag_of(central, url)
    assert etag_of(central, url) == etag  # the same state, the same tag

    stale = admin | {"If-Match": '"not-the-current-one"'}
    for method, body in (("PATCH", {catalog.state: "ENABLED"}), ("DELETE", None)):
        # ENABLED already: without If-Match both would be 409
        answer = central.client.request(method, url, json=body, headers=stale)
        assert answer.status_code == 412, answer.text
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert "If-Match" in answer.json()["detail"]
        assert etag in answer.json()["detail"]
    current = admin | {"If-Match": etag}
    assert (
        central.client.patch(url, json={catalog.state: "ENABLED"}, headers=current).status_code
        == 409
    )

    disabled = central.client.patch(
        url, json={catalog.state: "DISABLED"}, headers=admin | {"If-Match": etag}
    )
    assert disabled.status_code == 200, disabled.text
    changed = disabled.headers["ETag"]
    assert changed != etag
    assert changed == etag_of(central, url)
    refused = central.client.delete(url, headers=admin | {"If-Match": etag})
    assert refused.status_code == 412, refused.text
    deleted = central.client.delete(url, headers=admin | {"If-Match": f'"other", {changed}'})
    assert deleted.status_code == 204, deleted.text


@pytest.mark.parametrize("catalog", CATALOGS, ids=["nsd", "vnf-package"])
def test_if_match_star_or_none_changes_nothing_about_the_answer(
    central: Central, catalog: Catalog
) -> None:
    admin = central.admin.headers
    url = f"{catalog.collection}/{onboarded(central, catalog)}"
    answer = central.client.patch(
        url, json={catalog.state: "DISABLED"}, headers=admin | {"If-Match": "*"}
    )
    assert answer.status_code == 200, answer.text
    assert central.client.delete(url, headers=admin).status_code == 204
    missing = central.client.delete(url, headers=admin | {"If-Match": '"x"'})
    assert missing.status_code == 404, missing.text
