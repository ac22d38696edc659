"""Alarms: filters, acknowledgement and the root-cause tree."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
