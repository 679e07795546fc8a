"""The FAISS cache of chunk vectors: rebuildable from the store at any time.

Vectors are L2-normalised, so inner product is cosine similarity. The FAISS id of a
vector is its `chunk_id`. Two kinds: `exact` (every vector compared, float32) for small
stores and `hnsw` (a graph over 8-bit scalar-quantised vectors: a quarter of the memory,
about a millisecond a query at a million) for large ones. HNSW cannot remove a vector, so
removed chunk ids are masked (kept in `dead`, left out through an IDSelector) until the
index is rebuilt; a chunk_id's vector never changes (ids are never reused, and a re-embed
rebuilds the index), so a restored chunk is simply unmasked, and a saved index BEHIND the
store can be caught up by id (`kb.vectors.index_cache`) unless its `stamp` says other vectors.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from kb.files import make_private_folder, write_atomically, write_file_atomically
from kb.settings import Settings
from kb.store.protocol import Ids, Vectors
from kb.vectors.faiss_threads import one_thread
from kb.vectors.index_file import HEADER_NAME, INDEX_NAME, file_crc32, read_header

log = logging.getLogger(__name__)

# Store meta key: changed whenever stored ids may come to hold other vectors (a re-embed, a
# restore), so that no index of the old vectors is ever caught up by id and served.
VECTORS_KEY = "vectors"
IndexKind = Literal["exact", "hnsw"]
EXACT: IndexKind = "exact"
HNSW: IndexKind = "hnsw"
KINDS: tuple[IndexKind, ...] = ("exact", "hnsw")
FILTER_WIDEN_MAX = 8.0  # most a filtered graph search widens its candidate list
SELECTIONS_KEPT = 16  # filter selectors kept (125 KB each at a million passages)


@dataclass(frozen=True)
class AnnParams:
    """How the approximate index is built and searched (see the `ann_*` settings)."""

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    exact_filter_max: int = 20_000

    @classmethod
    def of(cls, settings: Settings) -> AnnParams:
        return cls(
            settings.ann_m,
            settings.ann_ef_construction,
            settings.ann_ef_search,
            settings.ann_exact_filter_max,
        )


def new_faiss_index(dimension: int, kind: IndexKind, params: AnnParams) -> faiss.Index:
    if kind == HNSW:
        # The stubs type the quantiser kind as the class; FAISS takes its enum value.
        graph = faiss.IndexHNSWSQ(
            dimension,
            faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]
            params.m,
            faiss.METRIC_INNER_PRODUCT,
        )
        graph.hnsw.efConstruction = params.ef_construction
        graph.hnsw.efSearch = params.ef_search
        return faiss.IndexIDMap2(graph)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


@dataclass(frozen=True)
class Selection:
    """Allowed positions as FAISS takes them. `bits` is held here because the selector only
    points at it."""

    count: int
    bits: np.ndarray
    selector: faiss.IDSelector


class VectorIndex:
    """Inner-product search over chunk vectors, keyed by chunk_id, exact or HNSW."""

    def __init__(
        self,
        dimension: int,
        generation: int = 0,
        kind: IndexKind = EXACT,
        params: AnnParams | None = None,
        stamp: str = "",
    ) -> None:
        self.dimension = dimension
        self.generation = generation
        self.stamp = stamp  # the store's VECTORS_KEY when its vectors were read
        self.kind: IndexKind = kind
        self.params = params or AnnParams()
        self._index: faiss.Index = new_faiss_index(dimension, kind, self.params)
        self._dead: set[int] = set()
        self._dead_selector: tuple[np.ndarray, faiss.IDSelector, faiss.IDSelector] | None = None
        self._sorted: tuple[Ids, Ids, Ids] | None = None  # see _layout
        self._dirty = True  # the FAISS file on disk (if any) differs from memory
        # Selections made for a caller's key (a filter set), valid while `_changes` holds.
        self._selections: dict[Hashable, tuple[int, Selection]] = {}
        self._changes = 0
        # FAISS may not be searched while it is being changed: the server's threads share it.
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._dead)

    @property
    def dead(self) -> int:
        """Vectors masked as removed (HNSW only)."""
        return len(self._dead)

    @property
    def dead_share(self) -> float:
        total = int(self._index.ntotal)
        return len(self._dead) / total if total else 0.0

    @classmethod
    def build(
        cls,
        ids: Ids,
        vectors: Vectors,
        generation: int,
        kind: IndexKind = EXACT,
        params: AnnParams | None = None,
    ) -> VectorIndex:
        index = cls(vectors.shape[1] if vectors.ndim == 2 else 0, generation, kind, params)
        index.add(ids, vectors)
        return index

    def train(self, sample: Vectors) -> None:
        """Fit the quantiser's value ranges (HNSW); a no-op for the exact kind."""
        with self._lock:
            if not self._index.is_trained and len(sample):
                self._index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def add(self, ids: Ids, vectors: Vectors) -> None:
        if not len(ids):
            return
        with self._lock:
            if self._dead:
                back = np.fromiter((int(i) in self._dead for i in ids), bool, len(ids))
                if back.any():
                    self._dead.difference_update(int(i) for i in ids[back])
                    self._dead_selector = None
                    self._changes += 1
                    ids, vectors = ids[~back], vectors[~back]
            if not len(ids):
                return
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            self.train(vectors)  # the first vectors, when the builder did not train it first
            self._index.add_with_ids(vectors, np.ascontiguousarray(ids, np.int64))
            self._sorted = None
            self._dirty = True
            self._changes += 1

    def remove(self, ids: Ids) -> None:
        if not len(ids):
            return
        with self._lock:
            self._changes += 1
            wanted = np.ascontiguousarray(ids, np.int64)
            if self.kind == EXACT:
                self._index.remove_ids(faiss.IDSelectorBatch(wanted))
                self._sorted = None
                self._dirty = True
                return
            _, found = self._positions(wanted)
            self._dead.update(int(i) for i in wanted[found])
            self._dead_selector = None  # (positions stay: nothing is removed from HNSW)

    def ids(self) -> Ids:
        """Every live chunk_id in the index, in insertion order."""
        with self._lock:
            every = self._all_ids()
            if not self._dead:
                return every
            return every[~np.isin(every, self._dead_ids())]

    def search(
        self, queries: Vectors, k: int, allowed: Ids | None = None, key: Hashable | None = None
    ) -> tuple[Vectors, Ids]:
        """Top-k chunk ids and cosine scores per query; `allowed` restricts the candidates.
        With a `key` naming the allowed set, its selector is made once and kept until the
        index changes."""
        queries = np.ascontiguousarray(queries, np.float32)
        with self._lock:
            k = min(k, len(self))
            chosen = None if allowed is None else self._selection(allowed, key)
            if k == 0 or (chosen is not None and chosen.count == 0):
                empty = (len(queries), 0)
                return np.zeros(empty, np.float32), np.zeros(empty, np.int64)
            with one_thread():
                if self.kind == HNSW and chosen is not None:
                    if chosen.count <= self.params.exact_filter_max:
                        return self._exact_among(queries, k, chosen)
                return self._search_inner(queries, k, chosen)

    def _selection(self, allowed: Ids, key: Hashable | None) -> Selection:
        kept = self._selections.get(key) if key is not None else None
        if kept is not None and kept[0] == self._changes:
            return kept[1]
        wanted = np.ascontiguousarray(allowed, np.int64)
        if self._dead:
            wanted = wanted[~np.isin(wanted, self._dead_ids())]
        positions, _ = self._positions(wanted)
        bits, selector = self._bitmap(positions)
        chosen = Selection(len(positions), bits, selector)
        if key is not None:
            if len(self._selections) >= SELECTIONS_KEPT:
                self._selections.clear()
            self._selections[key] = (self._changes, chosen)
        return chosen

    def _search_inner(
        self, queries: Vectors, k: int, allowed: Selection | None
    ) -> tuple[Vectors, Ids]:
        """Search the index inside the id map, by position, and map positions to ids here:
        the id map's own search translates with an OpenMP loop whose thread start-up costs
        more than the whole graph search on a busy machine."""
        if self.kind == HNSW:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in stubs
            params.efSearch = max(self.params.ef_search, k)
            if allowed is not None:
                # Passages outside the filter still fill the candidate list: widen it as the
                # filter narrows (at a 10% filter, x8 took recall@10 from 0.78 to 0.98).
                widen = min(len(self) / max(allowed.count, 1), FILTER_WIDEN_MAX)
                params.efSearch = int(params.efSearch * max(widen, 1.0))
        else:
            params = faiss.SearchParameters()
        # What a selector points at is held by its owner (`allowed`, `_dead_selector`):
        # FAISS keeps only raw pointers.
        if allowed is not None:
            params.sel = allowed.selector
        elif self._dead:
            params.sel = self._masking_selector()[-1]
        inner = self._index.index  # type: ignore[attr-defined]  # an IndexIDMap2's
        scores, positions = inner.search(queries, k, params=params)
        by_position = self._layout()[0]
        ids = np.where(positions >= 0, by_position[np.maximum(positions, 0)], -1)
        return scores, ids

    def _masking_selector(self) -> tuple[np.ndarray, faiss.IDSelector, faiss.IDSelector]:
        if self._dead_selector is None:
            bits, dead = self._bitmap(self._positions(self._dead_ids())[0])
            self._dead_selector = (bits, dead, faiss.IDSelectorNot(dead))
        return self._dead_selector

    def _bitmap(self, positions: Ids) -> tuple[np.ndarray, faiss.IDSelector]:
        """A selector of these positions: a bitmap, made in a few ms at a million positions
        and one bit test per candidate (an IDSelectorBatch of 100,000 ids took 300 ms to make).
        The bitmap's array is returned with it, as FAISS only points at it."""
        total = int(self._index.ntotal)
        bits = np.zeros(total, bool)
        bits[positions] = True
        packed = np.packbits(bits, bitorder="little")
        return packed, faiss.IDSelectorBitmap(total, faiss.swig_ptr(packed))

    def _exact_among(self, queries: Vectors, k: int, allowed: Selection) -> tuple[Vectors, Ids]:
        """Every allowed vector compared, by scanning the graph's flat store of 8-bit codes with
        a bitmap of the allowed positions: a graph search with a selective filter would find
        too few of them."""
        k = min(k, allowed.count)
        graph = faiss.downcast_index(self._index.index)  # type: ignore[attr-defined]
        codes = faiss.downcast_index(graph.storage)  # type: ignore[attr-defined]
        params = faiss.SearchParameters()
        params.sel = allowed.selector  # `allowed` holds the bits it points at
        scores, found = codes.search(queries, k, params=params)
        by_position = self._layout()[0]
        return scores, np.where(found >= 0, by_position[np.maximum(found, 0)], -1)

    def _all_ids(self) -> Ids:
        # Always an IndexIDMap2 (built so, or read from one); the stubs say Index.
        id_map = self._index.id_map  # type: ignore[attr-defined]
        return np.asarray(faiss.vector_to_array(id_map), dtype=np.int64)

    def _dead_ids(self) -> Ids:
        return np.fromiter(self._dead, np.int64, len(self._dead))

    def _layout(self) -> tuple[Ids, Ids, Ids]:
        """The id at each position; the ids sorted; the position of each sorted id."""
        if self._sorted is None:
            every = self._all_ids()
            order = np.argsort(every, kind="stable")
            self._sorted = (every, every[order], order.astype(np.int64))
        return self._sorted

    def _positions(self, wanted: Ids) -> tuple[Ids, np.ndarray]:
        """Positions in the index of the wanted ids that it holds, and which ones it holds."""
        _, held, order = self._layout()
        if not len(held):
            return np.zeros(0, np.int64), np.zeros(len(wanted), bool)
        at = np.minimum(np.searchsorted(held, wanted), len(held) - 1)
        found = held[at] == wanted
        return order[at[found]], found

    def save(self, folder: Path) -> None:
        """Write atomically, header last (a torn write is detected), under the store's writer
        lock; the FAISS file only when its vectors changed (masking lives in the header)."""
        make_private_folder(folder)
        path = folder / INDEX_NAME
        if self._dirty or not path.exists():
            write_file_atomically(
                path, lambda temporary: faiss.write_index(self._index, str(temporary))
            )
            self._dirty = False
        header = {
            "generation": self.generation,
            "dimension": self.dimension,
            "count": len(self),
            "crc32": file_crc32(path),
            "kind": self.kind,
            "dead": sorted(self._dead),
            "stamp": self.stamp,
        }
        write_atomically(folder / HEADER_NAME, json.dumps(header).encode(), f".{HEADER_NAME}.")

    @classmethod
    def load(
        cls,
        folder: Path,
        generation: int,
        dimension: int,
        count: int,
        params: AnnParams | None = None,
        stamp: str = "",
    ) -> VectorIndex | None:
        """The saved index if whole and of the store's vectors, else None (why: in the log).
        It may be BEHIND the store (an older generation): the caller catches it up. At the
        store's generation it must hold `count` vectors; one AHEAD, of another dimension or
        vectors stamp is stale. FAISS reads the file itself: no second copy in memory."""
        path = folder / INDEX_NAME
        try:
            header = read_header(folder)
            crc = file_crc32(path)
        except FileNotFoundError:
            log.info("no FAISS index in %s", folder)
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable FAISS index header in %s: %s", folder, exc)
            return None
        if header is None:
            log.warning("unreadable FAISS index header in %s", folder)
            return None
        saved = int(header["generation"])
        kind, dead = header.get("kind", EXACT), header.get("dead", [])  # older headers lack them
        stale = (
            saved > generation
            or (saved == generation and header["count"] != count)
            or header["dimension"] != dimension
            or header.get("stamp", "") != stamp
            or header["crc32"] != crc
            or kind not in KINDS
            or not isinstance(dead, list)
        )
        if stale:
            store = f"generation {generation}, {count} vectors of {dimension}, stamp {stamp!r}"
            log.warning("stale FAISS index in %s: %s; the store: %s", folder, header, store)
            return None
        try:
            raw = faiss.read_index(str(path))
        except RuntimeError as exc:
            log.warning("corrupt FAISS index in %s: %s", folder, exc)
            return None
        if raw.ntotal - len(dead) != header["count"] or raw.d != dimension:
            log.warning("FAISS index in %s does not match its header", folder)
            return None
        index = cls(dimension, saved, kind, params, stamp)
        index._index = raw
        index._dead = {int(i) for i in dead}
        index._dirty = False
        if kind == HNSW:
            # efSearch is saved with the graph: the setting in force now wins.
            graph = faiss.downcast_index(raw.index)  # type: ignore[attr-defined]
            graph.hnsw.efSearch = index.params.ef_search  # type: ignore[attr-defined]
        return index
