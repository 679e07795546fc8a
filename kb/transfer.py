"""Moving an embedded store into PostgreSQL (`kb migrate`): every row with its ids, in one
transaction, then the same searches asked of both to show that nothing changed.

The target database must be empty. A failure anywhere rolls the whole copy back, so the
database is left as it was and the embedded store is never written.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from kb.errors import InvalidRequestError, StoreError
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.store import sql_common, sql_transfer
from kb.store.original_files import OriginalFiles
from kb.store.postgres import sql as sql_postgres
from kb.store.postgres.connection import redact, to_psycopg
from kb.store.postgres.dialect import vector_text
from kb.store.postgres.store import PostgresStore
from kb.store.sqlite.dialect import DATABASE_NAME
from kb.store.sqlite.store import SQLiteStore
from kb.vectors.index import VECTORS_KEY

Progress = Callable[[str, int], None]
BATCH = 2_000


@dataclass(frozen=True)
class TransferReport:
    source: str
    destination: str
    rows: dict[str, int]  # table -> rows copied (every one the source held)
    originals: int  # original files copied into the database
    searches: int = 0  # searches asked of both stores...
    same_results: int = 0  # ...that gave the same documents in the same order
    differences: list[str] = field(default_factory=list)


def transfer_store(
    source: Path, url: str, folder: Path, progress: Progress | None = None
) -> TransferReport:
    """Copy the embedded store in `source` into the empty PostgreSQL database at `url`, whose
    local caches and original files go to `folder`."""
    path = source / DATABASE_NAME
    if not path.is_file():
        raise InvalidRequestError(f"no store at {source} (no {DATABASE_NAME} there)")
    SQLiteStore(source).close()  # brings an older store's schema up to date first
    PostgresStore(url, folder).close()  # the same for the database's
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with psycopg.connect(url) as target:
            if target.execute(sql_transfer.OCCUPIED).fetchone() != (0,):
                raise InvalidRequestError(
                    f"the database at {redact(url)} already holds a store; migrate into an "
                    "empty one"
                )
            reader.execute("BEGIN")  # one snapshot of the source, however long the copy
            rows = {t: _copy_table(reader, target, t, c, progress) for t, c in sql_transfer.TABLES}
            target.execute(sql_transfer.FILL_KEYWORD_INDEX)
            _continue_identities(reader, target)
            # A stamp of its own: no cache of the embedded store is ever taken for this one's.
            target.execute(to_psycopg(sql_common.SET_META), (VECTORS_KEY, uuid.uuid4().hex))
            target.execute(sql_postgres.BUMP_GENERATION)
            copied = _copy_originals(reader, source, target)
            target.commit()
    except (sqlite3.Error, psycopg.Error) as exc:
        raise StoreError(
            f"migrating {source} to {redact(url)} failed, nothing was kept: {exc}"
        ) from exc
    finally:
        reader.close()
    return TransferReport(str(source), redact(url), rows, copied)


def source_rows(source: Path) -> int:
    """Rows the migration of the store in `source` copies (for a progress bar)."""
    with sqlite3.connect(f"file:{source / DATABASE_NAME}?mode=ro", uri=True) as reader:
        return sum(
            int(reader.execute(sql_transfer.COUNT_TABLE.format(table=t)).fetchone()[0])
            for t, _ in sql_transfer.TABLES
        )


def _copy_table(
    reader: sqlite3.Connection,
    target: psycopg.Connection,
    table: str,
    columns: str,
    progress: Progress | None,
) -> int:
    query = sql_transfer.READ_TABLE.format(table=table, columns=columns)
    count = 0
    with target.cursor().copy(sql_transfer.COPY_INTO.format(table=table, columns=columns)) as copy:
        cursor = reader.execute(query)
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                copy.write_row(_vector_row(row) if table == "vectors" else row)
            count += len(batch)
            if progress is not None:
                progress(table, len(batch))
    return count


def _vector_row(row: Sequence[object]) -> tuple[object, str]:
    chunk_id, blob = row
    assert isinstance(blob, bytes)
    return chunk_id, vector_text(np.frombuffer(blob, dtype=np.float32))


def _continue_identities(reader: sqlite3.Connection, target: psycopg.Connection) -> None:
    for table, column in sql_transfer.IDENTITIES:
        ever = int(reader.execute(sql_transfer.HIGHEST_EVER, (table,)).fetchone()[0])
        row = target.execute(sql_transfer.HIGHEST.format(table=table, column=column)).fetchone()
        start = max(ever, int(row[0]) if row else 0) + 1
        target.execute(
            sql_transfer.RESTART_IDENTITY.format(table=table, column=column, start=start)
        )


def _copy_originals(reader: sqlite3.Connection, source: Path, target: psycopg.Connection) -> int:
    """Into the database, in the copy's transaction; a file missing from the source is left
    out (as `kb check` would have reported it there)."""
    files = OriginalFiles(source)
    copied = 0
    for (sha256,) in reader.execute(sql_common.REFERENCED):
        path = files.path(str(sha256))
        if path.is_file():
            target.execute(to_psycopg(sql_postgres.KEEP_ORIGINAL), (sha256, path.read_bytes()))
            copied += 1
    return copied


def compare_searches(
    before: KnowledgeBase, after: KnowledgeBase, report: TransferReport, most: int = 20
) -> TransferReport:
    """Ask both stores the same searches (the titles of up to `most` documents, hybrid) and
    count those whose ranked documents are the same."""
    titles = [d.title for d in before.store.list_documents(Filters(), most, 0)]
    differences = []
    for title in titles:
        request = SearchRequest(title, mode="hybrid", limit=10)
        old = [r.document_id for r in before.search(request).results]
        new = [r.document_id for r in after.search(request).results]
        if old != new:
            differences.append(f"{title!r}: {old} before, {new} after")
    return TransferReport(
        report.source,
        report.destination,
        report.rows,
        report.originals,
        searches=len(titles),
        same_results=len(titles) - len(differences),
        differences=differences,
    )
