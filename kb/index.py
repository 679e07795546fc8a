"""The FAISS cache of chunk vectors: rebuildable from the store at any time.

Vectors are L2-normalised, so inner product is cosine similarity. The FAISS id of a
vector is its `chunk_id`.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from pathlib import Path

import faiss
import numpy as np

from kb.files import write_atomically
from kb.store import Ids, Vectors

log = logging.getLogger(__name__)

INDEX_NAME = "index.faiss"
HEADER_NAME = "index.json"


class VectorIndex:
    """Exact inner-product search over chunk vectors, keyed by chunk_id."""

    def __init__(self, dimension: int, generation: int = 0) -> None:
        self.dimension = dimension
        self.generation = generation
        self._index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        # FAISS may not be searched while it is being changed: the server's threads share it.
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(cls, ids: Ids, vectors: Vectors, generation: int) -> VectorIndex:
        index = cls(vectors.shape[1] if vectors.ndim == 2 else 0, generation)
        index.add(ids, vectors)
        return index

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if len(ids):
            with self._lock:
                self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)

    def remove(self, ids: Ids) -> None:
        if len(ids):
            with self._lock:
                self._index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, np.int64)))

    def ids(self) -> Ids:
        """Every chunk_id in the index, in insertion order."""
        with self._lock:
            # Always an IndexIDMap2 (built so, or deserialized from one); the stubs say Index.
            id_map = self._index.id_map  # type: ignore[attr-defined]
            return np.asarray(faiss.vector_to_array(id_map), dtype=np.int64)

    def search(self, queries: Vectors, k: int, allowed: Ids | None = None) -> tuple[Vectors, Ids]:
        """Top-k chunk ids and cosine scores per query; `allowed` restricts the candidates."""
        params = None
        if allowed is not None:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, np.int64))
        with self._lock:
            k = min(k, len(self))
            if k == 0 or (allowed is not None and len(allowed) == 0):
                empty = (len(queries), 0)
                return np.zeros(empty, np.float32), np.zeros(empty, np.int64)
            scores, ids = self._index.search(
                np.ascontiguousarray(queries, np.float32), k, params=params
            )
        return scores, ids

    def save(self, folder: Path) -> None:
        """Write atomically: a temp file then rename, header last, so a torn write is detected."""
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = faiss.serialize_index(self._index).tobytes()
        write_atomically(folder / INDEX_NAME, data, f".{INDEX_NAME}.")
        header = {
            "generation": self.generation,
            "dimension": self.dimension,
            "count": len(self),
            "crc32": zlib.crc32(data),
        }
        write_atomically(folder / HEADER_NAME, json.dumps(header).encode(), f".{HEADER_NAME}.")

    @classmethod
    def load(cls, folder: Path, generation: int, dimension: int, count: int) -> VectorIndex | None:
        """The saved index if it matches the store exactly, else None (and why, in the log)."""
        try:
            header = json.loads((folder / HEADER_NAME).read_text())
            data = np.frombuffer((folder / INDEX_NAME).read_bytes(), dtype=np.uint8)
        except FileNotFoundError:
            log.info("no FAISS index in %s", folder)
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable FAISS index header in %s: %s", folder, exc)
            return None
        expected = {
            "generation": generation,
            "dimension": dimension,
            "count": count,
            "crc32": zlib.crc32(data.data),
        }
        if header != expected:
            log.warning("stale FAISS index in %s: %s, store has %s", folder, header, expected)
            return None
        try:
            raw = faiss.deserialize_index(data)
        except RuntimeError as exc:
            log.warning("corrupt FAISS index in %s: %s", folder, exc)
            return None
        if raw.ntotal != count or raw.d != dimension:
            log.warning("FAISS index in %s does not match its header", folder)
            return None
        index = cls(dimension, generation)
        index._index = raw
        return index
