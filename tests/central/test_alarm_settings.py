"""The alarm engine's settings from the environment (EDGEWISE_ALARM_*, EDGEWISE_ALERTMANAGER_*):
defaults, values taken, and a bad one stopping the start with the variable named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edgewise.central.config import CentralSettings
from edgewise.central.services.alarms_policy import AlarmPolicy


def test_defaults_make_a_site_offline_after_two_holds_and_the_marks_slack() -> None:
    settings = CentralSettings()
    assert settings.alarms == AlarmPolicy()
    assert settings.alarms.offline_after(settings.poll_hold[1]) == timedelta(seconds=125)
    assert settings.alertmanager_url == ""


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEWISE_ALARM_OFFLINE_HOLDS", "3")
    monkeypatch.setenv("EDGEWISE_ALARM_FLAP_RESTARTS", "5")
    monkeypatch.setenv("EDGEWISE_ALARM_CERTIFICATE_DAYS", "30")
    monkeypatch.setenv("EDGEWISE_ALERTMANAGER_URL", "http://127.0.0.1:9093")
    monkeypatch.setenv("EDGEWISE_ALERTMANAGER_INTERVAL", "10")
    settings = CentralSettings.from_environment()
    assert (settings.alarms.offline_holds, settings.alarms.flap_restarts) == (3.0, 5)
    assert settings.alarms.certificate_days == 30
    assert (settings.alertmanager_url, settings.alertmanager_interval) == (
        "http://127.0.0.1:9093",
        10.0,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EDGEWISE_ALARM_FLAP_RESTARTS", "0", "EDGEWISE_ALARM_FLAP_RESTARTS: must be positive"),
        ("EDGEWISE_ALARM_OFFLINE_HOLDS", "two", "EDGEWISE_ALARM_OFFLINE_HOLDS='two': expected"),
        ("EDGEWISE_ALERTMANAGER_URL", "alertmanager:9093", "expected an http:// or https://"),
        ("EDGEWISE_ALERTMANAGER_INTERVAL", "0", "EDGEWISE_ALERTMANAGER_INTERVAL: must be"),
    ],
)
def test_a_bad_value_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        CentralSettings.from_environment()
