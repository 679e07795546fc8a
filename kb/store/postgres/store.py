"""The PostgreSQL store: the same store logic as SQLite's, on a shared PostgreSQL database.

Chosen by `KB_DATABASE_URL=postgresql://...`. Documents, passages, vectors (pgvector), the
keyword index (a tsvector per passage, ranked by ts_rank), history, packs and the keyword
log all live in the database, so any number of processes on any machines share one store.
The logic is `kb.store.sql_store`'s; what differs is the dialect (`kb.store.postgres.sql`), the
connections (`kb.store.postgres.connection`) and the few hooks below.
"""

from __future__ import annotations

import re
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import StoreError
from kb.files import make_private_folder
from kb.jobs import Clock
from kb.store.postgres import sql as sql_postgres
from kb.store.postgres import sql_history as sql_postgres_history
from kb.store.postgres import sql_jobs as sql_postgres_jobs
from kb.store.postgres import sql_schema as schema
from kb.store.postgres.connection import PostgresConnection
from kb.store.postgres.originals import DatabaseOriginals
from kb.store.protocol import Ids, Vectors
from kb.store.readers import Readers
from kb.store.rows import ids_of
from kb.store.sql_store import SQLiteStore

# An FTS5 expression as kb.keywords.query and kb.keywords.selectivity build them: quoted words or
# phrases,
# AND, OR and parentheses.
_FTS5_TOKEN = re.compile(r'"((?:[^"]|"")*)"|\bAND\b|\bOR\b|\(|\)')


def vector_text(vector: Vectors) -> str:
    """A vector in pgvector's text form ('[0.1,0.2,...]'): float32 values written exactly."""
    return "[" + ",".join(repr(float(v)) for v in np.asarray(vector, dtype=np.float32)) + "]"


class PostgresStore(SQLiteStore):
    """Documents, passages, vectors and the keyword index in one PostgreSQL database."""

    _sql = sql_postgres
    _sql_history = sql_postgres_history
    _sql_packs = sql_postgres
    _sql_keyword = sql_postgres
    _sql_originals = sql_postgres
    _sql_facets = sql_postgres
    _sql_checks = sql_postgres
    _sql_jobs = sql_postgres_jobs

    def __init__(self, url: str, folder: Path, readers: int = 2, clock: Clock = time.time) -> None:
        """Open (migrating) the database at `url`; `folder` holds this machine's caches and
        the kept original files; `clock`: the ingest queue's time (its leases)."""
        make_private_folder(folder)
        self.url = url
        self.folder = folder  # this machine's part of the store: caches, copies of originals
        self._db = PostgresConnection(url)  # type: ignore[assignment]
        self._lock = threading.RLock()
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        self._readers = Readers(partial(PostgresConnection, url), readers)
        self.originals = DatabaseOriginals(url, folder)
        self._clock = clock

    def _migrate(self) -> None:
        with self._transaction():
            self._db.execute(schema.MIGRATION_LOCK)
            self._db.execute(schema.CREATE_VERSION_TABLE)
            version = int(self._db.execute(schema.SCHEMA_VERSION).fetchone()[0])
            if version > len(schema.MIGRATIONS):
                raise StoreError(
                    f"the database is at schema version {version}, newer than this program "
                    f"knows ({len(schema.MIGRATIONS)}): upgrade Precedent"
                )
            for number, script in enumerate(schema.MIGRATIONS[version:], start=version + 1):
                self._db.execute(script, None)
                self._db.execute(schema.SET_SCHEMA_VERSION, (number,))

    def _bump_generation(self) -> int:
        # One statement: two writers in their own transactions never get the same number
        # (the row lock queues the second until the first commits).
        return int(self._db.execute(sql_postgres.BUMP_GENERATION).fetchone()[0])

    @staticmethod
    def _vector_param(vector: Vectors) -> Any:
        return vector_text(vector)

    @staticmethod
    def _unpack(rows: list[Any]) -> tuple[Ids, Vectors]:
        ids = ids_of([r[0] for r in rows])
        if not rows:
            return ids, np.zeros((0,), dtype=np.float32)
        # Each row: pgvector's 4-byte header (dimension, unused), then its big-endian floats.
        packed = np.frombuffer(b"".join(r[1] for r in rows), dtype=">f4")
        return ids, packed.reshape(len(rows), -1)[:, 1:].astype(np.float32)

    @staticmethod
    def _inserted_id(cursor: Any) -> int:
        return int(cursor.fetchone()[0])

    @staticmethod
    def _match(expression: str) -> str:
        return tsquery_text(expression)


def tsquery_text(expression: str) -> str:
    """An FTS5 expression as a to_tsquery text: each quoted word or phrase a quoted operand
    (a phrase becomes words that follow each other), AND as &, OR as |."""
    parts = []
    for match in _FTS5_TOKEN.finditer(expression):
        token = match.group(0)
        if match.group(1) is not None:
            words = match.group(1).replace('""', '"')
            parts.append("'" + words.replace("\\", " ").replace("'", "''") + "'")
        else:
            parts.append({"AND": "&", "OR": "|"}.get(token, token))
    return " ".join(parts)
