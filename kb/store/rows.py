"""Rows to records and back, and the transaction every write of the SQLite store runs in."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kb.access import LEVELS
from kb.metadata.limits import loads_shown
from kb.models import Chunk, Document, DocumentDraft, Original
from kb.store.protocol import Ids, Vectors

# Only for drafts written without one; the KnowledgeBase always resolves it first.
DEFAULT_LEVEL = "internal"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def chunk_of(row: Sequence[Any]) -> Chunk:
    *fields, ocr = row
    return Chunk(*fields, ocr=bool(ocr))  # type: ignore[misc]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Transaction:
    """BEGIN ... COMMIT under the store's lock; ROLLBACK on any error."""

    def __init__(
        self, db: Any, lock: threading.RLock, begin: str | tuple[str, ...] = "BEGIN IMMEDIATE"
    ) -> None:
        self._db = db
        self._lock = lock
        self._begin = (begin,) if isinstance(begin, str) else begin

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            for statement in self._begin:
                self._db.execute(statement)
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            self._db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()


def document_params(draft: DocumentDraft, now: str, simhash: int | None = None) -> dict[str, Any]:
    return {
        "document_id": draft.document_id,
        "title": draft.title,
        "doc_type": draft.doc_type,
        "source_name": draft.source_name,
        "sha256": draft.sha256,
        "metadata": json.dumps(dict(draft.metadata), ensure_ascii=False, sort_keys=True),
        "date": draft.date,
        "now": now,
        "simhash": simhash,
        "classification": LEVELS.index(draft.classification or DEFAULT_LEVEL),
        "original_sha256": draft.original.sha256 if draft.original else None,
        "original_media_type": draft.original.media_type if draft.original else None,
        "original_name": draft.original.name if draft.original else None,
    }


def document_of(row: sqlite3.Row | tuple[Any, ...]) -> Document:
    return Document(
        document_id=row[0],
        title=row[1],
        doc_type=row[2],
        source_name=row[3],
        sha256=row[4],
        metadata=loads_shown(row[5]),
        date=row[6],
        created_at=row[7],
        updated_at=row[8],
        chunk_count=int(row[9]),
        version=int(row[10]),
        deleted_at=row[11],
        deleted_by=row[12],
        classification=LEVELS[int(row[13])],
        groups=tuple(sorted(json.loads(row[14]))),
        original=original_of(row[15:18]),
    )


def original_of(columns: Sequence[Any]) -> Original | None:
    """The original named by (sha256, media type, name) columns; None where none was kept."""
    sha256, media_type, name = columns
    return None if sha256 is None else Original(sha256, media_type, name)


def to_blob(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def unpack(rows: list[tuple[int, bytes]]) -> tuple[Ids, Vectors]:
    ids = ids_of([r[0] for r in rows])
    if not rows:
        return ids, np.zeros((0,), dtype=np.float32)
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return ids, vectors.reshape(len(rows), -1)


def ids_of(values: Sequence[int]) -> Ids:
    return np.asarray(values, dtype=np.int64)


def fields_of_draft(draft: DocumentDraft) -> dict[str, Any]:
    """A document's fields as the audit log records them."""
    return {
        "title": draft.title,
        "doc_type": draft.doc_type,
        "date": draft.date,
        "metadata": dict(draft.metadata),
        "sha256": draft.sha256,
        "classification": draft.classification,
        "groups": sorted(draft.groups or ()),
    }
