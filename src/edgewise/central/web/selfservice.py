"""Customer self-service: ordering a service from the catalog, own firewall rules and steering
preferences."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
