"""The store's foundation on any dialect: connections, meta values, the generation, transactions,
the audit, and the original files."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kb.access import LEVELS
from kb.errors import StoreError
from kb.jobs import Clock
from kb.metadata.limits import loads_shown
from kb.models import DocumentDraft
from kb.store import sql_common as common
from kb.store import sql_history
from kb.store.dialect import Connection, Cursor, Dialect
from kb.store.readers import Readers
from kb.store.rows import Transaction, dumps, utc_now


class SQLBase:
    """The connections: the writer (one, shared by the server's threads, the lock keeping each
    transaction whole) and a pool of readers; meta values, the generation, transactions.

    Every statement runs through `_run` (the writer), `_run_many` or `_read` (a borrowed
    reader), which pass it through the dialect's `prepare`.
    """

    def __init__(
        self, dialect: Dialect, folder: Path, readers: int = 2, clock: Clock = time.time
    ) -> None:
        """Open (creating and migrating) the store the dialect names; `folder`: this machine's
        part of it (caches, original files); `readers`: connections that searches read through
        side by side (`Settings.readers`); `clock`: the ingest queue's time (its leases)."""
        self._dialect = dialect
        self.folder = folder
        self._db: Connection = dialect.open()
        self._lock = threading.RLock()
        self._readers = Readers(dialect.open_reader, readers)
        self.originals = dialect.open_originals(folder)
        self._clock = clock

    def close(self) -> None:
        self._readers.close()
        with self._lock:
            self._db.close()

    # -- running statements -----------------------------------------------------------

    def _run(self, statement: str, params: Any = ()) -> Cursor:
        """On the writer; callers hold the lock (or are inside a transaction)."""
        cursor: Cursor = self._db.execute(self._dialect.prepare(statement), params)
        return cursor

    def _run_many(self, statement: str, params: Any) -> Cursor:
        cursor: Cursor = self._db.executemany(self._dialect.prepare(statement), params)
        return cursor

    def _read(self, db: Connection, statement: str, params: Any = ()) -> Cursor:
        """On `db`: a reader borrowed from `self._readers`, or the writer under the lock."""
        cursor: Cursor = db.execute(self._dialect.prepare(statement), params)
        return cursor

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._run(common.GET_META, (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._run(common.SET_META, (key, value))

    def generation(self) -> int:
        # On a reader, not the writer connection: a search asks several times, and would wait
        # behind a whole write transaction holding the writer (readers see the last commit).
        with self._readers.borrow() as db:
            row = self._read(db, common.GET_META, (common.GENERATION_KEY,)).fetchone()
        return 0 if row is None else int(row[0])

    def _bump_generation(self) -> int:
        """Callers are inside a write transaction, on the writer connection."""
        return self._dialect.bump_generation(self._db)

    # -- writes -----------------------------------------------------------------------

    def _transaction(self) -> Transaction:
        return Transaction(self._db, self._lock, self._dialect.begin)

    def _rows_for(self, template: str, keys: Sequence[Any]) -> list[Any]:
        """Rows of a `{marks}` query for many keys, a bounded number of keys per statement."""
        with self._lock:
            return self._rows_in_batches(self._db, template, keys)

    def _read_rows_for(self, template: str, keys: Sequence[Any]) -> list[Any]:
        """As `_rows_for`, on a reader: committed rows only, beside other searches."""
        with self._readers.borrow() as db:
            return self._rows_in_batches(db, template, keys)

    def _rows_in_batches(self, db: Connection, template: str, keys: Sequence[Any]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(keys), common.MAX_KEYS_PER_QUERY):
            batch = list(keys[start : start + common.MAX_KEYS_PER_QUERY])
            query = template.format(marks=", ".join("?" * len(batch)))
            rows.extend(self._read(db, query, batch).fetchall())
        return rows

    def _delete_chunks(self, document_id: str) -> list[int]:
        ids = [row[0] for row in self._run(common.CHUNK_IDS_OF_DOCUMENT, (document_id,))]
        self._run_many(common.DELETE_FTS, ((i,) for i in ids))
        self._run(common.DELETE_CHUNKS_OF_DOCUMENT, (document_id,))
        return ids

    def _fields_of(self, document_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored fields of these documents (trashed ones too), as the audit log records them."""
        rows = self._rows_for(self._dialect.history.FIELDS_BY_ID, list(dict.fromkeys(document_ids)))
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
        self._run(
            sql_history.INSERT_AUDIT,
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
        rows = self._run(common.ORIGINALS_OF, {"id": document_id})
        return {str(row[0]) for row in rows}

    def _drop_unreferenced(self, hashes: set[str]) -> None:
        """Remove the files among these that no document or version names any more; called
        after the transaction that dropped the names (a crash between leaves an orphan)."""
        with self._lock:
            query = common.IS_REFERENCED
            unused = [
                sha for sha in sorted(hashes) if not self._run(query, {"sha": sha}).fetchone()[0]
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
            named = {str(row[0]) for row in self._run(common.REFERENCED)}
        stored = self.originals.stored()
        return sorted(named - stored), sorted(stored - named)
