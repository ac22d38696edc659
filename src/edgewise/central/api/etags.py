"""Entity tags of the API's representations (RFC 9110 §8.8.3) and the If-Match precondition a
change of one is made under: SOL005 gives NsdInfo and VnfPkgInfo an ETag, and a PATCH or DELETE
carrying a stale one is refused (412) before anything about the resource's state is checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header

from edgewise.central.services.errors import Stale

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="an ETag of the resource (or *): 412 when stale"),
]
UNLINKED = ("_links",)  # where the representation was read from is not its state


def etag(document: Mapping[str, Any]) -> str:
    """A strong tag of the representation: the same state, the same tag, wherever it is read."""
    state = {k: v for k, v in document.items() if k not in UNLINKED}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def require_match(if_match: str | None, current: str, what: str) -> None:
    """Nothing when there is no If-Match, it is `*` or it lists `current`; Stale otherwise."""
    if if_match is None:
        return
    listed = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if "*" in listed or current in listed:
        return
    raise Stale(
        f"If-Match: {if_match} does not match the {what}'s current ETag {current}; "
        "read it again and retry"
    )
