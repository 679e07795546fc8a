"""The core's records: frozen dataclasses, no behaviour beyond small derived values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from kb.access import Viewer

DOC_TYPES = ("agreement", "evaluation", "lessons-learned", "other")
# The largest id (pack, item, passage, version) a request may name: the largest integer every
# JSON reader holds exactly (JavaScript's safe integers; a schema's 2**63 - 1 reads as a float
# that 2**63 + 191 rounds to). Far past any id the store hands out: a bigger number names
# nothing, and is refused before it reaches a query.
MAX_ID = 2**53 - 1
Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class ChunkDraft:
    """A passage cut from a document, before it is stored and embedded."""

    ordinal: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    ocr: bool = False  # the text was recognised from a page image, not read from a text layer


@dataclass(frozen=True)
class Original:
    """The file a document was read from, kept byte for byte beside the store by its hash."""

    sha256: str
    media_type: str
    name: str  # the file's own name, as it was given (shown, never opened)


@dataclass(frozen=True)
class DocumentDraft:
    """A document read and chunked, ready for `KnowledgeBase.add`."""

    document_id: str
    title: str
    doc_type: str
    source_name: str
    sha256: str
    metadata: Mapping[str, Any]
    date: str | None
    chunks: tuple[ChunkDraft, ...]
    # (relation, target document_id): links this document declares, e.g. ("evaluates", "agr-1")
    relations: tuple[tuple[str, str], ...] = ()
    # None: as stored before, or KB_DEFAULT_CLASSIFICATION for a new document
    classification: str | None = None
    # need-to-know groups (empty: anyone cleared may see it); None: as stored before, or none
    groups: tuple[str, ...] | None = None
    # the file it was read from and its bytes, kept by the store (None: records, no file)
    original: Original | None = None
    original_bytes: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Chunk:
    chunk_id: int
    document_id: str
    ordinal: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    ocr: bool = False


@dataclass(frozen=True)
class Document:
    document_id: str
    title: str
    doc_type: str
    source_name: str
    sha256: str
    metadata: Mapping[str, Any]
    date: str | None
    created_at: str
    updated_at: str
    chunk_count: int
    version: int = 1
    deleted_at: str | None = None  # in the trash since then; restorable until purged
    deleted_by: str | None = None
    classification: str = "internal"
    groups: tuple[str, ...] = ()
    original: Original | None = None  # None: added before originals were kept, or a record

    @property
    def has_original(self) -> bool:
        return self.original is not None


class AddOutcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # the same content is already stored under another id: not added
    FAILED = "failed"  # refused: `reason` says why (an id or marking the user may not use)


@dataclass(frozen=True)
class AddResult:
    """What `KnowledgeBase.add` did with one draft."""

    document_id: str
    outcome: AddOutcome
    duplicate_of: str | None = None
    # documents whose text is nearly the same (another layout, a re-scan): flagged, still added
    near_duplicates: tuple[str, ...] = ()
    reason: str | None = None
    # the version its content was stored as (1: a new document); None: no content written
    version: int | None = None


@dataclass(frozen=True)
class Version:
    """One earlier (or the current) content of a document."""

    version: int
    title: str
    doc_type: str
    source_name: str
    sha256: str
    metadata: Mapping[str, Any]
    date: str | None
    created_at: str
    replaced_at: str | None  # None: the current version
    chunk_count: int
    original: Original | None = None
    # the marking it was stored with: reading it needs clearance for that
    classification: str = "internal"
    groups: tuple[str, ...] = ()

    @property
    def has_original(self) -> bool:
        return self.original is not None


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: str
    actor: str
    action: str
    document_id: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    detail: str | None


@dataclass(frozen=True)
class Relation:
    """A link seen from one document: `direction` outgoing means this document `relation`s
    the other (it evaluates it); incoming means the other one does."""

    direction: Literal["outgoing", "incoming"]
    relation: str
    label: str  # how it reads from this document: "evaluates" or "evaluated-by"
    document_id: str
    title: str
    created_at: str


@dataclass(frozen=True)
class Filters:
    """Search and listing filters; every part must hold (AND), values of one key are any-of."""

    doc_types: tuple[str, ...] = ()
    equals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    # relation filter label (kb.relations.FILTER_LABELS) -> document ids, any-of
    related: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Who is looking: only documents they may see pass. None: full rights.
    viewer: Viewer | None = None

    def is_empty(self) -> bool:
        return self.viewer is None and not (
            self.doc_types
            or self.equals
            or self.ranges
            or self.date_from
            or self.date_to
            or self.related
        )


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: Filters = field(default_factory=Filters)
    mode: Mode = "hybrid"
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True)
class Suggestion:
    """A filter the query seems to ask for: `key=value`, because of `matched` in the query."""

    key: str
    value: str
    matched: str
    documents: int


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    snippet: str
    score: float
    ocr: bool = False


@dataclass(frozen=True)
class Precedent:
    """One search result: a whole document with the passages that matter."""

    document_id: str
    title: str
    doc_type: str
    date: str | None
    score: float
    metadata: Mapping[str, Any]
    passages: tuple[Passage, ...]
    matched_terms: tuple[str, ...] = ()
    matched_metadata: tuple[Suggestion, ...] = ()
    aspects: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchResponse:
    query: str
    mode: Mode
    total: int
    results: tuple[Precedent, ...]
    notices: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(frozen=True)
class Stats:
    documents: int
    chunks: int
    model: str
    dimension: int
    generation: int
    index_vectors: int
    doc_types: Mapping[str, int]
    index_kind: str | None = None  # exact or hnsw; None for a viewer (it tells the size)


@dataclass(frozen=True)
class PackItem:
    """A document, or one passage of it (`chunk_id`), in a reading pack, with the trainer's note."""

    position: int
    document_id: str
    chunk_id: int | None
    note: str
    item_id: int  # stable across reorders; `position` is where the item stands now


@dataclass(frozen=True)
class Pack:
    """A reading pack for a course: ordered items; `withheld`: items hidden from the viewer."""

    pack_id: int
    title: str
    audience: str
    objectives: tuple[str, ...]
    owner: str
    created_at: str
    updated_at: str
    items: tuple[PackItem, ...] = ()
    withheld: int = 0
