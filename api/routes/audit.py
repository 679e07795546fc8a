"""The audit log: every change, who made it and when, with before and after."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminDep, KBDep, Offset
from api.schemas.curation import AuditEntryPublic, AuditPublic
from kb.search.searcher import MAX_LIMIT

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPublic)
def read_audit(
    kb: KBDep,
    viewer: AdminDep,
    document_id: Annotated[str | None, Query(description="Changes to this document.")] = None,
    action: Annotated[str | None, Query(description="add, replace, edit, delete, ...")] = None,
    actor: Annotated[str | None, Query(description="Changes by this actor.")] = None,
    since: Annotated[str | None, Query(description="ISO time; changes at or after it.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Offset = 0,
) -> AuditPublic:
    """Changes, newest first, filtered and paginated (admins only)."""
    since = since if since and since.strip() else None  # left blank: no bound
    total, entries = kb.audit(document_id, action, actor, since, limit, offset, viewer)
    return AuditPublic(
        total=total,
        limit=limit,
        offset=offset,
        items=[AuditEntryPublic.model_validate(e) for e in entries],
    )
