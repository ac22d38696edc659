"""Keyset pagination for lists: stable under concurrent inserts, opaque markers (SOL013 style)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from edgewise.central.services.errors import InputProblem, Invalid

RowT = TypeVar("RowT")
ViewT = TypeVar("ViewT")


@dataclass(frozen=True)
class Page(Generic[RowT]):
    items: tuple[RowT, ...]
    next_marker: str | None

    def map(self, view: Callable[[RowT], ViewT]) -> Page[ViewT]:
        """The same page with each item made into `view` (a row into what the API shows)."""
        return Page(tuple(view(item) for item in self.items), self.next_marker)


def encode_marker(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_marker(marker: str, width: int) -> list[Any]:
    try:
        padded = marker + "=" * (-len(marker) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Invalid(
            "the page marker is not one this server issued",
            [
                InputProblem(
                    "nextpage_opaque_marker", "not a valid marker; start from the first page"
                )
            ],
        ) from exc
    if (
        not isinstance(values, list)
        or len(values) != width
        or not all(isinstance(v, str | int) for v in values)
    ):
        raise Invalid(
            "the page marker is not one this server issued",
            [
                InputProblem(
                    "nextpage_opaque_marker", "not a valid marker; start from the first page"
                )
            ],
        )
    return values


def fetch_page(
    session: Session,
    query: Select[RowT],
    order: Sequence[InstrumentedAttribute[Any]],
    *,
    marker: str | None,
    limit: int,
) -> Page[RowT]:
    """One page of `query` ordered by `order` (which must end in a unique column)."""
    if marker:
        after = decode_marker(marker, len(order))
        query = query.where(tuple_(*order) > tuple_(*after))
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(tuple(rows), None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(tuple(rows), encode_marker([getattr(last, c.key) for c in order]))
