"""Link health settings: the defaults hold together, and a bad value names its field."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address
from typing import Any

import pytest

from edgewise.site.health import HealthSettingsError, LinkHealthSettings, ProbeSettings, Thresholds

TARGET = (IPv4Address("192.0.2.1"),)


def test_defaults_respect_the_cap() -> None:
    probe = ProbeSettings(TARGET)
    assert 1 / probe.healthy_interval <= probe.max_per_second == 10
    assert Thresholds().down_after * probe.fast_interval < probe.healthy_interval


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targets": ()}, "probe.targets"),
        ({"protocol": "tcp"}, "probe.protocol"),
        ({"port": 0}, "probe.port"),
        ({"healthy_interval": 0.05}, "probe.healthy_interval"),
        ({"fast_interval": 0.5}, "probe.fast_interval"),
        ({"timeout_min": 2.0}, "probe.timeout_min"),
        ({"max_per_second": 11}, "probe.max_per_second"),
    ],
)
def test_bad_probe_settings_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(HealthSettingsError) as caught:
        replace(ProbeSettings(TARGET), **change)
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ": ")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loss_pct": 0}, "thresholds.loss_pct"),
        ({"recover_ratio": 1.5}, "thresholds.recover_ratio"),
        ({"down_after": 0}, "thresholds.down_after"),
        ({"window": 5}, "thresholds.window"),
        ({"latency_window": 1000}, "thresholds.latency_window"),
        ({"failback_hold": -1}, "thresholds.failback_hold"),
    ],
)
def test_bad_thresholds_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(HealthSettingsError) as caught:
        replace(Thresholds(), **change)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [({"fwmark": 0}, "fwmark"), ({"interface": "x" * 16}, "interface"), ({"name": ""}, "name")],
)
def test_bad_link_settings_name_the_field(change: dict[str, Any], field: str) -> None:
    link = LinkHealthSettings("mpls", "wan0", 0x100, 100, ProbeSettings(TARGET))
    with pytest.raises(HealthSettingsError) as caught:
        replace(link, **change)
    assert caught.value.field == field
