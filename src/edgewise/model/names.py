"""The names and ids the desired state's sections use to refer to one another."""

from __future__ import annotations

from typing import Final

from edgewise.model.kinds import Text

NAME: Final = Text(64, r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "a name of letters, digits, _ . -")
IDENT: Final = Text(64, r"[A-Za-z0-9_][A-Za-z0-9_.:-]*", "an id of letters, digits, _ . : -")
