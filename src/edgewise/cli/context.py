"""What every CLI command gets: where the central is, the caller's token (found when a command
first talks to the central), the output mode."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from edgewise.cli.client import CentralClient, default_token


@dataclass
class CliContext:
    central: str
    token: str | None
    as_json: bool
    _client: CentralClient | None = field(default=None, repr=False)

    @property
    def client(self) -> CentralClient:
        if self._client is None:
            self._client = CentralClient(self.central, self.token or default_token(self.central))
        return self._client


def cli_context(ctx: typer.Context) -> CliContext:
    found = ctx.find_object(CliContext)
    assert found is not None, "the root callback sets the CLI context"
    return found
