"""Online backup and restore of a store, with SQLite's backup API.

A backup is a store folder of its own (`kb --store BACKUP search ...` works on it): the SQLite
file, copied in one step of the backup API so it is one consistent snapshot even while
other processes read and write, plus a `backup.json` manifest. The FAISS cache is not
copied: it is rebuilt from the stored vectors on first use.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kb.errors import InvalidRequestError, StoreError
from kb.files import make_private_folder, write_atomically
from kb.knowledge_base import MODEL_KEY
from kb.store import sql_common
from kb.store.lock import WriterLock
from kb.store.original_files import OriginalFiles
from kb.store.sql_common import GENERATION_KEY
from kb.store.sqlite import sql, sql_checks
from kb.store.sqlite.connection import busy_error, connect, is_busy
from kb.store.sqlite.dialect import DATABASE_NAME
from kb.store.sqlite.store import SQLiteStore
from kb.vectors.index import VECTORS_KEY
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME

MANIFEST_NAME = "backup.json"
PARTIAL_SUFFIX = ".partial"
REQUIRED_TABLES = frozenset({"meta", "documents", "chunks", "vectors", "chunks_fts"})
BUSY_MS = 30_000


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore copied."""

    source: str
    destination: str
    documents: int
    chunks: int
    generation: int
    model: str | None
    created_at: str
    originals: int = 0  # original files copied with it (or already there)


