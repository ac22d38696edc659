"""The service designer: a chain composed from native functions and onboarded VNFs, published as
an NSD."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
