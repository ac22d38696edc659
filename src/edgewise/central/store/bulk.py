"""Bulk statements over the tables: chunks of ids for IN (...) lists, and the Core table of a
mapped class for executemany writes without the ORM's bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table

from edgewise.central.store.tables import Base

CHUNK = 500  # ids per IN (...) list: well inside every database's parameter limit


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class."""
    return cast("Table", model.__table__)


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
