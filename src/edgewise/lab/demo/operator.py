"""What the demo works through, as an operator at the command line would: a console to print
on, a client of the central's REST API, and `edgewise` commands run in this process. The CLI
hands in its own (`edgewise demo`); the lab never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from rich.console import Console


class CentralApi(Protocol):
    """The calls the demo makes on the central's REST API; a failure is the client's own error."""

    def get_json(self, path: str) -> Any: ...

    def post_json(self, path: str, body: Any) -> Any: ...

    def list_all(self, path: str) -> Iterator[dict[str, Any]]: ...

    def request(self, method: str, path: str, *, json: Any = None) -> Any:
        """The HTTP response (its `headers` read: an operation's `Location`)."""

    def close(self) -> None: ...


class Command(Protocol):
    """Runs one `edgewise` command line (`args`) against the central at `central`, printing what
    the command prints: the demo shows the CLI's own tables and progress bars."""

    def __call__(self, central: str, token: str, *args: str) -> None: ...


@dataclass(frozen=True)
class Operator:
    """The console the demo prints on, how it connects to a central's API (URL and token), and
    how it runs an `edgewise` command."""

    console: Console
    connect: Callable[[str, str], CentralApi]
    command: Command
