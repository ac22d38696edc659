"""Callback credentials sealed at rest: the store keeps a subscription's BASIC user name and
password only as a Fernet token under the central's credentials key (`credentials.key` in the
data dir, 0600; replicas sharing a store share it through EDGEWISE_CREDENTIALS_KEY).
`subscriptions` seals what it stores; `outbox` opens it to send."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

SEALED = "sealedParamsBasic"
log = logging.getLogger(__name__)


class Sealer:
    """Seals and opens SOL005 SubscriptionAuthentication under one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @staticmethod
    def new_key() -> bytes:
        return Fernet.generate_key()

    def seal(self, authentication: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """What the store keeps: `paramsBasic` sealed, the rest as it is (already sealed: kept)."""
        if not authentication:
            return None
        stored = {k: v for k, v in authentication.items() if k != "paramsBasic"}
        params = authentication.get("paramsBasic")
        if params:
            stored[SEALED] = self._fernet.encrypt(json.dumps(params).encode()).decode()
        return stored

    def open(self, stored: Mapping[str, Any] | None, *, owner: str = "") -> dict[str, Any] | None:
        """The authentication as given (rows never sealed pass as they are). Sealed under
        another key, the credentials are left out and the reason logged: the callback then
        refuses the notification and it is retried, until the keys agree."""
        if not stored:
            return None
        clear = {k: v for k, v in stored.items() if k != SEALED}
        if SEALED in stored:
            params = self._open(str(stored[SEALED]))
            if params is None:
                log.error("the callback credentials of %s were sealed under another key; "
                          "replicas sharing a store need the same EDGEWISE_CREDENTIALS_KEY",
                          owner or "a subscription")  # fmt: skip
            else:
                clear["paramsBasic"] = params
        return clear

    def _open(self, token: str) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token))
        except (InvalidToken, ValueError):
            return None