def backup_store(store: Path, destination: Path, *, force: bool = False) -> BackupReport:
    """Copy the store in `store` to the folder `destination`, consistently, while it is in use.

    Args:
        force: replace a store already in `destination`.
    """
    source = _store_file(store)
    make_private_folder(destination)
    target = destination / DATABASE_NAME
    if target.exists() and not force:
        raise InvalidRequestError(
            f"{destination} already holds a store; pass --force to overwrite it"
        )
    partial = destination / (DATABASE_NAME + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    # Written beside its final name and renamed when whole, so a crash leaves no half backup.
    _copy(source, partial)
    report = _describe(partial, store, destination, read_only=False)
    # The files the snapshot names, before it is renamed into place: a backup never names a
    # file it lacks (one purged meanwhile is simply not copied, and the count says so).
    copied = OriginalFiles(destination).copy_from(
        OriginalFiles(store), _named(partial, read_only=False)
    )
    report = replace(report, originals=copied)
    _drop_sidecars(destination)
    os.replace(partial, target)
    manifest = json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n"
    write_atomically(destination / MANIFEST_NAME, manifest.encode(), ".backup-")
    return report


def restore_store(
    source: Path, store: Path, *, wait_seconds: float, force: bool = False
) -> BackupReport:
    """Replace the store in `store` with the backup (or store) at `source`.

    Holds the store's writer lock meanwhile. Readers already open see the restored store at
    their next query.

    Args:
        source: a backup folder, a store folder, or its `kb.sqlite` file.
        force: replace a store that holds documents.
    """
    source_file = source / DATABASE_NAME if source.is_dir() else source
    report = _describe(source_file, source, store)
    if source_file.resolve() == (store / DATABASE_NAME).resolve():
        raise InvalidRequestError(f"{source} is the store itself; restore from a backup")
    with WriterLock(store, wait_seconds).hold():
        target_file = store / DATABASE_NAME
        before = _describe(target_file, source, store) if target_file.exists() else None
        if before is not None and before.documents and not force:
            raise InvalidRequestError(
                f"the store at {store} holds {before.documents} documents; "
                "pass --force to replace them with the backup"
            )
        # Files first, then the rows that name them.
        copied = OriginalFiles(store).copy_from(
            OriginalFiles(source_file.parent), _named(source_file)
        )
        # Into the live file through SQLite, not by renaming files under open connections.
        _copy(source_file, target_file)
        # A generation the old store never had, so every reader drops its cached index.
        generation = max(report.generation, before.generation if before else 0) + 1
        db = connect(target_file, isolation_level=None)  # autocommit: the write sticks
        try:
            db.execute(sql_common.SET_META, (GENERATION_KEY, str(generation)))
            # Other vectors may now sit under ids an open reader's index holds: not caught up.
            db.execute(sql_common.SET_META, (VECTORS_KEY, uuid.uuid4().hex))
        finally:
            db.close()
        for name in (INDEX_NAME, HEADER_NAME):
            (store / name).unlink(missing_ok=True)
        SQLiteStore(store).close()  # runs the migrations a backup from an older version lacks
    return BackupReport(**{**asdict(report), "generation": generation, "originals": copied})


def _store_file(store: Path) -> Path:
    path = store / DATABASE_NAME
    if not path.is_file():
        raise InvalidRequestError(f"no store at {store} (no {DATABASE_NAME} there)")
    return path


def _copy(source: Path, target: Path) -> None:
    """The whole of `source` into `target` in one step: one snapshot, however busy the source."""
    try:
        reader = _open(source, read_only=True)
        try:
            writer = connect(target, timeout=BUSY_MS / 1000)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise busy_error(target.parent, exc) from exc
        raise StoreError(f"cannot copy {source} to {target}: {exc}") from exc


def _open(path: Path, *, read_only: bool) -> sqlite3.Connection:
    # Read-only where we may: a backup never changes its source. But a read-only connection
    # cannot tidy its -wal and -shm files away, so a file of our own is opened read-write.
    mode = "ro" if read_only else "rw"
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
    db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return db


def _describe(
    path: Path, source: Path, destination: Path, *, read_only: bool = True
) -> BackupReport:
    """Check that `path` is a whole Precedent store and count what it holds."""
    if not path.is_file():
        raise InvalidRequestError(f"{path} is not a Precedent store: no such file")
    try:
        db = _open(path, read_only=read_only)
    except sqlite3.Error as exc:
        raise InvalidRequestError(f"{path} is not a Precedent store: {exc}") from exc
    try:
        tables = {row[0] for row in db.execute(sql_checks.TABLE_NAMES)}
        version = int(db.execute(sql_checks.USER_VERSION).fetchone()[0])
        if not REQUIRED_TABLES <= tables or version < 1:
            raise InvalidRequestError(
                f"{path} is not a Precedent store: it is an SQLite file without our tables"
            )
        if version > len(sql.MIGRATIONS):
            raise InvalidRequestError(
                f"{path} was made by a newer Precedent (schema {version}, this one knows "
                f"{len(sql.MIGRATIONS)}); upgrade first"
            )
        verdict = [str(row[0]) for row in db.execute(sql_checks.QUICK_CHECK)]
        if verdict != ["ok"]:
            raise StoreError(f"{path} is damaged: {'; '.join(verdict[:5])}")
        meta = dict(db.execute(sql_checks.ALL_META).fetchall())
        return BackupReport(
            source=str(source.resolve()),
            destination=str(destination.resolve()),
            documents=int(db.execute(sql_common.COUNT_DOCUMENTS).fetchone()[0]),
            chunks=int(db.execute(sql_common.COUNT_CHUNKS).fetchone()[0]),
            generation=int(meta.get(GENERATION_KEY, 0)),
            model=meta.get(MODEL_KEY),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    except sqlite3.DatabaseError as exc:
        raise InvalidRequestError(f"{path} is not a Precedent store: {exc}") from exc
    finally:
        db.close()


def _named(path: Path, *, read_only: bool = True) -> list[str]:
    """The original files a store file names (none for a store older than originals)."""
    db = _open(path, read_only=read_only)
    try:
        return [str(row[0]) for row in db.execute(sql_common.REFERENCED)]
    except sqlite3.OperationalError:  # no such column: made before originals were kept
        return []
    finally:
        db.close()


def _drop_sidecars(folder: Path) -> None:
    """Files that belong to a store being replaced: a WAL left by it would be replayed onto
    the new file, and its FAISS cache could pass for the new store's."""
    for name in (DATABASE_NAME + "-wal", DATABASE_NAME + "-shm", INDEX_NAME, HEADER_NAME):
        (folder / name).unlink(missing_ok=True)
