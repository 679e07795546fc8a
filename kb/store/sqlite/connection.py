"""SQLite connections that report "database is locked" as StoreBusyError.

SQLite waits `busy_timeout` for another connection's lock and then fails with a bare
OperationalError; raised as StoreBusyError it names the store and its writer, and the API
answers 503 with Retry-After instead of a 500.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kb.errors import StoreBusyError
from kb.files import create_private_file
from kb.store.lock import describe_holder
from kb.store.sql_filters import FOLD_FUNCTION, fold
from kb.store.sqlite import sql

BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_busy(error: sqlite3.Error) -> bool:
    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in BUSY_CODES


def busy_error(folder: Path, error: sqlite3.Error) -> StoreBusyError:
    return StoreBusyError(
        f"the store at {folder} is locked by {describe_holder(folder)} (SQLite: {error}); try again"
    )


class BusyAwareConnection(sqlite3.Connection):
    """A connection whose statements raise StoreBusyError when SQLite gives up waiting."""

    folder = Path(".")  # set by `connect`: the store folder, for the message

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise (busy_error(self.folder, exc) if is_busy(exc) else exc) from exc

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise (busy_error(self.folder, exc) if is_busy(exc) else exc) from exc

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.OperationalError as exc:
            raise (busy_error(self.folder, exc) if is_busy(exc) else exc) from exc


def connect(path: Path, **options: Any) -> BusyAwareConnection:
    """Open the SQLite file at `path` (options as for sqlite3.connect). A new file is made
    owner-only first: SQLite gives its -wal and -shm files the database file's mode."""
    create_private_file(path)
    db = sqlite3.connect(path, factory=BusyAwareConnection, **options)
    assert isinstance(db, BusyAwareConnection)
    db.folder = path.parent
    return db


def open_reader(path: Path) -> BusyAwareConnection:
    """A read-only connection to the SQLite database at `path` (`kb.store.readers` pools them)."""
    db = connect(path, check_same_thread=False, isolation_level=None)
    for pragma in sql.READER_PRAGMAS:
        db.execute(pragma)
    db.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
    return db
