"""The central's state is readable by its own user only: the data dir, the SQLite store with its
-wal and -shm files (callback credentials), the admin token, the CA's keys and certificates."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from edgewise.central.config import CentralSettings
from edgewise.central.runtime import CentralRuntime


def test_state_files_are_0600_and_directories_0700_even_where_they_were_looser(
    tmp_path: Path,
) -> None:
    data = tmp_path / "central"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # an older central's, or a umask of 022
    (data / "edgewise.db").touch(mode=0o644)
    (data / "edgewise.db").chmod(0o644)
    runtime = CentralRuntime.open(CentralSettings(data_dir=data))
    try:
        with runtime.sessions.begin() as session:  # a write: the -wal and -shm files exist now
            session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        paths = [*data.rglob("*"), data]
        names = {p.name for p in paths}
        expected = {"edgewise.db-wal", "edgewise.db-shm", "admin.token", "ca.key", "ca.pem",
                    "credentials.key"}  # fmt: skip
        assert expected <= names
        loose = {
            str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode))
            for p in paths
            if stat.S_IMODE(p.stat().st_mode) & 0o077
        }
        assert loose == {}
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
    finally:
        runtime.close()
