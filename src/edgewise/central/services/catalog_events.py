"""What the catalog tells its subscribers (SOL005 NSD management and VNF package management):
the notifications an NSD or a VNF package causes, what their filters may say, and who hears.

`services.catalog` calls `onboarded`, `onboarding_failed`, `state_changed` and `deleted` of the
item's API in the transaction of the change. Each queues one notification per subscription of
that API that sees the item (the provider's, the owning tenant's; for an item of the shared
catalog, every tenant's) and whose filter matches the item as it is then. SOL005 v2.6.1 reports
changes of the operational state only (not of the usage state), and a deletion names the
descriptor, so the deletion of an item that was never onboarded is not notified. Edgewise has no
PNF descriptors: filters on PNFDs or their notifications are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from edgewise.central.services import outbox, subscriptions
from edgewise.central.services.subscriptions import Api, Rule, array_of, record, strings, text
from edgewise.central.services.views import NsdDescription, VnfdDescription
from edgewise.central.store.tables import CatalogItemRow

NSD_ONBOARDING: Final = "NsdOnboardingNotification"
NSD_ONBOARDING_FAILURE: Final = "NsdOnboardingFailureNotification"
NSD_CHANGE: Final = "NsdChangeNotification"
NSD_DELETION: Final = "NsdDeletionNotification"
PACKAGE_ONBOARDING: Final = "VnfPackageOnboardingNotification"
PACKAGE_CHANGE: Final = "VnfPackageChangeNotification"
ONBOARDED: Final = "ONBOARDED"

OPERATIONAL_STATES: Final = ("ENABLED", "DISABLED")
USAGE_STATES: Final = ("IN_USE", "NOT_IN_USE")
NSD_DESCRIPTOR_KEYS: Final = (
    "nsdId", "nsdName", "nsdVersion", "nsdDesigner", "nsdInvariantId", "vnfPkgIds",
)  # fmt: skip
NO_PNFD: Final = "Edgewise has no PNF descriptors (no PNFD model): no notification would match"


def nsd_attributes(row: CatalogItemRow) -> dict[str, Any]:
    """An onboarded NSD's descriptor fields as NsdInfo names them (none before onboarding)."""
    if row.onboarding_state != ONBOARDED:
        return {}
    return NsdDescription.of(row.summary).attributes()


def package_attributes(row: CatalogItemRow) -> dict[str, Any]:
    """An onboarded VNF package's VNFD fields as VnfPkgInfo names them (none before)."""
    if row.onboarding_state != ONBOARDED:
        return {}
    return VnfdDescription.of(row.summary).attributes()


