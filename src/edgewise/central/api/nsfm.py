"""SOL005 NS fault management (`nsfm/v1`): the alarms a caller sees (list with SOL013 filters,
read, acknowledge) and the shared SOL005 subscriptions (api.subscriptions) bound to this API.

Alarms are raised and cleared by the central's alarm engine; `services.alarm_queries` reads and
acknowledges them, scoped to the caller's tenant; the Alarm document is
`services.alarm_queries_view.alarm_document`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from edgewise.central.api.deps import CallerDep, PageDep, SessionDep
from edgewise.central.api.etags import IfMatch, etag, require_match
from edgewise.central.api.listing import page_response, sol013_listing
from edgewise.central.api.sol013 import RESERVED, select_fields
from edgewise.central.api.subscriptions import (
    SubscriptionRequest,
    SubscriptionResource,
    subscription_router,
)
from edgewise.central.services import alarm_queries, fault_notifications
from edgewise.central.services.alarm_queries_view import alarm_document
from edgewise.central.services.errors import InputProblem, Invalid
from edgewise.central.services.paging import decode_marker, encode_marker
from edgewise.central.services.subscriptions import Api

router = APIRouter(prefix="/nsfm/v1", tags=["SOL005 NS fault management"])
AlarmId = Annotated[str, Path(alias="alarmId")]

ALARM_FIELDS: Final = {
    "id", "managedObjectId", "rootCauseFaultyComponent", "rootCauseFaultyResource",
    "alarmRaisedTime", "alarmChangedTime", "alarmClearedTime", "alarmAcknowledgedTime",
    "ackState", "perceivedSeverity", "eventTime", "eventType", "faultType", "probableCause",
    "isRootCause", "correlatedAlarmIds", "faultDetails", "_links",
    "managedObjectType", "component", "kind", "siteId", "tenantId", "active",
}  # fmt: skip
# attributes whose members SOL005 names with a dot (rootCauseFaultyComponent.faultyVnfInstanceId)
NESTED: Final = frozenset({"rootCauseFaultyComponent", "rootCauseFaultyResource", "_links"})
NOT_FILTERS: Final = (RESERVED - {"filter"}) | {"active"}  # what a store-read page may be asked


class AlarmModifications(BaseModel):
    """SOL005 AlarmModifications: the one change an alarm takes (JSON merge patch)."""

    model_config = ConfigDict(extra="forbid")
    ackState: Literal["ACKNOWLEDGED"] | None = Field(
        default=None,
        description="ACKNOWLEDGED, the one value SOL005 v2.6.1 allows (required: optional here "
        "only so that another tenant's alarm is a 404 whatever the body)",
    )


@router.get("/alarms", operation_id="listAlarms")
def list_alarms(
    request: Request, session: SessionDep, caller: CallerDep, page: PageDep
) -> JSONResponse:
    """The alarms the caller sees, active and cleared (filter `active=true` for the active
    ones), with SOL013 filters and attribute selectors."""
    base, params = str(request.base_url), request.query_params
    asked = params.getlist("active")  # read from the store alone (the history)
    active = {"true": True, "false": False}.get(asked[0]) if len(asked) == 1 else None
    after = decode_marker(page.marker, (str,))[0] if page.marker else None
    if set(params) <= NOT_FILTERS and (active is not None or not asked):
        # no SOL013 filter (`active` is read in the store): the page is read in the store
        found = alarm_queries.list_alarms(session, caller, active=active, after=after,
                                          limit=page.limit + 1)  # fmt: skip
        chunk = [alarm_document(a, base) for a in found[: page.limit]]
        more = len(found) > page.limit
        chunk = select_fields(chunk, params, default_excluded=(), known=ALARM_FIELDS)
        return page_response(request, chunk, encode_marker([found[page.limit - 1].id]) if more
                             else None)  # fmt: skip
    found = alarm_queries.list_alarms(session, caller, active=active, after=after)
    documents = [alarm_document(a, base) for a in found]
    return sol013_listing(request, documents, page, ALARM_FIELDS, nested=NESTED)


@router.get("/alarms/{alarmId}", operation_id="readAlarm", response_model=dict[str, Any])
def read_alarm(
    alarm_id: AlarmId, request: Request, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    document = alarm_document(
        alarm_queries.read_alarm(session, caller, alarm_id), str(request.base_url)
    )
    return JSONResponse(document, headers={"ETag": etag(document)})


@router.patch(
    "/alarms/{alarmId}",
    operation_id="modifyAlarm",
    response_model=dict[str, Any],
    openapi_extra={"requestBody": {"content": {"application/merge-patch+json": {}}}},
)
def modify_alarm(
    alarm_id: AlarmId,
    body: AlarmModifications,
    session: SessionDep,
    caller: CallerDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Acknowledges the alarm: 409 when it already is, 412 when If-Match names another state."""
    current = etag(alarm_document(alarm_queries.read_alarm(session, caller, alarm_id), ""))
    if body.ackState is None:
        raise Invalid("nothing to change", [InputProblem("ackState", "missing: send ACKNOWLEDGED")])
    require_match(if_match, current, "alarm")
    changed = alarm_queries.acknowledge(session, caller, alarm_id)
    return JSONResponse(body.model_dump(), headers={"ETag": etag(alarm_document(changed, ""))})


class FmSubscriptionRequest(SubscriptionRequest):
    """SOL005 FmSubscriptionRequest (filter: FmNotificationsFilter)."""


router.include_router(
    subscription_router(
        SubscriptionResource(
            api=Api.NSFM,
            name="FmSubscription",
            request=FmSubscriptionRequest,
            check_filter=fault_notifications.validate_filter,
        )
    )
)
