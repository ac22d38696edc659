"""Turns a page of results into a response: the items and, when more follow, a `Link` header."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from edgewise.central.api.deps import PageRequest
from edgewise.central.api.sol013 import apply_filters, dotted, select_fields
from edgewise.central.services.paging import decode_marker, encode_marker


def page_response(request: Request, items: Sequence[Any], next_marker: str | None) -> JSONResponse:
    headers = {}
    if next_marker:
        url = request.url.include_query_params(nextpage_opaque_marker=next_marker)
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(list(items), headers=headers)


def page_in_memory(
    documents: list[dict[str, Any]], marker: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Pages a list ordered by id and already filtered; the marker names the last id seen."""
    start = 0
    if marker:
        (last_id,) = decode_marker(marker, (str,))
        start = next((i for i, d in enumerate(documents) if d["id"] > last_id), len(documents))
    chunk = documents[start : start + limit]
    more = start + limit < len(documents)
    return chunk, encode_marker([chunk[-1]["id"]]) if more and chunk else None


def sol013_listing(
    request: Request,
    documents: list[dict[str, Any]],
    page: PageRequest,
    known: set[str],
    default_excluded: tuple[str, ...] = (),
    nested: frozenset[str] = frozenset(),
) -> JSONResponse:
    """A SOL005 list: the query's SOL013 filters, then its field selectors, then one page. The
    members of `nested` attributes may be named with a dot in plain filters (`sol013.dotted`)."""
    params = request.query_params
    documents = apply_filters(documents, dotted(params.multi_items(), nested), known)
    documents = select_fields(documents, params, default_excluded=default_excluded, known=known)
    chunk, marker = page_in_memory(documents, page.marker, page.limit)
    return page_response(request, chunk, marker)
