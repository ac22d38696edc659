"""The central's settings from the environment: the networks it may fetch from besides the
public ones."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from edgewise.central.config import CentralSettings, networks


def test_fetch_allow_takes_networks_and_names_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert networks("") == ()
    assert networks(" 127.0.0.0/8, ::1 ,10.1.2.3/16") == (
        ip_network("127.0.0.0/8"), ip_network("::1/128"), ip_network("10.1.0.0/16"),
    )  # fmt: skip
    with pytest.raises(ValueError, match="EDGEWISE_FETCH_ALLOW: 'localhost' is not a network"):
        networks("127.0.0.0/8,localhost")
    monkeypatch.setenv("EDGEWISE_FETCH_ALLOW", "192.168.0.0/16")
    monkeypatch.setenv("EDGEWISE_FETCH_DEADLINE", "12.5")
    settings = CentralSettings.from_environment()
    assert settings.fetch_allowed == (ip_network("192.168.0.0/16"),)
    assert settings.fetch_deadline == 12.5
    assert CentralSettings().fetch_allowed == ()  # by default: public addresses only
