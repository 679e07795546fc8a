"""The PostgreSQL store: the store's logic (`kb.store.sql_store`) on the PostgreSQL dialect.

Chosen by `KB_DATABASE_URL=postgresql://...`. Documents, passages, vectors (pgvector), the
keyword index (a tsvector per passage, ranked by ts_rank), history, packs and the keyword
log all live in the database, so any number of processes on any machines share one store.
"""

from __future__ import annotations

import time
from pathlib import Path

from kb.jobs import Clock
from kb.store.postgres.dialect import PostgresDialect
from kb.store.sql_store import SQLStore


class PostgresStore(SQLStore):
    """Documents, passages, vectors and the keyword index in one PostgreSQL database."""

    def __init__(self, url: str, folder: Path, readers: int = 2, clock: Clock = time.time) -> None:
        """Open (migrating) the database at `url`; `folder` holds this machine's caches and
        the kept original files; `clock`: the ingest queue's time (its leases)."""
        self.url = url
        super().__init__(PostgresDialect(url, folder), folder, readers, clock)
