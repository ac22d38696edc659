"""Sites: the list (filters, paging at 10,000 sites) and a site's page (link charts, VNFs, events,
revisions, enrollment tokens)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
