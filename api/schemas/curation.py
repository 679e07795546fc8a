"""Request and response bodies for editing, the trash, versions, relations and the audit log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.core import DocumentPublic, Public, RelationPublic
from kb.access import LEVELS
from kb.models import DOC_TYPES
from kb.relations import RELATION_TYPES

DocType = Literal[DOC_TYPES]  # type: ignore[valid-type]


class EditRequest(BaseModel):
    """Fields to change; what is left out stays. The text changes only by a new version."""

    title: str | None = Field(None, min_length=1)
    doc_type: DocType | None = None
    date: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD; null keeps it.")
    metadata: dict[str, Any] | None = Field(
        None,
        description=(
            "A merge patch: each key is set to its value, a key set to null is removed. A list "
            'field may be one string, its items separated by ";".'
        ),
        examples=[{"stage": "implementation", "obsolete_key": None}],
    )
    classification: Literal[LEVELS] | None = Field(  # type: ignore[valid-type]
        None, description="A new marking, up to your own clearance."
    )
    groups: list[str] | None = Field(
        None,
        description="New need-to-know groups ([] for none, null keeps them); you must stay in "
        "one of them.",
    )


class RelationRequest(BaseModel):
    relation: Literal[RELATION_TYPES]  # type: ignore[valid-type]
    target_id: str = Field(min_length=1, description="The document this one relates to.")


class DocumentRelationsPublic(Public):
    document_id: str
    relations: list[RelationPublic]


class TrashedPublic(DocumentPublic):
    deleted_at: str
    deleted_by: str | None
    purge_after: str = Field(description="When `kb trash purge` may remove it for good.")


class TrashPublic(Public):
    total: int
    limit: int
    offset: int
    items: list[TrashedPublic]


class PurgeResponse(Public):
    purged: list[str]


class VersionPublic(Public):
    version: int
    current: bool
    title: str
    doc_type: str
    source_name: str
    sha256: str
    metadata: dict[str, Any]
    date: str | None
    created_at: str
    replaced_at: str | None = Field(description="When a newer version replaced it.")
    chunk_count: int
    has_original: bool = Field(
        False, description="Its file is kept: GET /documents/{id}/versions/{n}/original."
    )
    classification: str = Field(
        "internal",
        description="The marking this version was stored with; reading it needs clearance "
        "for it (versions marked above the reader are left out).",
    )
    groups: list[str] = Field(default_factory=list)


class VersionsPublic(Public):
    document_id: str
    versions: list[VersionPublic] = Field(description="The current version first.")


class VersionPassagePublic(Public):
    ordinal: int
    text: str
    heading: str | None
    page_start: int
    page_end: int
    ocr: bool


class VersionDetailPublic(VersionPublic):
    passages: list[VersionPassagePublic]


class AuditEntryPublic(Public):
    audit_id: int
    at: str
    actor: str
    action: str = Field(
        description="add, replace, edit, delete, restore, purge, relate or unrelate."
    )
    document_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None


class AuditPublic(Public):
    total: int
    limit: int
    offset: int
    items: list[AuditEntryPublic]
