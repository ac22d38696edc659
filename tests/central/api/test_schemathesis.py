"""Schemathesis over the real app (tests/central/api/conftest.py's): a few generated requests per
operation, then a stateful run along the OpenAPI links of the NS life cycle; no server error, no
status the document does not list, no response that breaks its schema. Bounded: derandomized,
a handful of examples per operation."""

from __future__ import annotations

from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, strategies
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.central.api.conftest import Caller, Central
from tests.central.api.test_catalog import onboard_nsd
from tests.central.api.test_nslcm import FLAVOUR, settle_all

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
schemathesis.serializer.alias("application/zip", "application/octet-stream")  # packages: bytes
SETTINGS = hypothesis.settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def send(client: TestClient, case: Case[Any], caller: Caller) -> Response:
    """The case through the fixture's client (the app with its workers, on its own loop)."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=caller.headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data.encode() if isinstance(data, str) else data
    answer = client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=kwargs.get("headers"),
        follow_redirects=False,
        **body,
    )
    return Response.from_any(answer)


@pytest.fixture
def api(central: Central) -> Any:
    return schemathesis.openapi.from_dict(central.client.get("/openapi.json").json())


@pytest.mark.parametrize(
    ("mode", "who"),
    [
        (GenerationMode.POSITIVE, "tenant"),
        (GenerationMode.POSITIVE, "admin"),
        (GenerationMode.NEGATIVE, "tenant"),
    ],
)
def test_every_operation_answers_as_documented(
    central: Central, api: Any, mode: GenerationMode, who: str
) -> None:
    caller = central.tenant("fuzz") if who == "tenant" else central.admin
    operations = [result.ok() for result in api.get_all_operations()]
    failures = [
        failure
        for operation in operations
        for failure in exercise(operation, mode, central.client, caller)
    ]
    assert not failures, "\n\n".join(failures)


def exercise(operation: Any, mode: GenerationMode, client: TestClient, caller: Caller) -> list[str]:
    """A few generated requests to one operation; what went wrong, if anything."""
    calls = 0

    @SETTINGS
    @hypothesis.given(strategies.data())
    def requests(data: strategies.DataObject) -> None:
        nonlocal calls
        case = data.draw(operation.as_strategy(generation_mode=mode))
        calls += 1
        case.validate_response(send(client, case, caller), checks=CHECKS)

    try:
        requests()
    except hypothesis.errors.Unsatisfiable:  # nothing to negate: no parameter, no body
        return [] if mode is GenerationMode.NEGATIVE else [f"{operation.label}: no request made"]
    except Exception as exc:  # noqa: BLE001 - every operation's failures in one report
        return [f"{operation.label}: {exc}"]
    return [] if calls else [f"{operation.label}: no request made"]


LIFE_CYCLE = [
    "createNsInstance",
    "readNsInstance",
    "instantiateNs",
    "readNsLcmOpOcc",
    "terminateNs",
]  # fmt: skip (deleteNsInstance left out: taken first, it ends every run at its start)


def test_the_ns_life_cycle_along_its_links(central: Central) -> None:
    """Create an NS instance, instantiate it, follow its operation occurrence, terminate it: the
    stateful run takes the document's links, with the request bodies pinned to
    the fixture's NSD, flavour and site (random ones would stop at the first 404); the site
    reports every operation applied, so each completes and the next can start."""
    tenant = central.tenant("stateful")
    nsd = onboard_nsd(central, tenant)
    made = central.client.post(
        "/api/v1/sites",
        json={"name": "edge-a", "kind": "cloud", "computeNodes": 100, "slotsPerNode": 1000},
        headers=tenant.headers,
    )  # room for every NS instance the run makes
    assert made.status_code == 201, made.text
    site = made.json()["id"]
    central.bring_online([site])
    spec = central.client.get("/openapi.json").json()
    bodies = spec["components"]["schemas"]
    bodies["CreateNsRequest"]["properties"]["nsdId"] = {"const": nsd}
    bodies["CreateNsRequest"]["properties"].pop("tenantId")
    bodies["InstantiateNsRequest"]["properties"]["nsFlavourId"] = {"const": FLAVOUR}
    bodies["InstantiateNsRequest"]["properties"]["additionalParamsForNs"] = {
        "const": {"sites": [site]}
    }
    bodies["InstantiateNsRequest"]["required"] = ["nsFlavourId", "additionalParamsForNs"]
    for name in ("InstantiateNsRequest", "TerminateNsRequest"):  # no random extra members
        bodies[name]["additionalProperties"] = False
    spec["paths"]["/nslcm/v1/ns_instances/{nsInstanceId}/terminate"]["post"]["responses"][
        "202"
    ].pop("links")  # so that the run starts where the life cycle starts, not at a random id
    schema = schemathesis.openapi.from_dict(spec).include(operation_id=LIFE_CYCLE)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # negatives: test above
    schema.config.phases.stateful.inference.algorithms = []  # the document's links, no guesses
    seen: list[tuple[str, int]] = []

    class LifeCycle(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            response = send(central.client, case, tenant)
            seen.append((case.operation.label, response.status_code))
            return response

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            if response.status_code == 202:  # the site applies it: the operation completes
                settle_all(central, tenant, response.headers["location"][0], site)

        def validate_response(self, response: Response, case: Case[Any], **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    LifeCycle.run(
        settings=hypothesis.settings(
            SETTINGS, max_examples=40, stateful_step_count=10, phases=[Phase.generate]
        )
    )
    reached = {label for label, status in seen if status < 300}
    assert {
        "POST /nslcm/v1/ns_instances",
        "POST /nslcm/v1/ns_instances/{nsInstanceId}/instantiate",
        "GET /nslcm/v1/ns_lcm_op_occs/{nsLcmOpOccId}",
        "POST /nslcm/v1/ns_instances/{nsInstanceId}/terminate",
    } <= reached, seen
