"""Precedent's core: models, store, index, embedder and search. Imports nothing from
`ingest` or `api`."""

from __future__ import annotations

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.models import (
    DOC_TYPES,
    AddOutcome,
    Chunk,
    ChunkDraft,
    Document,
    DocumentDraft,
    Filters,
    Passage,
    Precedent,
    SearchRequest,
    SearchResponse,
    Stats,
    Suggestion,
)
from kb.settings import Settings

__all__ = [
    "DOC_TYPES",
    "AddOutcome",
    "Chunk",
    "ChunkDraft",
    "Document",
    "DocumentDraft",
    "Filters",
    "KBError",
    "KnowledgeBase",
    "Passage",
    "Precedent",
    "SearchRequest",
    "SearchResponse",
    "Settings",
    "Stats",
    "Suggestion",
]
