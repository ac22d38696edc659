"""SOL005 subscription resources (`{api}/v1/subscriptions`): the routes of one API's subscriptions.

NSD management (NsdmSubscription) and VNF package management (PkgmSubscription) mount them;
`services.subscriptions` keeps them and each API's own module checks its filters. A subscription
is stored once its callback answered SOL005's endpoint test (GET, 204; `services.outbound`, so
only public addresses unless the operator allows a network); the same callback and filter again
answer 303 See Other to the existing one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from edgewise.central.api.deps import CallerDep, PageDep, RuntimeDep, SessionDep, SettingsDep
from edgewise.central.api.limits import write_slot
from edgewise.central.api.listing import sol013_listing
from edgewise.central.config import CentralSettings
from edgewise.central.services import outbound, subscriptions
from edgewise.central.services.access import Principal
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.egress import EgressPolicy
from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable
from edgewise.central.services.subscriptions import Api
from edgewise.central.services.views import Subscription

CALLBACK_TEST_BYTES = 64 * 1024  # what a callback may answer its endpoint test with
FIELDS = {"id", "callbackUri", "filter", "_links"}
NESTED = frozenset({"filter", "_links"})  # filter.notificationTypes=... (SOL005's dotted names)
SubscriptionId = Annotated[str, Path(alias="subscriptionId")]


class SubscriptionRequest(BaseModel):
    """A SOL005 subscription request: where to send, which notifications, how to authenticate."""

    model_config = ConfigDict(extra="forbid")
    callbackUri: str = Field(min_length=1, max_length=2048)
    filter: dict[str, Any] = Field(default_factory=dict)
    authentication: dict[str, Any] | None = Field(
        default=None, description="SubscriptionAuthentication: Edgewise sends BASIC credentials"
    )
    tenantId: str | None = Field(
        default=None,
        description="Edgewise: the owning tenant (admins only; none = the provider's, which "
        "hears of every tenant's items)",
    )


class NsdmSubscriptionRequest(SubscriptionRequest):
    """SOL005 NsdmSubscriptionRequest (filter: NsdmNotificationsFilter)."""


class PkgmSubscriptionRequest(SubscriptionRequest):
    """SOL005 PkgmSubscriptionRequest (filter: PkgmNotificationsFilter)."""


@dataclass(frozen=True)
class SubscriptionResource:
    """One API's subscriptions: what they are called and how their filter is checked."""

    api: Api
    name: str  # "NsdmSubscription", for operation ids
    request: type[SubscriptionRequest]
    check_filter: Callable[[Mapping[str, Any]], dict[str, Any]]


def subscription(found: Subscription, api: Api, base: str) -> dict[str, Any]:
    """The subscription as SOL005 shows it: LccnSubscription, NsdmSubscription, PkgmSubscription."""
    document: dict[str, Any] = {
        "id": found.id,
        "callbackUri": found.callback_uri,
        "_links": {"self": {"href": base.rstrip("/") + api.href(found.id)}},
    }
    if found.filter:
        document["filter"] = found.filter
    return document


def subscription_router(resource: SubscriptionResource) -> APIRouter:
    """The create/list/read/delete routes of one API's subscriptions, to mount in its router
    (which gives them its prefix and tags)."""
    router = APIRouter()
    api = resource.api

    async def create(
        body: SubscriptionRequest,
        request: Request,
        session: SessionDep,
        caller: CallerDep,
        settings: SettingsDep,
        runtime: RuntimeDep,
    ) -> Response:
        if body.callbackUri.split(":", 1)[0].lower() not in ("http", "https"):
            raise Invalid(
                "the callback is not usable",
                [InputProblem("callbackUri", "expected an http:// or https:// URI")],
            )
        wanted = {
            "callback_uri": body.callbackUri, "filter_": resource.check_filter(body.filter),
            "authentication": body.authentication, "tenant_id": body.tenantId,
        }  # fmt: skip
        base = str(request.base_url)
        same = await run_in_threadpool(_existing, session, caller, api, wanted)
        if same is not None:  # SOL005: 303 with an empty body
            return Response(status_code=303, headers=_location(subscription(same, api, base)))
        # tested outside any transaction or write slot
        await probe_callback(body.callbackUri, subscriptions.headers_for(body.authentication),
                             settings)  # fmt: skip
        async with write_slot(request):
            made, created = await run_in_threadpool(
                _create, session, caller, api, wanted, runtime.sealer
            )
        document = subscription(made, api, base)
        if not created:  # made meanwhile by another request
            return Response(status_code=303, headers=_location(document))
        return JSONResponse(document, status_code=201, headers=_location(document))

    def listing(
        request: Request, session: SessionDep, caller: CallerDep, page: PageDep
    ) -> JSONResponse:
        base = str(request.base_url)
        documents = [
            subscription(s, api, base) for s in subscriptions.list_visible(session, caller, api)
        ]
        return sol013_listing(request, documents, page, FIELDS, nested=NESTED)

    def read(
        subscription_id: SubscriptionId, request: Request, session: SessionDep, caller: CallerDep
    ) -> dict[str, Any]:
        found = subscriptions.read(session, caller, api, subscription_id)
        return subscription(found, api, str(request.base_url))

    def delete(subscription_id: SubscriptionId, session: SessionDep, caller: CallerDep) -> Response:
        subscriptions.delete(session, caller, api, subscription_id)
        return Response(status_code=204)

    create.__annotations__["body"] = resource.request
    collection, item = "/subscriptions", "/subscriptions/{subscriptionId}"
    name = resource.name
    router.add_api_route(
        collection, create, methods=["POST"], status_code=201, operation_id=f"create{name}",
        responses={303: {"description": "the same subscription exists (see Location)"}},
    )  # fmt: skip
    router.add_api_route(collection, listing, methods=["GET"], operation_id=f"list{name}s")
    router.add_api_route(item, read, methods=["GET"], operation_id=f"read{name}")
    router.add_api_route(
        item, delete, methods=["DELETE"], status_code=204, operation_id=f"delete{name}"
    )
    return router


def _location(document: dict[str, Any]) -> dict[str, str]:
    return {"Location": document["_links"]["self"]["href"]}


def _existing(
    session: Session, caller: Principal, api: Api, wanted: dict[str, Any]
) -> Subscription | None:
    """The same subscription if there is one; the read ends, so no transaction stays open
    while the callback is tested."""
    try:
        return subscriptions.existing(session, caller, api, **wanted)
    finally:
        session.rollback()


def _create(
    session: Session, caller: Principal, api: Api, wanted: dict[str, Any], sealer: Sealer
) -> tuple[Subscription, bool]:
    created = subscriptions.create(session, caller, api, sealer=sealer, **wanted)
    session.commit()  # in the write slot
    return created


CALLBACK = outbound.Target("callbackUri", "the callback")


async def probe_callback(uri: str, headers: dict[str, str], settings: CentralSettings) -> None:
    """SOL005's endpoint test: the callback must answer a GET with 204."""
    answer = await outbound.fetch(
        uri, CALLBACK, policy=EgressPolicy(settings.fetch_allowed),
        deadline=settings.callback_test_deadline, max_bytes=CALLBACK_TEST_BYTES, headers=headers,
    )  # fmt: skip
    if answer.status != 204:
        raise Unprocessable(
            "the callback did not pass the endpoint test",
            [InputProblem("callbackUri", f"a GET answered {answer.status}, not 204")],
        )
