"""What ingest reports: one outcome per file or record, failures included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kb.models import DocumentDraft

Status = Literal["added", "updated", "unchanged", "duplicate", "failed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "duplicate", "failed")


@dataclass(frozen=True)
class ItemOutcome:
    source: str
    status: Status
    document_id: str | None = None
    reason: str | None = None
    chunks: int = 0
    duplicate_of: str | None = None  # status "duplicate": the document holding this content
    near_duplicates: tuple[str, ...] = ()  # stored documents with nearly the same text
    version: int | None = None  # the version its content was stored as; None: none stored


@dataclass
class IngestReport:
    outcomes: list[ItemOutcome] = field(default_factory=list)
    # files recognised as already stored (same id, same sha256) and so not parsed again
    not_parsed: int = 0

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in STATUSES}

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


OnItem = Callable[[ItemOutcome], None]


# (where it came from, the draft or None, the failure or None)
Prepared = tuple[str, DocumentDraft | None, ItemOutcome | None]
