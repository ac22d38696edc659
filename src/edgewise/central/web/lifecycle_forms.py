"""What the lifecycle pages share: a bounded window over a list (page size at most 100), the
placement a form's label selector asks for, and a service's problems as a form's field errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query

from edgewise.central.services.errors import InputProblem, Invalid, Unprocessable
from edgewise.model import placement
from edgewise.model.sites import LabelSelector

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
PAGE_MAX = 100
FILTER_MAX = 100  # characters of a text filter
LABELS_MAX = 500


@dataclass(frozen=True)
class PageAsk:
    start: int
    size: int


async def page_ask(
    start: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    size: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> PageAsk:
    return PageAsk(start, size)


PageAskDep = Annotated[PageAsk, Depends(page_ask)]


@dataclass(frozen=True)
class Window(Generic[T]):
    """One page of `items`, with where the previous and the next pages start (None: none)."""

    items: Sequence[T]
    total: int
    start: int
    previous: int | None
    next: int | None

    @classmethod
    def of(cls, rows: Sequence[T], ask: PageAsk) -> Window[T]:
        chunk = rows[ask.start : ask.start + ask.size]
        after = ask.start + ask.size
        return cls(
            chunk,
            len(rows),
            ask.start,
            max(0, ask.start - ask.size) if ask.start else None,
            after if after < len(rows) else None,
        )


def selector_request(labels: str, field: str = "labels") -> placement.Request:
    """The placement a label selector (`key=value[,key=value]`) asks for; Invalid naming
    `field` when it does not parse or is empty."""
    text = labels.strip()
    if not text:
        raise Invalid("no label selector", [InputProblem(field, "give key=value[,key=value]")])
    try:
        selector = LabelSelector.parse(text)
    except ValueError as exc:
        raise Invalid("the label selector is not valid", [InputProblem(field, str(exc))]) from exc
    return placement.Request(slots=0, selector=selector)


def field_errors(error: Invalid) -> dict[str, str]:
    """A service's problems by the form field they name (the last part of their path)."""
    found: dict[str, str] = {}
    for problem in error.problems:
        name = problem.where.rsplit(".", 1)[-1] if problem.where else ""
        found[name] = f"{found[name]}; {problem.message}" if name in found else problem.message
    return found


def choice(kind: type[E], value: str, field: str) -> E | None:
    """A filter's value as one of `kind` ("" is no filter); Unprocessable naming `field`."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise Unprocessable(
            f"{field}: {value[:40]!r} is not one of {names}", [InputProblem(field, names)]
        ) from None
