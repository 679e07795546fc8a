"""Which engine the settings name: PostgreSQL at `database_url`, else SQLite. The one place
that chooses; the store, the accounts (`kb.users`) and whatever else needs the engine ask here."""

from __future__ import annotations

from kb.settings import Settings
from kb.store.dialect import Connection, Dialect
from kb.store.postgres.dialect import PostgresDialect
from kb.store.protocol import Store
from kb.store.sql_store import SQLStore
from kb.store.sqlite.dialect import SQLiteDialect


def choose_dialect(settings: Settings) -> Dialect:
    """PostgreSQL at `database_url` (with this machine's caches in `store`), else the embedded
    SQLite file in `store`."""
    if settings.database_url:
        return PostgresDialect(settings.database_url, settings.store)
    return SQLiteDialect(settings.store)


def open_store(settings: Settings) -> Store:
    """The store the settings name: PostgreSQL at `database_url` (with this machine's caches in
    `store`), else the embedded SQLite store in `store`."""
    return SQLStore(choose_dialect(settings), settings.store, settings.readers)


def open_connection(settings: Settings) -> tuple[Dialect, Connection]:
    """A connection of its own to the store the settings name (its schema migrated), with the
    dialect its statements must be prepared for."""
    dialect = choose_dialect(settings)
    return dialect, dialect.open()
