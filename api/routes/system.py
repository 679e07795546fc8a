"""Health and statistics."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import KBDep, ReaderDep
from api.schemas.core import HealthPublic, StatsPublic

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthPublic)
def health() -> HealthPublic:
    """Liveness: the process answers (the one route open without a key)."""
    return HealthPublic(status="ok")


@router.get("/stats", response_model=StatsPublic)
def stats(kb: KBDep, viewer: ReaderDep) -> StatsPublic:
    """Counts of current documents and passages, the model and the index."""
    return StatsPublic.model_validate(kb.stats(viewer))
