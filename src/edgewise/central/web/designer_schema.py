"""The design as the designer page's script posts it (JSON, bounded) and as the page starts
from: converted to and from the service's `Design`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from edgewise.central.services.designs_nsd import (
    MAX_FUNCTIONS,
    TEXT_MAX,
    Design,
    DesignedFunction,
    Endpoint,
)
from edgewise.central.services.errors import InputProblem, Invalid

MAX_BODY = 256 * 1024  # bytes of one posted design
Text = Annotated[str, Field(max_length=TEXT_MAX)]


CAMEL = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=True)


class EndpointIn(BaseModel):
    model_config = CAMEL
    enabled: bool = True
    description: Text = ""


class FunctionIn(BaseModel):
    model_config = CAMEL
    name: Annotated[str, Field(max_length=64)]
    source: Literal["native", "package"]
    type: Text
    flavour_id: Annotated[str, Field(max_length=100)] = "default"
    properties: dict[str, Any] = Field(default_factory=dict, max_length=64)


class DesignIn(BaseModel):
    """A design: the NSD's identity, the chain LAN side first, the access points."""

    model_config = CAMEL
    name: Text
    version: Annotated[str, Field(max_length=40)]
    designer: Text
    invariant_id: Text
    descriptor_id: Text
    description: Annotated[str, Field(max_length=1000)] = ""
    based_on: Annotated[str | None, Field(max_length=64)] = None
    lan: EndpointIn = EndpointIn(description="Customer LAN side")
    wan: EndpointIn = EndpointIn(description="WAN side")
    functions: list[FunctionIn] = Field(default_factory=list, max_length=MAX_FUNCTIONS)

    def design(self) -> Design:
        return Design(
            name=self.name.strip(),
            version=self.version.strip(),
            designer=self.designer.strip(),
            invariant_id=self.invariant_id.strip(),
            descriptor_id=self.descriptor_id.strip(),
            functions=tuple(
                DesignedFunction(f.name, f.source, f.type, f.properties, f.flavour_id)
                for f in self.functions
            ),
            lan=Endpoint(self.lan.enabled, self.lan.description),
            wan=Endpoint(self.wan.enabled, self.wan.description),
            description=self.description,
            based_on=self.based_on or None,
        )


def design_json(design: Design) -> dict[str, Any]:
    """A design as the page's script keeps it (the shape DesignIn reads back)."""
    return {
        "name": design.name,
        "version": design.version,
        "designer": design.designer,
        "invariantId": design.invariant_id,
        "descriptorId": design.descriptor_id,
        "description": design.description,
        "basedOn": design.based_on,
        "lan": asdict(design.lan),
        "wan": asdict(design.wan),
        "functions": [
            {
                "name": f.name, "source": f.source, "type": f.type, "flavourId": f.flavour_id,
                "properties": dict(f.properties),
            }
            for f in design.functions
        ],
    }  # fmt: skip


async def posted_design(request: Request) -> DesignIn:
    """The posted design, refused whole (422, every field named) when it is not one."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Invalid(
            "the design is too large",
            [InputProblem("body", f"more than {MAX_BODY} bytes; a design is at most that")],
        )
    try:
        return DesignIn.model_validate_json(body or b"{}")
    except ValidationError as wrong:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in wrong.errors(include_url=False)]
        raise RequestValidationError(errors) from None
