"""PNF descriptors (SOL005 `nsd/v1/pnf_descriptors`) are an explicit gap: Edgewise has no PNF
model. Every request there is a 404 ProblemDetails that says so, not an unknown-path one."""

from __future__ import annotations

import pytest

from tests.central.api.conftest import Central

PNFDS = "/nsd/v1/pnf_descriptors"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PNFDS),
        ("POST", PNFDS),
        ("GET", f"{PNFDS}/0b4e0b8c-1b4e-4c0e-9a51-6f1c4d2b9f11"),
        ("PATCH", f"{PNFDS}/0b4e0b8c-1b4e-4c0e-9a51-6f1c4d2b9f11"),
        ("DELETE", f"{PNFDS}/0b4e0b8c-1b4e-4c0e-9a51-6f1c4d2b9f11"),
        ("PUT", f"{PNFDS}/0b4e0b8c-1b4e-4c0e-9a51-6f1c4d2b9f11/pnfd_content"),
        ("GET", f"{PNFDS}/0b4e0b8c-1b4e-4c0e-9a51-6f1c4d2b9f11/pnfd_content"),
    ],
)
def test_pnf_descriptors_answer_that_edgewise_has_none(
    central: Central, method: str, path: str
) -> None:
    answer = central.client.request(method, path, json={}, headers=central.admin.headers)
    assert answer.status_code == 404, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "Edgewise has no PNF descriptors" in answer.json()["detail"]
    assert answer.json()["instance"] == path


def test_pnf_descriptors_need_credentials_like_every_sol005_resource(central: Central) -> None:
    assert central.client.get(PNFDS).status_code == 401
