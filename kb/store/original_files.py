"""Original files kept beside the store, by content: STORE/originals/ab/<sha256>.

A file is written to a temporary name, fsynced and renamed into place before the transaction
that records its document commits: a crash leaves at most a file no row names (an orphan,
which `kb check` notes), never a row naming a missing file. The same bytes are kept once,
however many documents or versions name them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from kb.errors import StoreError
from kb.files import make_private_folder, write_atomically

FOLDER_NAME = "originals"
SHA256 = re.compile(r"[0-9a-f]{64}")
TEMP_PREFIX = ".partial-"


class OriginalFiles:
    """The originals folder of one store."""

    def __init__(self, store: Path) -> None:
        self.folder = store / FOLDER_NAME

    def path(self, sha256: str) -> Path:
        # Every name is a hash we computed: nothing else can reach a path outside the folder.
        if not SHA256.fullmatch(sha256):
            raise StoreError(f"{sha256!r} is not the SHA-256 of an original file")
        return self.folder / sha256[:2] / sha256

    def keep(self, data: bytes) -> str:
        """Store these bytes (once); returns their SHA-256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            return sha256
        make_private_folder(target.parent)
        write_atomically(target, data, TEMP_PREFIX)
        return sha256

    def copy_from(self, other: OriginalFiles, hashes: Iterable[str]) -> int:
        """Copy these files from another store's folder (those not here yet, each written
        whole before it is named); returns how many of them are now here."""
        here = 0
        for sha256 in hashes:
            target, source = self.path(sha256), other.path(sha256)
            if not target.is_file() and source.is_file():
                self.keep(source.read_bytes())
            here += target.is_file()
        return here

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def remove(self, hashes: Iterable[str]) -> None:
        for sha256 in hashes:
            self.path(sha256).unlink(missing_ok=True)

    def stored(self) -> set[str]:
        """The hashes of every file in the folder (half-written temporary files excluded)."""
        if not self.folder.is_dir():
            return set()
        return {p.name for p in self.folder.glob("??/*") if SHA256.fullmatch(p.name)}
