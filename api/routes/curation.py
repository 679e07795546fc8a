"""Evaluators' changes: edit metadata, restore from the trash, versions, relations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import ActorDep, AdminDep, IdPath, KBDep, Offset, ReaderDep, SchemaDep, WriterDep
from api.schemas.core import DocumentPublic
from api.schemas.curation import (
    DocumentRelationsPublic,
    EditRequest,
    PurgeResponse,
    RelationRequest,
    TrashedPublic,
    TrashPublic,
    VersionDetailPublic,
    VersionPublic,
    VersionsPublic,
)
from ingest.metadata import normalise_changes
from kb.models import Document
from kb.search.searcher import MAX_LIMIT

router = APIRouter(tags=["curation"])


@router.patch("/documents/{document_id}", response_model=DocumentPublic)
def edit_document(
    kb: KBDep,
    viewer: WriterDep,
    actor: ActorDep,
    schema: SchemaDep,
    document_id: str,
    body: EditRequest,
) -> Any:
    """Edit title, type, date or metadata without re-embedding; filters see it at once. The
    edited document must still meet its type's metadata schema (422 names the field)."""
    changes = normalise_changes(body.model_dump(exclude_unset=True))
    return kb.edit(document_id, changes, actor, schema, viewer)


@router.post("/documents/{document_id}/restore", response_model=DocumentPublic)
def restore_document(kb: KBDep, viewer: WriterDep, actor: ActorDep, document_id: str) -> Any:
    """Bring a document back from the trash, searchable again."""
    return kb.restore(document_id, actor, viewer)


@router.get("/trash", response_model=TrashPublic)
def list_trash(
    kb: KBDep,
    viewer: WriterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Offset = 0,
) -> TrashPublic:
    """Deleted documents, most recent first, with when each may be purged."""
    total, documents = kb.trash(limit, offset, viewer)
    return TrashPublic(
        total=total, limit=limit, offset=offset, items=[trashed(kb, d) for d in documents]
    )


@router.delete("/trash/{document_id}", response_model=PurgeResponse)
def purge_document(kb: KBDep, viewer: AdminDep, actor: ActorDep, document_id: str) -> PurgeResponse:
    """Purge one document in the trash now: its text leaves SQLite, FTS and FAISS."""
    kb.purge(document_id, actor, viewer)
    return PurgeResponse(purged=[document_id])


@router.post("/trash/purge", response_model=PurgeResponse)
def purge_expired(kb: KBDep, viewer: AdminDep, actor: ActorDep) -> PurgeResponse:
    """Purge every document that has been in the trash longer than KB_TRASH_DAYS."""
    return PurgeResponse(purged=kb.purge_expired(actor))


@router.get("/documents/{document_id}/versions", response_model=VersionsPublic)
def list_versions(kb: KBDep, viewer: ReaderDep, document_id: str) -> VersionsPublic:
    """The current version and the earlier ones it replaced, newest first."""
    return VersionsPublic(
        document_id=document_id,
        versions=[
            VersionPublic.model_validate(
                {**v.__dict__, "current": v.replaced_at is None, "has_original": v.has_original}
            )
            for v in kb.versions(document_id, viewer)
        ],
    )


@router.get("/documents/{document_id}/versions/{version}", response_model=VersionDetailPublic)
def get_version(
    kb: KBDep, viewer: ReaderDep, document_id: str, version: IdPath
) -> VersionDetailPublic:
    """An earlier version with its passages (history only: search never sees it)."""
    found, passages = kb.version(document_id, version, viewer)
    return VersionDetailPublic.model_validate(
        {
            **found.__dict__,
            "current": False,
            "passages": passages,
            "has_original": found.has_original,
        }
    )


@router.get("/documents/{document_id}/relations", response_model=DocumentRelationsPublic)
def list_relations(kb: KBDep, viewer: ReaderDep, document_id: str) -> DocumentRelationsPublic:
    """Links from and to this document."""
    return DocumentRelationsPublic(
        document_id=document_id, relations=kb.relations(document_id, viewer)
    )


@router.post(
    "/documents/{document_id}/relations",
    response_model=DocumentRelationsPublic,
    status_code=status.HTTP_201_CREATED,
)
def add_relation(
    kb: KBDep, viewer: WriterDep, actor: ActorDep, document_id: str, body: RelationRequest
) -> DocumentRelationsPublic:
    """Link this document to another: it `relation`s `target_id` (evaluates, draws-on...)."""
    links = kb.relate(document_id, body.relation, body.target_id, actor, viewer)
    return DocumentRelationsPublic(document_id=document_id, relations=links)


@router.delete(
    "/documents/{document_id}/relations/{relation}/{target_id}",
    response_model=DocumentRelationsPublic,
)
def remove_relation(
    kb: KBDep,
    viewer: WriterDep,
    actor: ActorDep,
    document_id: str,
    relation: str,
    target_id: str,
) -> DocumentRelationsPublic:
    kb.unrelate(document_id, relation, target_id, actor, viewer)
    return DocumentRelationsPublic(
        document_id=document_id, relations=kb.relations(document_id, viewer)
    )


def trashed(kb: Any, document: Document) -> TrashedPublic:
    return TrashedPublic.model_validate(
        {
            **document.__dict__,
            "purge_after": kb.purge_after(document),
            "has_original": document.has_original,
        }
    )
