"""TOSCA scalar units (size, time, frequency, bitrate) and ranges, normalised for comparison.

Pure: the typed desired-state contract (fields.py) and the TOSCA loader both read units here.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]+)\s*$")

_SIZE = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "tib": 1024**4,
}
_TIME = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_FREQUENCY = {"hz": 1, "khz": 1000, "mhz": 1000**2, "ghz": 1000**3}
_BITRATE = {
    f"{prefix}{unit}": factor * (8 if unit == "Bps" else 1)
    for prefix, factor in (
        ("", 1),
        ("K", 1000),
        ("Ki", 1024),
        ("M", 1000**2),
        ("Mi", 1024**2),
        ("G", 1000**3),
        ("Gi", 1024**3),
        ("T", 1000**4),
        ("Ti", 1024**4),
    )
    for unit in ("bps", "Bps")
}
UNITS: dict[str, dict[str, float]] = {
    "scalar-unit.size": {k: float(v) for k, v in _SIZE.items()},
    "scalar-unit.time": _TIME,
    "scalar-unit.frequency": {k: float(v) for k, v in _FREQUENCY.items()},
    "scalar-unit.bitrate": {k: float(v) for k, v in _BITRATE.items()},
}
BASE_UNIT = {
    "scalar-unit.size": "B",
    "scalar-unit.time": "s",
    "scalar-unit.frequency": "Hz",
    "scalar-unit.bitrate": "bps",
}


def parse_scalar(kind: str, value: object) -> float | None:
    """The value in the kind's base unit (bytes, seconds, hertz, bits/s), or None if invalid."""
    if not isinstance(value, str):
        return None
    match = _NUMBER.match(value)
    if match is None:
        return None
    units = UNITS[kind]
    unit = match.group(2)
    factor = units.get(unit) if kind == "scalar-unit.bitrate" else units.get(unit.lower())
    if factor is None and kind == "scalar-unit.bitrate":
        factor = units.get(unit[:-3].upper().replace("I", "i") + unit[-3:])
    if factor is None:
        return None
    return float(match.group(1)) * factor


def unit_names(kind: str) -> str:
    return ", ".join(UNITS[kind])


def parse_range(value: object) -> tuple[float, float] | None:
    """A TOSCA range [low, high] (high may be UNBOUNDED), or None if it is not one."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    low, high = value
    if isinstance(high, str) and high.upper() == "UNBOUNDED":
        high = float("inf")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        return None
    assert isinstance(low, int | float)
    assert isinstance(high, int | float)
    if low > high:
        return None
    return float(low), float(high)
