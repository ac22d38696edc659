"""NSD and VNF package notifications: which filter hears which item, and the notifications each
catalog change queues in its own transaction (onboarding done or failed, enable/disable,
deletion), seen by the right tenants."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from sqlalchemy import select

from edgewise.central.services import catalog, catalog_events, subscriptions
from edgewise.central.services.access import Principal
from edgewise.central.services.catalog import CatalogKind, OnboardingFailed
from edgewise.central.services.catalog_events import NSD, VNF_PACKAGE
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.errors import Invalid
from edgewise.central.services.subscriptions import Api
from edgewise.central.services.views import CatalogItem, NsdDescription
from edgewise.central.store.tables import CatalogItemRow, NotificationRow
from edgewise.lab import samples
from edgewise.tosca import Limits, TypeCache
from tests.central.services.conftest import World

SEALER = Sealer(Sealer.new_key())

NSD_YAML = samples.path("vcpe-nsd.yaml").read_bytes()
ROUTER_DIR = samples.path("edgewise-router-vnf")

TYPES = TypeCache()  # what the central's runtime keeps for its catalog


def router_package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(p for p in ROUTER_DIR.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(ROUTER_DIR).as_posix())
    return buffer.getvalue()


def item(kind: str, *, onboarded: bool = True, **summary: Any) -> CatalogItemRow:
    return CatalogItemRow(
        id=f"{kind}-1",
        kind=kind,
        tenant_id=None,
        onboarding_state="ONBOARDED" if onboarded else "CREATED",
        operational_state="ENABLED" if onboarded else "DISABLED",
        usage_state="NOT_IN_USE",
        summary={"descriptorId": f"{kind}-descriptor", **summary} if onboarded else {},
    )


VCPE = {
    "nsdName": "vCPE",
    "nsdDesigner": "Edgewise",
    "nsdVersion": "1.0",
    "vnfPkgIds": ["p1", "p2"],
}
ROUTER = {"vnfProvider": "Edgewise", "vnfProductName": "router", "vnfSoftwareVersion": "2.1",
          "vnfdVersion": "1.0"}  # fmt: skip


def products(*versions: str, provider: str = "Edgewise", product: str = "router") -> Any:
    return [{"vnfProvider": provider, "vnfProducts": [{"vnfProductName": product, "versions": [
        {"vnfSoftwareVersion": "2.1", "vnfdVersions": list(versions)}]}]}]  # fmt: skip


@pytest.mark.parametrize(
    ("filter_", "notification_type", "onboarded", "heard"),
    [
        ({}, catalog_events.NSD_ONBOARDING, True, True),
        ({"notificationTypes": ["NsdOnBoardingNotification"]}, catalog_events.NSD_ONBOARDING,
         True, True),
        ({"notificationTypes": ["NsdChangeNotification"]}, catalog_events.NSD_ONBOARDING,
         True, False),
        ({"nsdId": ["nsd-descriptor"]}, catalog_events.NSD_CHANGE, True, True),
        ({"nsdId": ["other"]}, catalog_events.NSD_CHANGE, True, False),
        ({"nsdName": ["vCPE"], "nsdDesigner": ["Edgewise"]}, catalog_events.NSD_CHANGE, True, True),
        ({"nsdInvariantId": ["nsd-descriptor"]}, catalog_events.NSD_CHANGE, True, True),
        ({"vnfPkgIds": ["p2", "p9"]}, catalog_events.NSD_CHANGE, True, True),
        ({"nsdOperationalState": ["DISABLED"]}, catalog_events.NSD_CHANGE, True, False),
        ({"nsdUsageState": ["NOT_IN_USE"]}, catalog_events.NSD_CHANGE, True, True),
        ({"nsdInfoId": ["nsd-1"]}, catalog_events.NSD_ONBOARDING_FAILURE, False, True),
        ({"nsdId": ["nsd-descriptor"]}, catalog_events.NSD_ONBOARDING_FAILURE, False, False),
        ({"nsdOnboardingState": ["CREATED"]}, catalog_events.NSD_ONBOARDING_FAILURE, False, True),
    ],
)  # fmt: skip
def test_which_nsd_filters_hear_an_nsd(
    filter_: dict[str, Any], notification_type: str, onboarded: bool, heard: bool
) -> None:
    assert NSD.check_filter(filter_) == filter_
    assert (
        NSD.matches(filter_, notification_type, item("nsd", onboarded=onboarded, **VCPE)) is heard
    )


@pytest.mark.parametrize(
    ("filter_", "onboarded", "heard"),
    [
        ({}, True, True),
        ({"vnfProductsFromProviders": [{"vnfProvider": "Edgewise"}]}, True, True),
        ({"vnfProductsFromProviders": [{"vnfProvider": "Other"}]}, True, False),
        ({"vnfProductsFromProviders": products("1.0")}, True, True),
        ({"vnfProductsFromProviders": products()}, True, True),
        ({"vnfProductsFromProviders": products("9.9")}, True, False),
        ({"vnfProductsFromProviders": products("1.0", product="firewall")}, True, False),
        ({"vnfProductsFromProviders": products("1.0")}, False, False),
        ({"vnfdId": ["vnfpkg-descriptor"]}, True, True),
        ({"vnfdId": ["vnfpkg-descriptor"]}, False, False),
        ({"vnfPkgId": ["vnfpkg-1"], "usageState": ["NOT_IN_USE"]}, False, True),
        ({"operationalState": ["ENABLED"]}, False, False),
    ],
)
def test_which_package_filters_hear_a_package(
    filter_: dict[str, Any], onboarded: bool, heard: bool
) -> None:
    assert VNF_PACKAGE.check_filter(filter_) == filter_
    package = item("vnfpkg", onboarded=onboarded, **ROUTER)
    assert VNF_PACKAGE.matches(filter_, catalog_events.PACKAGE_CHANGE, package) is heard


class Outbox:
    """The notifications queued since the last look, by subscription."""

    def __init__(self, world: World) -> None:
        self.session = world.session
        self.seen: set[str] = set()

    def new(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.session.scalars(
            select(NotificationRow).where(NotificationRow.id.not_in(self.seen))
        )
        fresh = [(row.subscription_id, row.body) for row in rows]
        self.seen |= {body["id"] for _, body in fresh}
        return sorted(fresh, key=lambda pair: (pair[0], pair[1]["notificationType"]))


def subscribe(world: World, api: Api, principal: Principal, **filter_: Any) -> str:
    checked = (NSD if api is Api.NSD else VNF_PACKAGE).check_filter(filter_)
    row, _ = subscriptions.create(
        world.session, principal, api, callback_uri=f"http://cb/{api}/{principal.user_name}",
        filter_=checked, authentication=None, sealer=SEALER,
    )  # fmt: skip
    return row.id


def onboard(world: World, kind: CatalogKind, data: bytes, principal: Principal) -> CatalogItem:
    item = catalog.create_item(world.session, principal, kind, {})
    return catalog.upload_content(
        world.session, principal, kind, item.id, data,
        media_type="application/zip" if kind is CatalogKind.VNF_PACKAGE else "text/plain",
        limits=Limits(), types=TYPES,
    )  # fmt: skip


def test_each_catalog_change_notifies_the_subscribers_who_see_it(world: World) -> None:
    session, admin = world.session, world.admin
    outbox = Outbox(world)
    nsd_sub = subscribe(world, Api.NSD, admin)
    pkg_sub = subscribe(world, Api.VNFPKGM, admin)
    only_deletions = subscribe(world, Api.NSD, world.acme, notificationTypes=[
        catalog_events.NSD_DELETION])  # fmt: skip

    package = onboard(world, CatalogKind.VNF_PACKAGE, router_package(), admin)
    ((sub, body),) = outbox.new()
    assert sub == pkg_sub
    assert body["notificationType"] == "VnfPackageOnboardingNotification"
    assert (body["vnfPkgId"], body["vnfdId"]) == (package.id, "edgewise-router")
    assert body["_links"] == {
        "vnfPackage": {"href": f"/vnfpkgm/v1/vnf_packages/{package.id}"},
        "subscription": {"href": f"/vnfpkgm/v1/subscriptions/{pkg_sub}"},
    }
    assert body["subscriptionId"] == pkg_sub
    assert body["timeStamp"].endswith("Z")

    nsd = onboard(world, CatalogKind.NSD, NSD_YAML, admin)
    assert isinstance(nsd.descriptor, NsdDescription)
    nsd_id = nsd.descriptor.nsd_id
    ((sub, body),) = outbox.new()  # acme hears of the shared NSD's deletion only
    assert (sub, body["notificationType"]) == (nsd_sub, "NsdOnboardingNotification")
    assert (body["nsdInfoId"], body["nsdId"]) == (nsd.id, nsd_id)
    assert body["_links"]["nsdInfo"] == {"href": f"/nsd/v1/ns_descriptors/{nsd.id}"}

    catalog.modify_item(session, admin, CatalogKind.NSD, nsd.id, operational_state="DISABLED",
                        user_defined_data=None)  # fmt: skip
    ((sub, body),) = outbox.new()
    assert (body["notificationType"], body["nsdOperationalState"]) == (
        "NsdChangeNotification", "DISABLED",
    )  # fmt: skip
    catalog.modify_item(session, admin, CatalogKind.NSD, nsd.id, operational_state=None,
                        user_defined_data={"team": "noc"})  # fmt: skip
    assert outbox.new() == []  # user data is no operational state change

    catalog.delete_item(session, admin, CatalogKind.NSD, nsd.id)
    deleted = outbox.new()
    assert sorted(sub for sub, _ in deleted) == sorted([nsd_sub, only_deletions])
    assert {body["notificationType"] for _, body in deleted} == {"NsdDeletionNotification"}
    assert {body["nsdId"] for _, body in deleted} == {nsd_id}

    catalog.modify_item(session, admin, CatalogKind.VNF_PACKAGE, package.id,
                        operational_state="DISABLED", user_defined_data=None)  # fmt: skip
    ((_, body),) = outbox.new()
    assert (body["changeType"], body["operationalState"]) == ("OP_STATE_CHANGE", "DISABLED")
    catalog.delete_item(session, admin, CatalogKind.VNF_PACKAGE, package.id)
    ((_, body),) = outbox.new()
    assert (body["notificationType"], body["changeType"]) == (
        "VnfPackageChangeNotification", "PKG_DELETE",
    )  # fmt: skip
    assert "operationalState" not in body


def test_a_failed_onboarding_is_recorded_and_notified_and_a_never_onboarded_delete_is_not(
    world: World,
) -> None:
    session, acme = world.session, world.acme
    outbox = Outbox(world)
    subscribe(world, Api.NSD, acme)
    subscribe(world, Api.VNFPKGM, acme)
    subscribe(world, Api.NSD, world.globex)
    created = catalog.create_item(session, acme, CatalogKind.NSD, {})
    with pytest.raises(OnboardingFailed) as failed:
        catalog.upload_content(session, acme, CatalogKind.NSD, created.id, b"not: [valid",
                               media_type="text/plain", limits=Limits(),
                               types=TYPES)  # fmt: skip
    assert isinstance(failed.value.cause, Invalid)
    nsd = catalog.read_item(session, acme, CatalogKind.NSD, created.id)
    assert (nsd.onboarding_state, nsd.failure is not None) == ("CREATED", True)
    assert nsd.failure is not None
    assert (nsd.failure["status"], nsd.failure["detail"]) == (400, failed.value.cause.detail)
    ((_, body),) = outbox.new()  # acme's subscription only: globex does not see acme's NSD
    assert body["notificationType"] == "NsdOnboardingFailureNotification"
    assert body["onboardingFailureDetails"] == nsd.failure
    assert "nsdId" not in body

    package = catalog.create_item(session, acme, CatalogKind.VNF_PACKAGE, {})
    with pytest.raises(OnboardingFailed):
        catalog.upload_content(session, acme, CatalogKind.VNF_PACKAGE, package.id, b"PK\x03\x04",
                               media_type="application/zip", limits=Limits(),
                               types=TYPES)  # fmt: skip
    assert outbox.new() == []  # SOL005 has no package onboarding failure notification

    catalog.delete_item(session, acme, CatalogKind.NSD, nsd.id)
    catalog.delete_item(session, acme, CatalogKind.VNF_PACKAGE, package.id)
    assert outbox.new() == []


def test_notifications_belong_to_the_transaction_of_their_change(world: World) -> None:
    session = world.session
    subscribe(world, Api.VNFPKGM, world.admin)
    session.commit()
    onboard(world, CatalogKind.VNF_PACKAGE, router_package(), world.admin)
    assert session.scalar(select(NotificationRow.id)) is not None
    session.rollback()
    assert session.scalar(select(NotificationRow.id)) is None