@dataclass(frozen=True)
class CatalogNotifications:
    """How one catalog API spells its notifications, their bodies and their filter."""

    api: Api
    item_key: str  # the item's id in a notification: nsdInfoId, vnfPkgId
    descriptor_key: str  # nsdId, vnfdId
    link: str  # the item's link in a notification: nsdInfo, vnfPackage
    collection: str  # the item's resources: /nsd/v1/ns_descriptors
    filter_rule: Rule
    facts: Callable[[CatalogItemRow], Mapping[str, Any]]  # what the filter looks at
    onboarded_type: str
    failed_type: str | None  # None: this API does not notify failed onboardings
    changed_type: str
    changed_state_key: str  # where a change notification puts the new operational state
    deleted_type: str
    changed_extra: Mapping[str, str] = field(default_factory=dict)
    deleted_extra: Mapping[str, str] = field(default_factory=dict)
    type_aliases: Mapping[str, str] = field(default_factory=dict)  # filter spelling -> type
    matches_more: Callable[[Mapping[str, Any], CatalogItemRow], bool] = lambda _f, _r: True

    def check_filter(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """The filter if Edgewise can apply it, else Invalid (Unprocessable) naming each part."""
        return subscriptions.check_filter(value, self.filter_rule)

    def matches(
        self, filter_: Mapping[str, Any], notification_type: str, row: CatalogItemRow
    ) -> bool:
        """SOL005 filter semantics: every attribute given must match the item; in a list, any
        value; an attribute the item does not have yet (nsdId before onboarding) matches none."""
        types = filter_.get("notificationTypes")
        if types and notification_type not in {self.type_aliases.get(t, t) for t in types}:
            return False
        facts = self.facts(row)
        return all(subscriptions.wanted(filter_, key, value) for key, value in facts.items()) and (
            self.matches_more(filter_, row)
        )

    def onboarded(self, session: Session, row: CatalogItemRow) -> int:
        return self._emit(session, row, self.onboarded_type, {})

    def onboarding_failed(self, session: Session, row: CatalogItemRow) -> int:
        if self.failed_type is None:
            return 0
        return self._emit(
            session, row, self.failed_type, {"onboardingFailureDetails": row.failure or {}}
        )

    def state_changed(self, session: Session, row: CatalogItemRow) -> int:
        """The operational state changed (enabled or disabled)."""
        extra = {**self.changed_extra, self.changed_state_key: row.operational_state}
        return self._emit(session, row, self.changed_type, extra)

    def deleted(self, session: Session, row: CatalogItemRow) -> int:
        """Call before the row is deleted."""
        if row.onboarding_state != ONBOARDED:
            return 0
        return self._emit(session, row, self.deleted_type, dict(self.deleted_extra))

    def _emit(
        self, session: Session, row: CatalogItemRow, notification_type: str, extra: dict[str, Any]
    ) -> int:
        body: dict[str, Any] = {self.item_key: row.id}
        descriptor_id = self.facts(row).get(self.descriptor_key)
        if descriptor_id is not None:
            body[self.descriptor_key] = descriptor_id
        body |= extra | {"_links": {self.link: {"href": f"{self.collection}/{row.id}"}}}
        seeing = subscriptions.audience(session, self.api, row.tenant_id, shared_rows=True)
        hearing = [s for s in seeing if self.matches(s.filter, notification_type, row)]
        return outbox.queue(session, hearing, notification_type, body)


def _nsd_facts(row: CatalogItemRow) -> dict[str, Any]:
    known = nsd_attributes(row)
    return {
        "nsdInfoId": row.id,
        **{key: known.get(key) for key in NSD_DESCRIPTOR_KEYS},
        "nsdOnboardingState": row.onboarding_state,
        "nsdOperationalState": row.operational_state,
        "nsdUsageState": row.usage_state,
    }


def _package_facts(row: CatalogItemRow) -> dict[str, Any]:
    return {
        "vnfPkgId": row.id,
        "vnfdId": package_attributes(row).get("vnfdId"),
        "operationalState": row.operational_state,
        "usageState": row.usage_state,
    }


def _made_by(filter_: Mapping[str, Any], row: CatalogItemRow) -> bool:
    """PkgmNotificationsFilter.vnfProductsFromProviders: the package's provider, and (when named)
    its product, software version and VNFD version, are among those listed."""
    providers = filter_.get("vnfProductsFromProviders")
    if not providers:
        return True
    made = package_attributes(row)
    if not made:
        return False

    def version_fits(version: Mapping[str, Any]) -> bool:
        return version["vnfSoftwareVersion"] == made["vnfSoftwareVersion"] and (
            not version.get("vnfdVersions") or made["vnfdVersion"] in version["vnfdVersions"]
        )

    def product_fits(product: Mapping[str, Any]) -> bool:
        return product["vnfProductName"] == made["vnfProductName"] and (
            not product.get("versions") or any(map(version_fits, product["versions"]))
        )

    return any(
        provider["vnfProvider"] == made["vnfProvider"]
        and (not provider.get("vnfProducts") or any(map(product_fits, provider["vnfProducts"])))
        for provider in providers
    )


NSD_TYPES: Final = (NSD_ONBOARDING, NSD_ONBOARDING_FAILURE, NSD_CHANGE, NSD_DELETION)
PNFD_TYPES: Final = (
    "PnfdOnBoardingNotification", "PnfdOnBoardingFailureNotification", "PnfdDeletionNotification",
    "PnfdOnboardingNotification", "PnfdOnboardingFailureNotification",
)  # fmt: skip
PNFD_KEYS: Final = (
    "pnfdInfoIds", "pnfdId", "pnfdName", "pnfdVersion", "pnfdProvider", "pnfdInvariantId",
    "pnfdOnboardingState", "pnfdUsageState",
)  # fmt: skip
# SOL005 v2.6.1 lists "NsdOnBoardingNotification" among a filter's values, the notification
# itself says "NsdOnboardingNotification": both spellings are taken.
NSD_ALIASES: Final = {"NsdOnBoardingNotification": NSD_ONBOARDING}

NSD = CatalogNotifications(
    api=Api.NSD,
    item_key="nsdInfoId",
    descriptor_key="nsdId",
    link="nsdInfo",
    collection="/nsd/v1/ns_descriptors",
    filter_rule=record(
        {
            "notificationTypes": strings(
                NSD_TYPES + tuple(NSD_ALIASES),
                refused=dict.fromkeys(PNFD_TYPES, f"a PNFD notification: {NO_PNFD}"),
            ),
            **dict.fromkeys(("nsdInfoId", *NSD_DESCRIPTOR_KEYS), strings()),
            "nsdOnboardingState": strings(("CREATED", "UPLOADING", "PROCESSING", ONBOARDED)),
            "nsdOperationalState": strings(OPERATIONAL_STATES),
            "nsdUsageState": strings(USAGE_STATES),
        },
        alternatives=("nsdId", "nsdInfoId"),
        refused=dict.fromkeys(PNFD_KEYS, NO_PNFD)
        | {"nestedNsdInfoIds": "Edgewise NSDs nest no other NSD: no notification would match"},
    ),
    facts=_nsd_facts,
    onboarded_type=NSD_ONBOARDING,
    failed_type=NSD_ONBOARDING_FAILURE,
    changed_type=NSD_CHANGE,
    changed_state_key="nsdOperationalState",
    deleted_type=NSD_DELETION,
    type_aliases=NSD_ALIASES,
)

_VERSION = record(
    {"vnfSoftwareVersion": text, "vnfdVersions": strings()}, required=("vnfSoftwareVersion",)
)
_PRODUCT = record(
    {"vnfProductName": text, "versions": array_of(_VERSION)}, required=("vnfProductName",)
)
_PROVIDER = record(
    {"vnfProvider": text, "vnfProducts": array_of(_PRODUCT)}, required=("vnfProvider",)
)
VNF_PACKAGE = CatalogNotifications(
    api=Api.VNFPKGM,
    item_key="vnfPkgId",
    descriptor_key="vnfdId",
    link="vnfPackage",
    collection="/vnfpkgm/v1/vnf_packages",
    filter_rule=record(
        {
            "notificationTypes": strings((PACKAGE_ONBOARDING, PACKAGE_CHANGE)),
            "vnfProductsFromProviders": array_of(_PROVIDER),
            "vnfdId": strings(),
            "vnfPkgId": strings(),
            "operationalState": strings(OPERATIONAL_STATES),
            "usageState": strings(USAGE_STATES),
        },
        alternatives=("vnfProductsFromProviders", "vnfdId", "vnfPkgId"),
    ),
    facts=_package_facts,
    onboarded_type=PACKAGE_ONBOARDING,
    failed_type=None,
    changed_type=PACKAGE_CHANGE,
    changed_state_key="operationalState",
    deleted_type=PACKAGE_CHANGE,
    changed_extra={"changeType": "OP_STATE_CHANGE"},
    deleted_extra={"changeType": "PKG_DELETE"},
    matches_more=_made_by,
)
