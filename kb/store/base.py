"""The SQLite store's foundation: the connection, migrations, meta values and transactions."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from kb.access import LEVELS
from kb.errors import StoreError
from kb.files import make_private_folder
from kb.jobs import Clock
from kb.metadata.limits import loads_shown
from kb.models import DocumentDraft
from kb.store.original_files import OriginalFiles
from kb.store.protocol import Ids, Vectors
from kb.store.readers import Readers, open_reader
from kb.store.rows import Transaction, dumps, to_blob, unpack, utc_now
from kb.store.sqlite import (
    sql,
    sql_checks,
    sql_facets,
    sql_history,
    sql_jobs,
    sql_keyword,
    sql_originals,
    sql_packs,
)
from kb.store.sqlite.connection import connect

DATABASE_NAME = "kb.sqlite"
GENERATION_KEY = "generation"


class SQLiteBase:
    """The connection: opening and migrating, meta values, the generation, transactions.

    The store's logic reads its statements through these modules; the PostgreSQL backend
    (`kb.store.postgres.store`) runs the same logic with its own dialect's modules and connection.
    """

    _sql: ModuleType = sql
    _sql_history: ModuleType = sql_history
    _sql_packs: ModuleType = sql_packs
    _sql_keyword: ModuleType = sql_keyword
    _sql_originals: ModuleType = sql_originals
    _sql_facets: ModuleType = sql_facets
    _sql_checks: ModuleType = sql_checks
    _sql_jobs: ModuleType = sql_jobs

    def __init__(self, folder: Path, readers: int = 2, clock: Clock = time.time) -> None:
        """Open (creating and migrating) the store in `folder`; `readers`: connections that
        searches read through side by side (`Settings.readers`); `clock`: the ingest queue's
        time (its leases)."""
        # Owner only: the store holds confidential text, whatever the API enforces.
        make_private_folder(folder)
        self.folder = folder
        self.path = folder / DATABASE_NAME
        try:
            # One connection shared by the server's threads; the lock keeps each
            # transaction whole. Autocommit mode: transactions are explicit.
            self._db = connect(self.path, check_same_thread=False, isolation_level=None)
            for pragma in self._sql.PRAGMAS:
                self._db.execute(pragma)
            self._db.create_function(self._sql.FOLD_FUNCTION, 1, self._sql.fold, deterministic=True)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._readers = Readers(partial(open_reader, self.path), readers)
        self.originals = OriginalFiles(folder)
        self._clock = clock

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(self._sql.MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own, so the version bump rides in the script.
            self._db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    def close(self) -> None:
        self._readers.close()
        with self._lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(self._sql.GET_META, (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(self._sql.SET_META, (key, value))

    def generation(self) -> int:
        # On a reader, not the writer connection: a search asks several times, and would wait
        # behind a whole write transaction holding the writer (readers see the last commit).
        with self._readers.borrow() as db:
            row = db.execute(self._sql.GET_META, (GENERATION_KEY,)).fetchone()
        return 0 if row is None else int(row[0])

    def _bump_generation(self) -> int:
        """Callers are inside a write transaction, on the writer connection."""
        row = self._db.execute(self._sql.GET_META, (GENERATION_KEY,)).fetchone()
        generation = (0 if row is None else int(row[0])) + 1
        self._db.execute(self._sql.SET_META, (GENERATION_KEY, str(generation)))
        return generation

    # -- what differs between dialects beyond their statements ------------------------

    @staticmethod
    def _vector_param(vector: Vectors) -> Any:
        return to_blob(vector)

    @staticmethod
    def _unpack(rows: list[Any]) -> tuple[Ids, Vectors]:
        return unpack(rows)

    @staticmethod
    def _inserted_id(cursor: Any) -> int:
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _match(expression: str) -> str:
        """The keyword match as the dialect's statements take it (kb.keywords.query builds
        FTS5's)."""
        return expression

    # -- writes -----------------------------------------------------------------------

    def _transaction(self) -> Transaction:
        return Transaction(self._db, self._lock, self._sql.BEGIN)

    def _rows_for(self, template: str, keys: Sequence[Any]) -> list[Any]:
        """Rows of a `{marks}` query for many keys, a bounded number of keys per statement."""
        with self._lock:
            return _rows_in_batches(self._db, template, keys)

    def _read_rows_for(self, template: str, keys: Sequence[Any]) -> list[Any]:
        """As `_rows_for`, on a reader: committed rows only, beside other searches."""
        with self._readers.borrow() as db:
            return _rows_in_batches(db, template, keys)

    def _delete_chunks(self, document_id: str) -> list[int]:
        ids = [row[0] for row in self._db.execute(self._sql.CHUNK_IDS_OF_DOCUMENT, (document_id,))]
        self._db.executemany(self._sql.DELETE_FTS, ((i,) for i in ids))
        self._db.execute(self._sql.DELETE_CHUNKS_OF_DOCUMENT, (document_id,))
        return ids

    def _fields_of(self, document_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored fields of these documents (trashed ones too), as the audit log records them."""
        rows = self._rows_for(self._sql_history.FIELDS_BY_ID, list(dict.fromkeys(document_ids)))
        return {
            r[0]: {
                "title": r[1],
                "doc_type": r[2],
                "date": r[3],
                "metadata": loads_shown(r[4]),
                "sha256": r[5],
                "version": r[6],
                "classification": LEVELS[int(r[7])],
                "groups": sorted(json.loads(r[8])),
            }
            for r in rows
        }

    def _audit(
        self,
        actor: str,
        action: str,
        document_id: str | None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        """Record a change; called inside the change's own transaction, so both or neither."""
        self._db.execute(
            self._sql_history.INSERT_AUDIT,
            {
                "at": utc_now(),
                "actor": actor,
                "action": action,
                "document_id": document_id,
                "before": None if before is None else dumps(before),
                "after": None if after is None else dumps(after),
                "detail": detail,
            },
        )

    # -- original files ---------------------------------------------------------------

    def _keep_originals(self, drafts: Sequence[DocumentDraft]) -> None:
        """Write the drafts' files into place; called before the transaction that names them."""
        for draft in drafts:
            if draft.original is None or draft.original_bytes is None:
                continue
            sha256 = self.originals.keep(draft.original_bytes)
            if sha256 != draft.original.sha256:
                raise StoreError(
                    f"{draft.original.name}: its bytes do not match the hash it was read with"
                )

    def _originals_of(self, document_id: str) -> set[str]:
        rows = self._db.execute(self._sql_originals.ORIGINALS_OF, {"id": document_id})
        return {str(row[0]) for row in rows}

    def _drop_unreferenced(self, hashes: set[str]) -> None:
        """Remove the files among these that no document or version names any more; called
        after the transaction that dropped the names (a crash between leaves an orphan)."""
        with self._lock:
            query = self._sql_originals.IS_REFERENCED
            unused = [
                sha
                for sha in sorted(hashes)
                if not self._db.execute(query, {"sha": sha}).fetchone()[0]
            ]
        self.originals.remove(unused)

    def original_path(self, sha256: str) -> Path | None:
        """Where the original file with this hash is, if it is there."""
        path = self.originals.path(sha256)
        return path if path.is_file() else None

    def original_files(self) -> tuple[list[str], list[str]]:
        """Hashes named by documents or versions whose file is missing, and files no document
        or version names (orphans: left by a crash between a file's write and its commit)."""
        with self._lock:
            named = {str(row[0]) for row in self._db.execute(self._sql_originals.REFERENCED)}
        stored = self.originals.stored()
        return sorted(named - stored), sorted(stored - named)


def _rows_in_batches(db: sqlite3.Connection, template: str, keys: Sequence[Any]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(keys), sql.MAX_KEYS_PER_QUERY):
        batch = list(keys[start : start + sql.MAX_KEYS_PER_QUERY])
        query = template.format(marks=", ".join("?" * len(batch)))
        rows.extend(db.execute(query, batch).fetchall())
    return rows
