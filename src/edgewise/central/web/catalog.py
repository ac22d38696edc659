"""The catalog: onboarding packages by drag and drop, their problems by file, line and column;
enable, disable, delete."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
