"""Dependency aliases that make routes read like prose: `SessionDep`, `CallerDep`, `PageDep`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime
from edgewise.central.services.access import Principal
from edgewise.central.services.auth import authenticate


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    The dependency is function-scoped, so the commit happens before the response is
    sent: a failed commit is reported to the caller, never hidden behind a 2xx.
    """
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_caller(
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    return authenticate(session, authorization)


CallerDep = Annotated[Principal, Depends(get_caller)]


def get_settings(request: Request) -> CentralSettings:
    settings: CentralSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[CentralSettings, Depends(get_settings)]


@dataclass(frozen=True)
class PageRequest:
    marker: str | None
    limit: int


def get_page_request(
    settings: SettingsDep,
    nextpage_opaque_marker: Annotated[
        str | None, Query(description="Marker from the previous page's Link header")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Items per page")] = None,
) -> PageRequest:
    return PageRequest(nextpage_opaque_marker, limit or settings.page_size)


PageDep = Annotated[PageRequest, Depends(get_page_request)]


def get_runtime(request: Request) -> CentralRuntime:
    runtime: CentralRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[CentralRuntime, Depends(get_runtime)]
