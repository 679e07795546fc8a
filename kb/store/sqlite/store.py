"""The embedded store: the store's logic (`kb.store.sql_store`) on one SQLite file in WAL
mode, the source of truth."""

from __future__ import annotations

import time
from pathlib import Path

from kb.jobs import Clock
from kb.store.sql_store import SQLStore
from kb.store.sqlite.dialect import SQLiteDialect


class SQLiteStore(SQLStore):
    """Documents, passages, vectors and the FTS5 index in one SQLite database."""

    def __init__(self, folder: Path, readers: int = 2, clock: Clock = time.time) -> None:
        """Open (creating and migrating) the store in `folder`; `readers`: connections that
        searches read through side by side (`Settings.readers`); `clock`: the ingest queue's
        time (its leases)."""
        dialect = SQLiteDialect(folder)
        self.path = dialect.path
        super().__init__(dialect, folder, readers, clock)
