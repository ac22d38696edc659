"""Central manager settings: read once at start-up from the environment, then passed in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("var/central")


@dataclass(frozen=True)
class CentralSettings:
    """Where the central keeps its state and how it serves.

    `database_url` selects the store: empty means the embedded SQLite file in
    `data_dir`; a `postgresql+psycopg://...` URL selects PostgreSQL.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    page_size: int = 100

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'edgewise.db').resolve()}"

    @property
    def admin_token_file(self) -> Path:
        return self.data_dir / "admin.token"

    @classmethod
    def from_environment(cls, data_dir: Path | None = None) -> CentralSettings:
        env_dir = os.environ.get("EDGEWISE_DATA_DIR")
        chosen = data_dir or (Path(env_dir) if env_dir else DEFAULT_DATA_DIR)
        return cls(
            data_dir=chosen,
            database_url=os.environ.get("EDGEWISE_DATABASE_URL", ""),
            page_size=int(os.environ.get("EDGEWISE_PAGE_SIZE", "100")),
        )
