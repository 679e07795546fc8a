"""The SQLite dialect: one file in WAL mode in the store's folder, FTS5 for keywords, vectors as
float32 blobs. Its statements are `kb.store.sqlite.sql` and the modules beside it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.errors import StoreError
from kb.files import make_private_folder
from kb.models import Filters
from kb.store import sql_common as common
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
from kb.store.protocol import Ids, Vectors
from kb.store.rows import to_blob, unpack
from kb.store.sql_filters import FOLD_FUNCTION, build_where, fold
from kb.store.sqlite import (
    sql,
    sql_checks,
    sql_facets,
    sql_history,
    sql_jobs,
    sql_keyword,
    sql_packs,
)
from kb.store.sqlite.connection import connect, open_reader

DATABASE_NAME = "kb.sqlite"


class SQLiteDialect:
    """The SQLite file `folder`/kb.sqlite."""

    core: CoreStatements = sql
    history: HistoryStatements = sql_history
    packs: PackStatements = sql_packs
    keyword: KeywordStatements = sql_keyword
    facets: FacetStatements = sql_facets
    checks: CheckStatements = sql_checks
    jobs: JobStatements = sql_jobs

    # BEGIN IMMEDIATE: SQLite takes the write lock at once, not at the first write.
    begin: tuple[str, ...] = (sql.BEGIN,)
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DATABASE_NAME

    def open(self) -> Connection:
        # Owner only: the store holds confidential text, whatever the API enforces.
        make_private_folder(self.folder)
        try:
            # Shared by the server's threads (the store's lock keeps each transaction whole).
            # Autocommit mode: transactions are explicit.
            db = connect(self.path, check_same_thread=False, isolation_level=None)
            for pragma in sql.PRAGMAS:
                db.execute(pragma)
            db.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
            migrate(db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        return db

    def open_reader(self) -> Connection:
        return open_reader(self.path)

    def open_originals(self, folder: Path) -> OriginalFiles:
        return OriginalFiles(folder)

    def prepare(self, statement: str) -> str:
        # The neutral placeholders are SQLite's own.
        return statement

    def bump_generation(self, db: Connection) -> int:
        row = db.execute(common.GET_META, (common.GENERATION_KEY,)).fetchone()
        generation = (0 if row is None else int(row[0])) + 1
        db.execute(common.SET_META, (common.GENERATION_KEY, str(generation)))
        return generation

    def build_where(self, filters: Filters, live: bool | None = True) -> tuple[str, dict[str, Any]]:
        return build_where(filters, live)

    def vector_param(self, vector: Vectors) -> Any:
        return to_blob(vector)

    def unpack(self, rows: Sequence[Any]) -> tuple[Ids, Vectors]:
        return unpack(list(rows))

    def inserted_id(self, cursor: Any) -> int:
        return int(cursor.lastrowid or 0)

    def match(self, expression: str) -> str:
        # kb.keywords.query builds FTS5's expressions: SQLite takes them as they are.
        return expression


def migrate(db: sqlite3.Connection) -> None:
    """Run the migrations the file has not had yet; PRAGMA user_version counts them."""
    version = db.execute(sql_checks.USER_VERSION).fetchone()[0]
    for number, script in enumerate(sql.MIGRATIONS[version:], start=version + 1):
        # executescript commits on its own, so the version bump rides in the script.
        db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
