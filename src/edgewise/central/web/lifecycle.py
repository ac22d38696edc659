"""NS instances, their operations (with the actions the state allows) and rollouts (dry run,
pause, resume, abort)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
