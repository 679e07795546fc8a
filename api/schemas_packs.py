"""Bodies of reading packs as the API and `kb packs --json` show them."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Public


class PackItemPublic(Public):
    position: int
    document_id: str
    chunk_id: int | None = Field(description="A passage of the document, or null for all of it.")
    note: str


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
