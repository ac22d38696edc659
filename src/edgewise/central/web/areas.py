"""Every area's router, in one list (`portal.install_web` includes them)."""

from __future__ import annotations

from fastapi import APIRouter

from edgewise.central.web import (
    alarms,
    catalog,
    dashboard,
    designer,
    lifecycle,
    people,
    selfservice,
    sites,
)

ROUTERS: tuple[APIRouter, ...] = (
    dashboard.router,
    sites.router,
    lifecycle.router,
    catalog.router,
    alarms.router,
    people.router,
    selfservice.router,
    designer.router,
)
