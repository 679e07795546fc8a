"""Which document each passage belongs to, remembered: within one store a chunk id is never
reused and never moves to another document, so what was read once stays true (a passage
deleted since is left out later, where its text and document are read). A restore brings
another store's ids: it changes the vectors stamp, and the memory starts over."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from kb.store.protocol import Store

KEPT = 200_000  # owners remembered (about 30 MB); past that the memory starts over


class ChunkOwners:
    """chunk id -> document id, read from the store once per passage."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[int, str] = {}
        self._stamp = ""
        self._lock = threading.Lock()  # the server's threads share it

    def of(self, chunk_ids: Sequence[int], stamp: str) -> dict[int, str]:
        """Owners of the ids still stored; `stamp`: the store's vectors stamp now."""
        with self._lock:
            if stamp != self._stamp:
                self._known, self._stamp = {}, stamp
            owners = {c: self._known[c] for c in chunk_ids if c in self._known}
        missing = [c for c in chunk_ids if c not in owners]
        if missing:
            found = self._store.chunk_owners(missing)
            owners.update(found)
            with self._lock:
                if len(self._known) + len(found) > KEPT:
                    self._known = {}
                self._known.update(found)
        return owners
