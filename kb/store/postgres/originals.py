"""Original files kept in the PostgreSQL database, so that every server can hand them out.

The same interface as `kb.store.original_files` (whose folder becomes this machine's cache of them):
a file is stored in its own transaction before the one that names its document commits, so a
crash leaves at most a file nothing names, never a row naming a missing file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from kb.files import make_private_folder, write_atomically
from kb.store.original_files import TEMP_PREFIX, OriginalFiles
from kb.store.postgres import sql as sql_postgres
from kb.store.postgres.connection import PostgresConnection, to_psycopg


class DatabaseOriginals(OriginalFiles):
    """Originals in the database at `url`; `store`/originals holds the copies read so far."""

    def __init__(self, url: str, store: Path) -> None:
        super().__init__(store)
        self._url = url

    def path(self, sha256: str) -> Path:
        """The file's local copy, fetched from the database the first time it is asked for
        (the path of no file if the database does not hold it)."""
        local = super().path(sha256)
        if not local.is_file():
            rows = self._run(sql_postgres.ORIGINAL_BYTES, (sha256,))
            if rows and isinstance(data := rows[0][0], bytes):
                make_private_folder(local.parent)
                write_atomically(local, data, TEMP_PREFIX)
        return local

    def keep(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        self._run(sql_postgres.KEEP_ORIGINAL, (sha256, data))
        return sha256

    def has(self, sha256: str) -> bool:
        return bool(self._run(sql_postgres.HAS_ORIGINAL, (sha256,))[0][0])

    def remove(self, hashes: Iterable[str]) -> None:
        for sha256 in hashes:
            self._run(sql_postgres.REMOVE_ORIGINAL, (sha256,))
            super().path(sha256).unlink(missing_ok=True)

    def stored(self) -> set[str]:
        return {str(row[0]) for row in self._run(sql_postgres.ORIGINAL_HASHES, ())}

    def _run(self, statement: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        # A connection of its own: the store's may be inside another thread's transaction.
        db = PostgresConnection(self._url)
        try:
            cursor = db.execute(to_psycopg(statement), params)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            db.close()
