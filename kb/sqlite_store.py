"""The embedded store: one SQLite file in WAL mode, the source of truth."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kb import sql
from kb.errors import StoreError
from kb.integrity import store_problems
from kb.models import Chunk, Document, DocumentDraft, Filters
from kb.sqlite_connection import connect
from kb.store import Fingerprint, Ids, Vectors, WriteResult

DATABASE_NAME = "kb.sqlite"
GENERATION_KEY = "generation"


def _chunk(row: Sequence[Any]) -> Chunk:
    *fields, ocr = row
    return Chunk(*fields, ocr=bool(ocr))  # type: ignore[misc]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStore:
    """Documents, chunks, vectors and the FTS5 index in one SQLite database."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / DATABASE_NAME
        try:
            # One connection shared by the server's threads; the lock keeps each
            # transaction whole. Autocommit mode: transactions are explicit.
            self._db = connect(self.path, check_same_thread=False, isolation_level=None)
            for pragma in sql.PRAGMAS:
                self._db.execute(pragma)
            self._db.create_function(sql.FOLD_FUNCTION, 1, sql.fold, deterministic=True)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(sql.MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own, so the version bump rides in the script.
            self._db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(sql.GET_META, (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(sql.SET_META, (key, value))

    def generation(self) -> int:
        return int(self.get_meta(GENERATION_KEY) or 0)

    def _bump_generation(self) -> int:
        generation = self.generation() + 1
        self._db.execute(sql.SET_META, (GENERATION_KEY, str(generation)))
        return generation

    # -- writes -----------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def write_documents(
        self, drafts: Sequence[DocumentDraft], vectors: Sequence[Vectors]
    ) -> WriteResult:
        removed: list[int] = []
        added: list[int] = []
        now = utc_now()
        with self._transaction():
            for draft, matrix in zip(drafts, vectors, strict=True):
                removed.extend(self._delete_chunks(draft.document_id))
                self._db.execute(sql.UPSERT_DOCUMENT, _document_params(draft, now))
                for chunk, vector in zip(draft.chunks, matrix, strict=True):
                    cursor = self._db.execute(
                        sql.INSERT_CHUNK,
                        (
                            draft.document_id,
                            chunk.ordinal,
                            chunk.text,
                            chunk.heading,
                            chunk.page_start,
                            chunk.page_end,
                            chunk.char_start,
                            chunk.char_end,
                            int(chunk.ocr),
                        ),
                    )
                    chunk_id = int(cursor.lastrowid or 0)
                    self._db.execute(sql.INSERT_VECTOR, (chunk_id, _to_blob(vector)))
                    self._db.execute(
                        sql.INSERT_FTS, (chunk_id, draft.title, chunk.heading or "", chunk.text)
                    )
                    added.append(chunk_id)
            generation = self._bump_generation()
        return WriteResult(_ids(removed), _ids(added), generation)

    def _delete_chunks(self, document_id: str) -> list[int]:
        ids = [row[0] for row in self._db.execute(sql.CHUNK_IDS_OF_DOCUMENT, (document_id,))]
        self._db.executemany(sql.DELETE_FTS, ((i,) for i in ids))
        self._db.execute(sql.DELETE_CHUNKS_OF_DOCUMENT, (document_id,))
        return ids

    def update_document_fields(self, draft: DocumentDraft) -> None:
        with self._transaction():
            self._db.execute(sql.UPDATE_DOCUMENT_FIELDS, _document_params(draft, utc_now()))
            for (chunk_id,) in self._db.execute(sql.CHUNK_IDS_OF_DOCUMENT, (draft.document_id,)):
                self._db.execute(sql.UPDATE_FTS_TITLE, (draft.title, chunk_id))

    def delete_document(self, document_id: str) -> WriteResult:
        with self._transaction():
            removed = self._delete_chunks(document_id)
            self._db.execute(sql.DELETE_DOCUMENT, (document_id,))
            generation = self._bump_generation()
        return WriteResult(_ids(removed), _ids([]), generation)

    def replace_vectors(self, ids: Ids, vectors: Vectors) -> int:
        with self._transaction():
            self._db.executemany(
                sql.UPDATE_VECTOR,
                ((_to_blob(v), int(i)) for i, v in zip(ids, vectors, strict=True)),
            )
            return self._bump_generation()

    # -- reads ------------------------------------------------------------------------

    def _rows_for(self, template: str, keys: Sequence[Any]) -> list[Any]:
        """Rows of a `{marks}` query for many keys, a bounded number of keys per statement."""
        rows: list[Any] = []
        with self._lock:
            for start in range(0, len(keys), sql.MAX_KEYS_PER_QUERY):
                batch = list(keys[start : start + sql.MAX_KEYS_PER_QUERY])
                query = template.format(marks=", ".join("?" * len(batch)))
                rows.extend(self._db.execute(query, batch).fetchall())
        return rows

    def fingerprints(self, document_ids: Sequence[str]) -> dict[str, Fingerprint]:
        rows = self._rows_for(sql.FINGERPRINTS_BY_ID, list(dict.fromkeys(document_ids)))
        return {r[0]: Fingerprint(r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows}

    def get_document(self, document_id: str) -> Document | None:
        with self._lock:
            row = self._db.execute(sql.GET_DOCUMENT, (document_id,)).fetchone()
        return None if row is None else _document(row)

    def documents_by_id(self, document_ids: Sequence[str]) -> dict[str, Document]:
        rows = self._rows_for(sql.DOCUMENTS_BY_ID, list(dict.fromkeys(document_ids)))
        return {row[0]: _document(row) for row in rows}

    def list_documents(self, filters: Filters, limit: int, offset: int) -> list[Document]:
        where, params = sql.build_where(filters)
        with self._lock:
            rows = self._db.execute(
                sql.LIST_DOCUMENTS.format(where=where), {**params, "limit": limit, "offset": offset}
            ).fetchall()
        return [_document(row) for row in rows]

    def count_documents(self, filters: Filters) -> int:
        where, params = sql.build_where(filters)
        with self._lock:
            return int(
                self._db.execute(
                    sql.COUNT_FILTERED_DOCUMENTS.format(where=where), params
                ).fetchone()[0]
            )

    def chunks_of(self, document_id: str) -> list[Chunk]:
        with self._lock:
            return [_chunk(row) for row in self._db.execute(sql.CHUNKS_OF_DOCUMENT, (document_id,))]

    def chunks_by_id(self, chunk_ids: Sequence[int]) -> dict[int, Chunk]:
        rows = self._rows_for(sql.CHUNKS_BY_ID, [int(i) for i in dict.fromkeys(chunk_ids)])
        return {row[0]: _chunk(row) for row in rows}

    def vectors_of(self, chunk_ids: Sequence[int]) -> tuple[Ids, Vectors]:
        # Sorted keys, each batch ordered: the rows come back in chunk_id order overall.
        return _unpack(self._rows_for(sql.VECTORS_BY_ID, sorted({int(i) for i in chunk_ids})))

    def all_vectors(self, dimension: int) -> tuple[Ids, Vectors]:
        with self._lock:
            rows = self._db.execute(sql.ALL_VECTORS).fetchall()
        ids, vectors = _unpack(rows)
        return ids, vectors.reshape(len(ids), dimension)

    def iter_chunk_texts(self, batch: int) -> Iterator[list[tuple[int, str]]]:
        with self._lock:
            rows = self._db.execute(sql.ALL_CHUNK_TEXTS).fetchall()
        for start in range(0, len(rows), batch):
            yield [(int(r[0]), str(r[1])) for r in rows[start : start + batch]]

    def keyword_search(self, match: str, filters: Filters, limit: int) -> list[tuple[int, float]]:
        where, params = sql.build_where(filters)
        with self._lock:
            rows = self._db.execute(
                sql.KEYWORD_SEARCH.format(where=where), {**params, "match": match, "limit": limit}
            ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def filtered_chunk_ids(self, filters: Filters) -> Ids:
        where, params = sql.build_where(filters)
        with self._lock:
            rows = self._db.execute(sql.FILTERED_CHUNK_IDS.format(where=where), params).fetchall()
        return _ids([r[0] for r in rows])

    def metadata_values(self, longest: int) -> list[tuple[str, str, int]]:
        with self._lock:
            rows = self._db.execute(sql.METADATA_VALUES, {"longest": longest}).fetchall()
        return [(str(k), str(v), int(n)) for k, v, n in rows]

    def counts(self) -> tuple[int, int, dict[str, int]]:
        with self._lock:
            documents = int(self._db.execute(sql.COUNT_DOCUMENTS).fetchone()[0])
            chunks = int(self._db.execute(sql.COUNT_CHUNKS).fetchone()[0])
            by_type = {str(t): int(n) for t, n in self._db.execute(sql.COUNT_BY_TYPE)}
        return documents, chunks, by_type

    # -- maintenance ------------------------------------------------------------------

    def problems(self, dimension: int | None) -> list[str]:
        with self._lock:
            return store_problems(self._db, dimension)

    def vector_ids(self) -> Ids:
        with self._lock:
            return _ids([row[0] for row in self._db.execute(sql.VECTOR_IDS)])


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT under the store's lock; ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            self._db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()


def _document_params(draft: DocumentDraft, now: str) -> dict[str, Any]:
    return {
        "document_id": draft.document_id,
        "title": draft.title,
        "doc_type": draft.doc_type,
        "source_name": draft.source_name,
        "sha256": draft.sha256,
        "metadata": json.dumps(dict(draft.metadata), ensure_ascii=False, sort_keys=True),
        "date": draft.date,
        "now": now,
    }


def _document(row: sqlite3.Row | tuple[Any, ...]) -> Document:
    return Document(
        document_id=row[0],
        title=row[1],
        doc_type=row[2],
        source_name=row[3],
        sha256=row[4],
        metadata=json.loads(row[5]),
        date=row[6],
        created_at=row[7],
        updated_at=row[8],
        chunk_count=int(row[9]),
    )


def _to_blob(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _unpack(rows: list[tuple[int, bytes]]) -> tuple[Ids, Vectors]:
    ids = _ids([r[0] for r in rows])
    if not rows:
        return ids, np.zeros((0,), dtype=np.float32)
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return ids, vectors.reshape(len(rows), -1)


def _ids(values: Sequence[int]) -> Ids:
    return np.asarray(values, dtype=np.int64)
