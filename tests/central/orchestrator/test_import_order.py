"""Every orchestrator module (and the workers) imports on its own, first, in a fresh set of
Edgewise modules: an import cycle that only works in one order fails here, not in a process
root that happens to import things differently."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import edgewise.central.orchestrator as package
names = ["edgewise.central.workers"] + [
    m.name for m in pkgutil.iter_modules(package.__path__, package.__name__ + ".")
]
failed = []
for name in names:
    for loaded in [k for k in sys.modules if k.startswith("edgewise")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed.append(f"{name}: {error}")
print("\\n".join(failed))
"""


def test_each_orchestrator_module_imports_first() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "", done.stdout
