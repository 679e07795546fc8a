"""Request and response bodies of the HTTP API (pydantic lives here, at the edge, only).

Response models read the core's frozen dataclasses by attribute (`from_attributes`), so
`XPublic.model_validate(record)` is the one conversion.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kb.models import SearchResponse
from kb.search.searcher import MAX_LIMIT, MAX_OFFSET

FilterValue = bool | str | int | float | list[bool | str | int | float]


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SearchRequest(BaseModel):
    query: str = Field(..., min_length=1, description="A few words or a whole crisis brief.")
    filters: dict[str, FilterValue] = Field(
        default_factory=dict,
        description=(
            "doc_type, date_from/date_to (YYYY[-MM[-DD]]), classification, a relation label, "
            "KEY_min/KEY_max ranges (a number or a date), or a metadata key for equality (a "
            "schema field or a key of a document you may see); a list means any of its values. "
            "An unknown key or a bad value is refused (422)."
        ),
        examples=[{"doc_type": "agreement", "region": ["Aurel Highlands"], "year_min": 2000}],
    )
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    # Strict: `true` is not a number of results.
    limit: int = Field(10, ge=1, le=MAX_LIMIT, strict=True)
    offset: int = Field(0, ge=0, le=MAX_OFFSET, strict=True)


class PassagePublic(Public):
    chunk_id: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    snippet: str = Field(description="An HTML-safe excerpt with matched terms in <mark>.")
    score: float
    ocr: bool = Field(False, description="Recognised from a scanned page image (OCR).")


class SuggestionPublic(Public):
    key: str = Field(description="A filter key: a metadata key, or year_min / year_max.")
    value: str
    matched: str = Field(description="What in the query suggested it.")
    documents: int = Field(description="Documents with this value (0 for years).")


class PrecedentPublic(Public):
    document_id: str
    title: str
    doc_type: str
    date: str | None
    score: float
    metadata: dict[str, Any]
    passages: list[PassagePublic]
    matched_terms: list[str] = Field(description="Query terms found in the title or passages.")
    matched_metadata: list[SuggestionPublic] = Field(
        description="Suggested filters this document already meets."
    )
    aspects: list[str] = Field(
        description="For a long brief: the aspects (sentences) this document answers."
    )


class SearchResponsePublic(Public):
    query: str
    mode: str
    total: int = Field(description="Documents among the candidates, before paging.")
    limit: int
    offset: int
    notices: list[str]
    suggested_filters: list[SuggestionPublic] = Field(
        description="Filters the query seems to ask for (places, regions, stages, years)."
    )
    results: list[PrecedentPublic]

    @classmethod
    def of(cls, response: SearchResponse, limit: int, offset: int) -> SearchResponsePublic:
        return cls.model_validate(
            {
                **response.__dict__,
                "limit": limit,
                "offset": offset,
                "suggested_filters": response.suggestions,
            }
        )


class DocumentPublic(Public):
    document_id: str
    title: str
    doc_type: str
    date: str | None
    source_name: str
    sha256: str
    metadata: dict[str, Any]
    chunk_count: int
    created_at: str
    updated_at: str
    version: int = Field(description="1 for the first content; each new content adds one.")
    classification: str = Field(description="public, internal, restricted or confidential.")
    groups: list[str] = Field(description="Need-to-know groups; empty: anyone cleared.")
    has_original: bool = Field(
        False, description="The file it was read from is kept: GET /documents/{id}/original."
    )


class ChunkPublic(Public):
    chunk_id: int
    ordinal: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    ocr: bool = Field(False, description="Recognised from a scanned page image (OCR).")


class RelationPublic(Public):
    direction: Literal["outgoing", "incoming"]
    relation: str = Field(description="The stored type, as the source document reads it.")
    label: str = Field(description="How it reads from this document (evaluates, evaluated-by).")
    document_id: str = Field(description="The document at the other end.")
    title: str
    created_at: str


class DocumentDetailPublic(DocumentPublic):
    chunks: list[ChunkPublic]
    relations: list[RelationPublic] = Field(description="Links from and to this document.")
    near_duplicates: list[str] = Field(
        description="Documents with nearly the same text (another layout, a re-scan)."
    )


class DocumentsPublic(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DocumentPublic]


class UploadItemRequest(BaseModel):
    """What `items` says about one uploaded file; it wins over the request-wide fields."""

    model_config = ConfigDict(extra="forbid")

    document_id: str | None = Field(None, description="Defaults to the file name, slugged.")
    title: str | None = None
    doc_type: str | None = None
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Merged over the request's `metadata`."
    )


class UploadOutcomePublic(BaseModel):
    """One uploaded file's outcome (every field of the core's ItemOutcome passes through)."""

    model_config = ConfigDict(extra="allow")

    source: str = Field(description="The file's name (its last path part, cleaned).")
    status: str = Field(description="added, updated, unchanged, duplicate or failed.")
    document_id: str | None = None
    chunks: int = 0
    reason: str | None = Field(None, description="Why the file failed.")
    duplicate_of: str | None = Field(None, description="Status duplicate: who holds the content.")
    near_duplicates: list[str] = Field(
        default_factory=list, description="Stored documents with nearly the same text."
    )
    version: int | None = Field(
        None,
        description="The version the file's content was stored as (1: a new document); null "
        "when no content was stored (unchanged, or only its metadata or marking updated).",
    )


class UploadResponse(BaseModel):
    document_id: str | None = Field(
        None, description="With one file: its document_id (see `items` for many)."
    )
    status: str | None = Field(
        None, description="With one file: added, updated, unchanged or duplicate."
    )
    chunks: int | None = Field(None, description="With one file: its passages.")
    document: DocumentPublic | None = Field(
        None,
        description="With one file: the document (for a duplicate, the one holding the content).",
    )
    duplicate_of: str | None = Field(None, description="With one file: see `items`.")
    near_duplicates: list[str] = Field(
        default_factory=list, description="With one file: see `items`."
    )
    counts: dict[str, int] = Field(
        default_factory=dict, description="Files per outcome: added, updated, unchanged, failed."
    )
    items: list[UploadOutcomePublic] = Field(
        default_factory=list, description="Every file's outcome, in the order sent."
    )


class SessionPublic(BaseModel):
    name: str
    role: str
    clearance: str
    groups: list[str]
    csrf_token: str = Field(description="Send as `X-CSRF-Token` with every change.")


class DeleteResponse(BaseModel):
    document_id: str
    deleted: bool
    purge_after: str | None = Field(
        None, description="In the trash until then; POST /documents/{id}/restore brings it back."
    )


class StatsPublic(Public):
    documents: int
    chunks: int
    model: str
    dimension: int
    generation: int = Field(
        description="Writes so far; 0 when asked as a user (it would tell of writes to "
        "documents hidden from them)."
    )
    index_vectors: int
    doc_types: dict[str, int]
    index_kind: str | None = Field(
        None,
        description="`exact` or `hnsw` (approximate); null when asked as a user (it would "
        "tell how many passages there are).",
    )


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ErrorResponse(BaseModel):
    ok: Literal[False]
    status: int
    error: str
    message: str
    detail: list[dict[str, Any]] | None = None
