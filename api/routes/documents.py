"""Documents: list, read, delete, and "more like this" (uploads: api/routes/uploads.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ActorDep, FiltersDep, KBDep, Offset, ReaderDep, WriterDep
from api.schemas.core import (
    DeleteResponse,
    DocumentDetailPublic,
    DocumentPublic,
    DocumentsPublic,
    SearchResponsePublic,
)
from kb.search.searcher import MAX_LIMIT

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("", response_model=DocumentsPublic)
def list_documents(
    kb: KBDep,
    viewer: ReaderDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Offset = 0,
) -> DocumentsPublic:
    """Current documents, newest first, filtered and paginated."""
    total, documents = kb.list_documents(filters, limit, offset, viewer)
    return DocumentsPublic(
        total=total,
        limit=limit,
        offset=offset,
        items=[DocumentPublic.model_validate(d) for d in documents],
    )


@router.get("/{document_id}", response_model=DocumentDetailPublic)
def get_document(kb: KBDep, viewer: ReaderDep, document_id: str) -> DocumentDetailPublic:
    """One document with all of its passages, its links and its near-duplicates."""
    document = kb.get_document(document_id, viewer)
    return DocumentDetailPublic.model_validate(
        {
            **document.__dict__,
            "has_original": document.has_original,
            "chunks": kb.chunks(document_id, viewer),
            "relations": kb.relations(document_id, viewer),
            "near_duplicates": kb.near_duplicates(document_id, viewer),
        }
    )


@router.delete("/{document_id}", response_model=DeleteResponse)
def delete_document(
    kb: KBDep, viewer: WriterDep, actor: ActorDep, document_id: str
) -> DeleteResponse:
    """Move a document to the trash: gone from search and listings at once, restorable with
    POST /documents/{document_id}/restore until it is purged (KB_TRASH_DAYS)."""
    document = kb.delete(document_id, actor, viewer)
    return DeleteResponse(
        document_id=document_id, deleted=True, purge_after=kb.purge_after(document)
    )


@router.get("/{document_id}/similar", response_model=SearchResponsePublic)
def similar_documents(
    kb: KBDep,
    viewer: ReaderDep,
    filters: FiltersDep,
    document_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Offset = 0,
) -> SearchResponsePublic:
    """More like this: documents closest in meaning to this one."""
    return SearchResponsePublic.of(
        kb.similar(document_id, filters, limit, offset, viewer), limit, offset
    )
