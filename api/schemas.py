"""Request and response bodies of the HTTP API (pydantic lives here, at the edge, only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from kb.models import Chunk, Document, Passage, Precedent, SearchResponse, Stats
from kb.search import MAX_LIMIT

FilterValue = bool | str | int | float | list[bool | str | int | float]


class SearchRequest(BaseModel):
    query: str = Field(..., min_length=1, description="A few words or a whole crisis brief.")
    filters: dict[str, FilterValue] = Field(
        default_factory=dict,
        description=(
            "doc_type, date_from/date_to (YYYY[-MM[-DD]]), KEY_min/KEY_max ranges, or any "
            "metadata key for equality; a list means any of its values."
        ),
        examples=[{"doc_type": "agreement", "region": ["Aurel Highlands"], "year_min": 2000}],
    )
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    limit: int = Field(10, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class PassagePublic(BaseModel):
    chunk_id: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    snippet: str = Field(description="An HTML-safe excerpt with matched terms in <mark>.")
    score: float

    @classmethod
    def of(cls, passage: Passage) -> PassagePublic:
        return cls(
            chunk_id=passage.chunk_id,
            text=passage.text,
            heading=passage.heading,
            page_start=passage.page_start,
            page_end=passage.page_end,
            snippet=passage.snippet,
            score=passage.score,
        )


class PrecedentPublic(BaseModel):
    document_id: str
    title: str
    doc_type: str
    date: str | None
    score: float
    metadata: dict[str, Any]
    passages: list[PassagePublic]

    @classmethod
    def of(cls, precedent: Precedent) -> PrecedentPublic:
        return cls(
            document_id=precedent.document_id,
            title=precedent.title,
            doc_type=precedent.doc_type,
            date=precedent.date,
            score=precedent.score,
            metadata=dict(precedent.metadata),
            passages=[PassagePublic.of(p) for p in precedent.passages],
        )


class SearchResponsePublic(BaseModel):
    query: str
    mode: str
    total: int = Field(description="Documents among the candidates, before paging.")
    limit: int
    offset: int
    notices: list[str]
    results: list[PrecedentPublic]

    @classmethod
    def of(cls, response: SearchResponse, limit: int, offset: int) -> SearchResponsePublic:
        return cls(
            query=response.query,
            mode=response.mode,
            total=response.total,
            limit=limit,
            offset=offset,
            notices=list(response.notices),
            results=[PrecedentPublic.of(p) for p in response.results],
        )


class DocumentPublic(BaseModel):
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

    @classmethod
    def of(cls, document: Document) -> DocumentPublic:
        return cls(
            document_id=document.document_id,
            title=document.title,
            doc_type=document.doc_type,
            date=document.date,
            source_name=document.source_name,
            sha256=document.sha256,
            metadata=dict(document.metadata),
            chunk_count=document.chunk_count,
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


class ChunkPublic(BaseModel):
    chunk_id: int
    ordinal: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    char_start: int
    char_end: int

    @classmethod
    def of(cls, chunk: Chunk) -> ChunkPublic:
        return cls(
            chunk_id=chunk.chunk_id,
            ordinal=chunk.ordinal,
            text=chunk.text,
            heading=chunk.heading,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            char_start=chunk.char_start,
            char_end=chunk.char_end,
        )


class DocumentDetailPublic(DocumentPublic):
    chunks: list[ChunkPublic]


class DocumentsPublic(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DocumentPublic]


class UploadResponse(BaseModel):
    document_id: str
    status: Literal["added", "updated", "unchanged"]
    chunks: int
    document: DocumentPublic


class DeleteResponse(BaseModel):
    document_id: str
    deleted: bool


class StatsPublic(BaseModel):
    documents: int
    chunks: int
    model: str
    dimension: int
    generation: int
    index_vectors: int
    doc_types: dict[str, int]

    @classmethod
    def of(cls, stats: Stats) -> StatsPublic:
        return cls(
            documents=stats.documents,
            chunks=stats.chunks,
            model=stats.model,
            dimension=stats.dimension,
            generation=stats.generation,
            index_vectors=stats.index_vectors,
            doc_types=dict(stats.doc_types),
        )


class HealthPublic(BaseModel):
    status: Literal["ok"]


class ErrorResponse(BaseModel):
    ok: Literal[False]
    status: int
    error: str
    message: str
    detail: list[dict[str, Any]] | None = None
