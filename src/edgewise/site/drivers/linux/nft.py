"""nftables through libnftables' JSON interface, in the worker's current namespace.

Debian's `nftables` module (python3-nftables) wraps libnftables.so.1; a context created while
the worker is inside a namespace talks to that namespace. Errors become DataPlaneError.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from edgewise.site.drivers.linux.errors import DataPlaneError, DataPlaneUnavailable


def load_nftables() -> Any:
    """The `nftables` module; DataPlaneUnavailable when python3-nftables is not installed."""
    try:
        return importlib.import_module("nftables")
    except ImportError as exc:  # OSError too: the module loads libnftables.so.1 on first use
        raise DataPlaneUnavailable(
            "the nftables Python module is missing: install python3-nftables (./run does)"
        ) from exc


class LibNftables:
    """One libnftables context, opened in the worker's current namespace (`kernel.Nftables`)."""

    def __init__(self, where: str) -> None:
        self.where = where
        try:
            self._ctx = load_nftables().Nftables()
        except OSError as exc:
            raise DataPlaneUnavailable(f"libnftables cannot be loaded: {exc}") from exc
        self._ctx.set_json_output(True)
        self._ctx.set_handle_output(False)

    def run(self, commands: list[dict[str, Any]]) -> dict[str, Any]:
        """Runs a batch of JSON commands in one transaction; returns the JSON output, if any."""
        rc, output, error = self._ctx.json_cmd({"nftables": commands})
        if rc != 0:
            message = " ".join(str(error).split()) or f"exit code {rc}"
            raise DataPlaneError(f"nftables in {self.where}: {message}", code="nftables")
        return output if isinstance(output, dict) else {}

    def list_table(self, family: str, name: str) -> list[dict[str, Any]] | None:
        """The objects of a table (chains, rules with counters), None when it does not exist."""
        rc, output, _ = self._ctx.json_cmd(
            {"nftables": [{"list": {"table": {"family": family, "name": name}}}]}
        )
        if rc != 0:
            return None
        if isinstance(output, str):
            output = json.loads(output or "{}")
        items = output.get("nftables", []) if isinstance(output, dict) else []
        return [i for i in items if isinstance(i, dict) and "metainfo" not in i]
