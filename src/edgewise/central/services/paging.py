"""Keyset pagination for lists: stable under concurrent inserts, opaque markers (SOL013 style)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    raw = json.dumps([_wire(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_marker(marker: str, kinds: Sequence[type]) -> list[Any]:
    """The values of a marker this server issued for columns of `kinds` (str, int, datetime);
    Invalid, naming the parameter, for anything else (forged, cut, from another list)."""
    if len(marker) > MAX_MARKER:
        raise _not_issued()
    try:
        padded = marker + "=" * (-len(marker) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _not_issued() from exc
    if not isinstance(values, list) or len(values) != len(kinds):
        raise _not_issued()
    return [_value(value, kind) for value, kind in zip(values, kinds, strict=True)]


MAX_MARKER = 2048
INT64 = 2**63


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _value(value: Any, kind: type) -> Any:
    """The marker's value as a column of `kind` takes it, or Invalid."""
    if kind is str and isinstance(value, str):
        return value
    if kind is int and type(value) is int and -INT64 <= value < INT64:
        return value
    if kind is datetime and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise _not_issued() from exc
    raise _not_issued()


def _not_issued() -> Invalid:
    return Invalid(
        "the page marker is not one this server issued",
        [InputProblem("nextpage_opaque_marker", "not a valid marker; start from the first page")],
    )


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
        after = decode_marker(marker, [column.type.python_type for column in order])
        query = query.where(tuple_(*order) > tuple_(*after))
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(tuple(rows), None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(tuple(rows), encode_marker([getattr(last, c.key) for c in order]))
