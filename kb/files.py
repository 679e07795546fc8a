"""Writing a file so that a crash leaves either the old file or the whole new one, never part."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, data: bytes, prefix: str) -> None:
    """Write to a temporary file named `prefix`... beside `path`, fsync it, rename it over
    `path`, and fsync the folder so that the rename itself survives a power cut."""
    handle, temporary = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """As `write_atomically`, for a writer that wants a file name (FAISS writes its index to
    a path itself, streaming, rather than building the whole file in memory first)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        descriptor = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a file's fsync does not cover its directory entry)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# Owner-only: a store holds confidential text and the hashes of API keys.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def make_private_folder(folder: Path) -> None:
    """Create `folder` and any missing folder above it, each owner-only (`mkdir(parents=True)`
    would give the ones above the umask's mode). A umask can only take bits away from these."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create `path` empty and owner-only if it is not there yet (a library that then opens
    it keeps its mode), else leave it as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def make_files_private(folder: Path) -> None:
    """Make the files in `folder` owner-only: for those a library creates with the umask's
    mode (tantivy's). The folder is owner-only, so they were never open to others meanwhile."""
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mode & 0o777 != PRIVATE_FILE:
                path.chmod(PRIVATE_FILE)
        except FileNotFoundError:
            pass  # merged away by another thread meanwhile
