"""The PostgreSQL dialect: one shared database (`KB_DATABASE_URL`), pgvector for vectors, a
tsvector per passage for keywords, original files in the database. Its statements are
`kb.store.postgres.sql`, `sql_history` and `sql_jobs`; its migrations `sql_schema`."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from kb.errors import StoreError
from kb.files import make_private_folder
from kb.models import Filters
from kb.store.dialect import (
    CheckStatements,
    Connection,
    CoreStatements,
    FacetStatements,
    HistoryStatements,
    JobStatements,
    KeywordStatements,
    PackStatements,
)
from kb.store.original_files import OriginalFiles
from kb.store.postgres import sql, sql_history, sql_jobs
from kb.store.postgres import sql_schema as schema
from kb.store.postgres.connection import PostgresConnection, to_psycopg
from kb.store.postgres.originals import DatabaseOriginals
from kb.store.protocol import Ids, Vectors
from kb.store.rows import Transaction, ids_of
from kb.store.sql_filters import build_where

# An FTS5 expression as kb.keywords.query and kb.keywords.selectivity build them: quoted words
# or phrases, AND, OR and parentheses.
_FTS5_TOKEN = re.compile(r'"((?:[^"]|"")*)"|\bAND\b|\bOR\b|\(|\)')


class PostgresDialect:
    """The database at `url`; `folder` holds this machine's caches and copies of originals."""

    core: CoreStatements = sql
    history: HistoryStatements = sql_history
    packs: PackStatements = sql
    keyword: KeywordStatements = sql
    facets: FacetStatements = sql
    checks: CheckStatements = sql
    jobs: JobStatements = sql_jobs

    begin: tuple[str, ...] = sql.BEGIN
    integrity_errors: tuple[type[Exception], ...] = (psycopg.IntegrityError,)

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def open(self) -> Connection:
        make_private_folder(self.folder)
        db = PostgresConnection(self.url)
        try:
            migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def open_reader(self) -> Connection:
        return PostgresConnection(self.url)

    def open_originals(self, folder: Path) -> OriginalFiles:
        return DatabaseOriginals(self.url, folder)

    def prepare(self, statement: str) -> str:
        return to_psycopg(statement)

    def bump_generation(self, db: Connection) -> int:
        # One statement: two writers in their own transactions never get the same number
        # (the row lock queues the second until the first commits).
        return int(db.execute(to_psycopg(sql.BUMP_GENERATION), ()).fetchone()[0])

    def build_where(self, filters: Filters, live: bool | None = True) -> tuple[str, dict[str, Any]]:
        return build_where(filters, live, sql.POSTGRES_FILTERS)

    def vector_param(self, vector: Vectors) -> Any:
        return vector_text(vector)

    def unpack(self, rows: Sequence[Any]) -> tuple[Ids, Vectors]:
        ids = ids_of([r[0] for r in rows])
        if not rows:
            return ids, np.zeros((0,), dtype=np.float32)
        # Each row: pgvector's 4-byte header (dimension, unused), then its big-endian floats.
        packed = np.frombuffer(b"".join(r[1] for r in rows), dtype=">f4")
        return ids, packed.reshape(len(rows), -1)[:, 1:].astype(np.float32)

    def inserted_id(self, cursor: Any) -> int:
        # The inserts end in RETURNING their id.
        return int(cursor.fetchone()[0])

    def match(self, expression: str) -> str:
        return tsquery_text(expression)


def migrate(db: Connection) -> None:
    """Run the migrations the database has not had yet, each in one transaction with the bump
    of schema_version; two servers starting at once take turns (the advisory lock)."""
    with Transaction(db, threading.RLock(), sql.BEGIN):
        db.execute(schema.MIGRATION_LOCK)
        db.execute(schema.CREATE_VERSION_TABLE)
        version = int(db.execute(schema.SCHEMA_VERSION).fetchone()[0])
        if version > len(schema.MIGRATIONS):
            raise StoreError(
                f"the database is at schema version {version}, newer than this program "
                f"knows ({len(schema.MIGRATIONS)}): upgrade Precedent"
            )
        for number, script in enumerate(schema.MIGRATIONS[version:], start=version + 1):
            db.execute(script, None)
            db.execute(to_psycopg(schema.SET_SCHEMA_VERSION), (number,))


def vector_text(vector: Vectors) -> str:
    """A vector in pgvector's text form ('[0.1,0.2,...]'): float32 values written exactly."""
    return "[" + ",".join(repr(float(v)) for v in np.asarray(vector, dtype=np.float32)) + "]"


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
