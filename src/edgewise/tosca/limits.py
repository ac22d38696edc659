"""Sizes a loader accepts: every read, unpack and YAML composition checks them first."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds that keep hostile or broken input from exhausting memory or time."""

    max_file_bytes: int = 5 * MIB
    max_package_bytes: int = 50 * MIB
    max_files: int = 1000
    max_compression_ratio: int = 100
    max_depth: int = 64
    max_nodes: int = 200_000
    max_imports: int = 200
