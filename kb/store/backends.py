"""Which store backend the settings name: PostgreSQL at `database_url`, else SQLite."""

from __future__ import annotations

from kb.settings import Settings
from kb.store.postgres.store import PostgresStore
from kb.store.protocol import Store
from kb.store.sql_store import SQLiteStore


def open_store(settings: Settings) -> Store:
    """The store the settings name: PostgreSQL at `database_url` (with this machine's caches in
    `store`), else the embedded SQLite store in `store`."""
    if settings.database_url:
        return PostgresStore(settings.database_url, settings.store, settings.readers)
    return SQLiteStore(settings.store, settings.readers)
