"""Documents: upload, list, read, delete, and "more like this"."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from api.deps import ActorDep, FiltersDep, KBDep
from api.schemas import (
    DeleteResponse,
    DocumentDetailPublic,
    DocumentPublic,
    DocumentsPublic,
    SearchResponsePublic,
    UploadResponse,
)
from ingest.metadata import check_document_id
from ingest.pipeline import IngestOptions, ingest_upload
from kb.errors import EmptyInputError, InvalidRequestError, TooLargeError
from kb.models import DOC_TYPES
from kb.search import MAX_LIMIT

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", response_model=UploadResponse, status_code=status.HTTP_201_CREATED)
def upload_document(
    kb: KBDep,
    file: Annotated[UploadFile, File(description="A PDF, text or Markdown file.")],
    document_id: Annotated[str | None, Form(description="Defaults to the file name.")] = None,
    title: Annotated[str | None, Form()] = None,
    doc_type: Annotated[str | None, Form(description=f"One of {', '.join(DOC_TYPES)}.")] = None,
    metadata: Annotated[str | None, Form(description="A JSON object of metadata.")] = None,
) -> UploadResponse:
    """Add a document, or replace the one with the same document_id (same content: no-op)."""
    name = file.filename or "upload"
    limit = kb.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(name, f"over the {kb.settings.max_upload_mb:g} MiB upload limit")
    if not data:
        raise EmptyInputError(name, "the file is empty")
    options = IngestOptions(
        doc_type=doc_type or None,
        metadata=_metadata(metadata),
        document_id=check_document_id(document_id) if document_id else None,
        title=title or None,
    )
    outcome = ingest_upload(kb, name, data, options)
    assert outcome.document_id is not None and outcome.status != "failed"
    return UploadResponse(
        document_id=outcome.document_id,
        status=outcome.status,
        chunks=outcome.chunks,
        document=DocumentPublic.model_validate(
            kb.get_document(outcome.duplicate_of or outcome.document_id)
        ),
        duplicate_of=outcome.duplicate_of,
        near_duplicates=list(outcome.near_duplicates),
    )


def _metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"metadata is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InvalidRequestError("metadata must be a JSON object")
    return value


@router.get("", response_model=DocumentsPublic)
def list_documents(
    kb: KBDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentsPublic:
    """Current documents, newest first, filtered and paginated."""
    total, documents = kb.list_documents(filters, limit, offset)
    return DocumentsPublic(
        total=total,
        limit=limit,
        offset=offset,
        items=[DocumentPublic.model_validate(d) for d in documents],
    )


@router.get("/{document_id}", response_model=DocumentDetailPublic)
def get_document(kb: KBDep, document_id: str) -> DocumentDetailPublic:
    """One document with all of its passages, its links and its near-duplicates."""
    document = kb.get_document(document_id)
    return DocumentDetailPublic.model_validate(
        {
            **document.__dict__,
            "chunks": kb.chunks(document_id),
            "relations": kb.relations(document_id),
            "near_duplicates": kb.near_duplicates(document_id),
        }
    )


@router.delete("/{document_id}", response_model=DeleteResponse)
def delete_document(kb: KBDep, actor: ActorDep, document_id: str) -> DeleteResponse:
    """Move a document to the trash: gone from search and listings at once, restorable with
    POST /documents/{document_id}/restore until it is purged (KB_TRASH_DAYS)."""
    document = kb.delete(document_id, actor)
    return DeleteResponse(
        document_id=document_id, deleted=True, purge_after=kb.purge_after(document)
    )


@router.get("/{document_id}/similar", response_model=SearchResponsePublic)
def similar_documents(
    kb: KBDep,
    filters: FiltersDep,
    document_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchResponsePublic:
    """More like this: documents closest in meaning to this one."""
    return SearchResponsePublic.of(kb.similar(document_id, filters, limit, offset), limit, offset)
