"""The storage interface: what search and the API need from a backend.

SQLite (`kb.store.sqlite.store`) is the embedded default; a server backend slots in by
implementing the same protocol, without touching search or the API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kb.jobs import Job, JobFile
from kb.models import (
    AuditEntry,
    Chunk,
    Document,
    DocumentDraft,
    Filters,
    Pack,
    PackItem,
    Relation,
    Version,
)

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fingerprint:
    """What decides whether a re-ingested document changed."""

    sha256: str
    metadata: Mapping[str, Any]
    title: str
    doc_type: str
    date: str | None
    deleted: bool = False
    classification: str = "internal"
    groups: tuple[str, ...] = ()
    version: int = 1


# A document's marking as the keyword index parts passages by: (level rank, sorted groups).
Marking = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class KeywordText:
    """What the keyword index holds of one passage."""

    chunk_id: int
    title: str
    heading: str
    text: str
    marking: Marking  # decides the index part: no default, never public by omission


@dataclass(frozen=True)
class WriteResult:
    """Chunk ids a write removed and added, and the store generation it produced."""

    removed: Ids
    added: Ids
    generation: int


class Store(Protocol):
    def close(self) -> None: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def generation(self) -> int: ...

    def fingerprints(self, document_ids: Sequence[str]) -> dict[str, Fingerprint]: ...

    def case_variants(self, document_ids: Sequence[str]) -> list[str]:
        """Stored ids, trashed ones too, that equal one of these when lower-cased."""
        ...

    def write_documents(
        self,
        drafts: Sequence[DocumentDraft],
        vectors: Sequence[Vectors],
        simhashes: Sequence[int | None] | None = None,
        actor: str = "system",
    ) -> WriteResult:
        """Replace or add each draft with its chunks and their vectors, in one transaction;
        replaced content is kept as an earlier version; each write is audited."""
        ...

    def update_document_fields(self, draft: DocumentDraft, actor: str = "system") -> WriteResult:
        """Change title, type, metadata and date of a stored document; chunks stay."""
        ...

    def get_document(self, document_id: str) -> Document | None:
        """The document, live or in the trash (`deleted_at` tells)."""
        ...

    # -- history: the trash, versions, duplicates, audit, relations ------------------------

    def soft_delete(self, document_id: str, actor: str) -> WriteResult: ...

    def restore(self, document_id: str, actor: str) -> WriteResult: ...

    def purge(self, document_id: str, actor: str) -> WriteResult: ...

    def trash(self, filters: Filters, limit: int, offset: int) -> tuple[int, list[Document]]: ...

    def trashed_before(self, moment: str) -> list[str]: ...

    def versions(self, document_id: str) -> list[Version]: ...

    def version(
        self, document_id: str, number: int
    ) -> tuple[Version, list[dict[str, Any]]] | None: ...

    def live_with_sha(self, hashes: list[str]) -> dict[str, str]: ...

    def live_simhashes(self) -> tuple[list[str], list[int]]: ...

    def simhash_of(self, document_id: str) -> int | None: ...

    def audit_entries(
        self,
        document_id: str | None,
        action: str | None,
        actor: str | None,
        since: str | None,
        limit: int,
        offset: int,
        filters: Filters,
    ) -> tuple[int, list[AuditEntry]]: ...

    def add_relations(
        self, source_id: str, links: Sequence[tuple[str, str]], actor: str
    ) -> int: ...

    def remove_relation(
        self, source_id: str, relation: str, target_id: str, actor: str
    ) -> bool: ...

    def relations_of(self, document_id: str) -> list[Relation]: ...

    # -- reading packs --------------------------------------------------------------------

    def create_pack(self, title: str, audience: str, objectives: list[str], owner: str) -> int: ...

    def get_pack(self, pack_id: int) -> Pack | None: ...

    def list_packs(self, limit: int | None = None, offset: int = 0) -> list[Pack]: ...

    def count_packs(self) -> int: ...

    def add_pack_items(
        self, pack_id: int, items: Sequence[tuple[str, int | None, str]]
    ) -> list[int]: ...

    def update_pack(
        self, pack_id: int, title: str, audience: str, objectives: list[str]
    ) -> None: ...

    def set_pack_item_note(self, pack_id: int, item_id: int, note: str) -> bool: ...

    def remove_pack_item(self, pack_id: int, item_id: int) -> bool: ...

    def order_pack_items(self, pack_id: int, item_ids: Sequence[int]) -> None: ...

    def copy_pack(
        self,
        title: str,
        audience: str,
        objectives: list[str],
        owner: str,
        items: Sequence[PackItem],
    ) -> int: ...

    def delete_pack(self, pack_id: int) -> None: ...

    # -- the ingest queue (kb.jobs) ---------------------------------------------------------

    def enqueue_job(self, actor: str, owner: str | None, files: Sequence[JobFile]) -> Job: ...

    def claim_job(self, worker: str, lease_seconds: float, most_attempts: int) -> Job | None: ...

    def job(self, job_id: str) -> Job | None: ...

    def job_files(self, job_id: str, start: int) -> list[JobFile]: ...

    def record_job_progress(
        self, job_id: str, worker: str, outcomes: Sequence[dict[str, Any]], lease_seconds: float
    ) -> bool: ...

    def renew_job_lease(self, job_id: str, worker: str, lease_seconds: float) -> bool: ...

    def finish_job(self, job_id: str, worker: str, error: str | None = None) -> bool: ...

    def list_documents(self, filters: Filters, limit: int, offset: int) -> list[Document]: ...

    def count_documents(self, filters: Filters) -> int: ...

    def chunks_of(self, document_id: str) -> list[Chunk]: ...

    def chunks_by_id(self, chunk_ids: Sequence[int]) -> dict[int, Chunk]: ...

    def chunk_owners(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """chunk id -> its document's id, for the ids still stored."""
        ...

    def documents_by_id(self, document_ids: Sequence[str]) -> dict[str, Document]: ...

    def vectors_of(self, chunk_ids: Sequence[int]) -> tuple[Ids, Vectors]: ...

    def all_vectors(self, dimension: int) -> tuple[Ids, Vectors]: ...

    def iter_chunk_texts(self, batch: int) -> Iterator[list[tuple[int, str]]]: ...

    def replace_vectors(self, ids: Ids, vectors: Vectors) -> int: ...

    def keyword_search(
        self, match: str, filters: Filters, limit: int, budget: int | None = None
    ) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores (higher is better) for an FTS5 match expression; with a
        budget, only the `budget` latest-added matching passages are scored."""
        ...

    def keyword_ranked(self, match: str, budget: int) -> list[tuple[int, float]]:
        """Chunk ids and BM25 scores of the `budget` latest-added passages matching an FTS5
        expression, best first, UNFILTERED: trashed and hidden passages too. The caller keeps
        only those of an allowed set (`kb.store.allowed`)."""
        ...

    def keyword_log_span(self) -> tuple[int, int]:
        """The first and last sequence numbers of the keyword log (0, 0 when empty)."""
        ...

    def keyword_changes(self, since: int, until: int) -> list[int]:
        """Chunk ids added, removed or retitled between two points of the keyword log."""
        ...

    def live_markings(self) -> list[Marking]:
        """The distinct markings of live documents."""
        ...

    def keyword_texts(self, chunk_ids: Sequence[int]) -> list[KeywordText]:
        """What keyword search reads of these passages; ids no longer stored are left out."""
        ...

    def iter_keyword_texts(self, batch: int) -> Iterator[list[KeywordText]]:
        """Every stored passage's keyword text, by chunk id, `batch` at a time."""
        ...

    def match_counts(self, matches: Sequence[str], cap: int) -> dict[str, int]:
        """For each FTS5 match expression, how many passages it matches, counted up to `cap`."""
        ...

    def keyword_rows(self) -> int:
        """Passages in the keyword index (live or in the trash)."""
        ...

    def filtered_chunk_ids(self, filters: Filters) -> Ids: ...

    def metadata_values(self, longest: int, filters: Filters) -> list[tuple[str, str, int]]:
        """(key, value, documents) for every text value up to `longest` characters."""
        ...

    def metadata_keys(self, filters: Filters) -> set[str]:
        """Every metadata key held by a document the filters (and their viewer) pass."""
        ...

    def visible_counts(self, filters: Filters) -> tuple[int, int, dict[str, int]]: ...

    def facet_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        """(facet, value, documents) over the documents that pass the filters."""
        ...

    def original_path(self, sha256: str) -> Path | None:
        """The kept original file with this hash; None if it is not there."""
        ...

    def original_files(self) -> tuple[list[str], list[str]]:
        """Original hashes named but missing, and files named by nothing (orphans)."""
        ...

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """Documents, chunks, and documents per type."""
        ...

    def problems(self, dimension: int | None) -> list[str]:
        """Broken invariants (partial documents, chunks without vectors or FTS rows, ...)."""
        ...

    def vector_ids(self) -> Ids:
        """Every stored vector's chunk_id, ascending."""
        ...
