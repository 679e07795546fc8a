"""Bodies of pack suggestions, as the API and `kb packs suggest --json` show them.

The shape `{"theme", "items": [{"document_id", "chunk_id", "title", "why", ...}]}` is relied on
outside the repository: keys may be added to an item, none renamed or removed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.core import FilterValue, Public
from kb.packs.suggesting import MAX_SUGGESTIONS, PackSuggestion


class PackSuggestRequest(BaseModel):
    theme: str = Field(
        ..., min_length=1, description="A few words, parts separated by commas, or a paragraph."
    )
    filters: dict[str, FilterValue] = Field(
        default_factory=dict, description="As for /search: doc_type, date_from, year_min, ..."
    )
    limit: int = Field(10, ge=1, le=MAX_SUGGESTIONS)
    order: Literal["relevance", "chronological", "type"] = "relevance"


class SuggestedItemPublic(Public):
    document_id: str
    chunk_id: int | None = Field(description="The document's best passage for the theme.")
    title: str
    why: str = Field(description="Why it was picked: what it answers, what it adds, its type.")
    doc_type: str
    date: str | None
    region: str | None
    page_start: int | None
    page_end: int | None


class PackSuggestionPublic(BaseModel):
    theme: str
    items: list[SuggestedItemPublic]

    @classmethod
    def of(cls, suggestion: PackSuggestion) -> PackSuggestionPublic:
        return cls(
            theme=suggestion.theme,
            items=[SuggestedItemPublic.model_validate(i) for i in suggestion.items],
        )
