"""Bodies of reading packs as the API and `kb packs --json` show them, and the requests that
change them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.core import Public
from kb.models import MAX_ID, Chunk, Document, Pack
from kb.packs.making import (
    MAX_AUDIENCE_CHARS,
    MAX_OBJECTIVE_CHARS,
    MAX_OBJECTIVES,
    MAX_TITLE_CHARS,
)


class PackItemPublic(Public):
    item_id: int = Field(description="The item's stable id: it names the item in every change.")
    position: int = Field(description="Its place among the items you see, from 0.")
    document_id: str
    chunk_id: int | None = Field(description="A passage of the document, or null for all of it.")
    note: str
    # What a reader needs to show the item without calling for each document and passage;
    # null where the document is gone (trash) or the passage was replaced by a new version.
    title: str | None = None
    doc_type: str | None = None
    date: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    text: str | None = Field(None, description="The passage's text (passage items only).")


class PackPublic(Public):
    pack_id: int
    title: str
    audience: str
    objectives: list[str]
    owner: str
    created_at: str
    updated_at: str
    items: list[PackItemPublic]
    withheld: int = Field(description="Items left out because the viewer may not see them.")

    @classmethod
    def of(cls, pack: Pack, documents: dict[str, Document], chunks: dict[int, Chunk]) -> PackPublic:
        """The pack with each item's document and passage (`KnowledgeBase.pack_contents`)."""
        items = []
        for item in pack.items:
            body = PackItemPublic.model_validate(item).model_dump()
            document = documents.get(item.document_id)
            if document is not None:
                body.update(title=document.title, doc_type=document.doc_type, date=document.date)
            chunk = None if item.chunk_id is None else chunks.get(item.chunk_id)
            if chunk is not None:
                body.update(page_start=chunk.page_start, page_end=chunk.page_end, text=chunk.text)
            items.append(body)
        return cls.model_validate({**pack.__dict__, "items": items})


class PackSummaryPublic(Public):
    """A pack in a listing: its items counted, not shown."""

    pack_id: int
    title: str
    audience: str
    objectives: list[str]
    owner: str
    created_at: str
    updated_at: str
    item_count: int = Field(description="Items the viewer sees.")
    withheld: int = Field(description="Items left out because the viewer may not see them.")

    @classmethod
    def of(cls, pack: Pack) -> PackSummaryPublic:
        return cls.model_validate({**pack.__dict__, "item_count": len(pack.items)})


class PacksPublic(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[PackSummaryPublic]


# As the core checks them (kb.packs.making), declared so the schema says what is accepted.
Objective = Annotated[str, Field(min_length=1, max_length=MAX_OBJECTIVE_CHARS, pattern=r"\S")]


class PackCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(
        min_length=1, max_length=MAX_TITLE_CHARS, pattern=r"\S", examples=["Ceasefire monitoring"]
    )
    audience: str = Field("", max_length=MAX_AUDIENCE_CHARS, examples=["new mediators"])
    objectives: list[Objective] = Field(
        default_factory=list, max_length=MAX_OBJECTIVES, description="Learning objectives."
    )


class PackEditRequest(BaseModel):
    """What to change; what is left out stays. `objectives` replaces the whole list."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE_CHARS, pattern=r"\S")
    audience: str | None = Field(None, max_length=MAX_AUDIENCE_CHARS)
    objectives: list[Objective] | None = Field(None, max_length=MAX_OBJECTIVES)


class PackItemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_id: str = Field(min_length=1)
    chunk_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="One passage of the document (its chunk_id)."
    )
    note: str = ""


class PackNoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(description="The trainer's note; it replaces the one there.")


class PackOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        description="Every item id you see in the pack, once, in the new order; items withheld "
        "from you keep their places."
    )


class PackDuplicateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, description='Default: "Copy of" the title.')
