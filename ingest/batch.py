"""Writing prepared documents in batches of a few hundred passages, one transaction each."""

from __future__ import annotations

from ingest.outcomes import IngestReport, ItemOutcome, OnItem, Prepared
from kb.access import Viewer
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.models import AddOutcome, AddResult, DocumentDraft


class Batch:
    """Collects prepared documents and writes them in transactions of a few hundred passages."""

    def __init__(
        self,
        kb: KnowledgeBase,
        report: IngestReport,
        on_item: OnItem | None,
        actor: str,
        viewer: Viewer | None = None,
    ) -> None:
        self._actor = actor
        self._viewer = viewer
        self._kb = kb
        self._report = report
        self._on_item = on_item
        self._drafts: list[tuple[str, DocumentDraft]] = []
        self._seen: dict[str, str] = {}

    def report_one(self, outcome: ItemOutcome) -> None:
        self._report.outcomes.append(outcome)
        if self._on_item is not None:
            self._on_item(outcome)

    def offer(self, item: Prepared) -> None:
        source, draft, failure = item
        if failure is not None or draft is None:
            self.report_one(failure or ItemOutcome(source, "failed", reason="nothing read"))
            return
        first = self._seen.get(draft.document_id)
        if first is not None:
            self.report_one(
                ItemOutcome(
                    source,
                    "failed",
                    draft.document_id,
                    reason=f"document_id {draft.document_id!r} is already taken by {first} in this "
                    'batch; give one of them a "document_id" in its sidecar',
                )
            )
            return
        self._seen[draft.document_id] = source
        self._drafts.append((source, draft))
        # A draft recognised without parsing has no passages; it still counts, so a re-run of
        # thousands of stored files reports progress batch by batch.
        size = sum(max(1, len(d.chunks)) for _, d in self._drafts)
        if size >= self._kb.settings.ingest_batch_chunks:
            self.flush()

    def flush(self) -> None:
        drafts, self._drafts = self._drafts, []
        if not drafts:
            return
        try:
            results = self._kb.add([d for _, d in drafts], self._actor, self._viewer)
        except KBError as exc:
            for source, draft in drafts:
                self.report_one(
                    ItemOutcome(source, "failed", draft.document_id, reason=exc.message)
                )
            return
        for (source, draft), result in zip(drafts, results, strict=True):
            if not draft.chunks:
                self._report.not_parsed += 1  # recognised as stored before it was parsed
            self.report_one(outcome_of(source, draft, result))


def outcome_of(source: str, draft: DocumentDraft, result: AddResult) -> ItemOutcome:
    duplicate = result.outcome is AddOutcome.DUPLICATE
    added = result.outcome not in (AddOutcome.DUPLICATE, AddOutcome.FAILED)
    return ItemOutcome(
        source,
        result.outcome.value,
        draft.document_id,
        reason=f"the same content is already stored as {result.duplicate_of!r}"
        if duplicate
        else result.reason,
        chunks=len(draft.chunks) if added else 0,
        duplicate_of=result.duplicate_of,
        near_duplicates=result.near_duplicates,
        version=result.version,
    )
