"""Adding documents, or new versions of them: what is unchanged, a duplicate, a change of
fields only or new content to embed, and writing the new content with its vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kb.access import Viewer, may_see
from kb.documents.curation import Curation, check_marking
from kb.documents.writing import DIMENSION_KEY, MODEL_KEY, Writer
from kb.embedding.embedder import Embedder
from kb.errors import ForbiddenError, InvalidMetadataError
from kb.look_alikes import look_alike_refusal, look_alikes
from kb.metadata.limits import check_metadata
from kb.models import AddOutcome, AddResult, DocumentDraft
from kb.settings import Settings
from kb.simhash import near, simhash
from kb.store.protocol import Fingerprint, Store


class Adding:
    """Adds drafts through the writer; who may see which stored document is the curation's
    say."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        embedder: Embedder,
        writer: Writer,
        curation: Curation,
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self._writer = writer
        self._curation = curation

    def add(
        self, drafts: Sequence[DocumentDraft], actor: str = "system", viewer: Viewer | None = None
    ) -> list[AddResult]:
        """Add documents, or new versions of them: unchanged ones are skipped, metadata-only
        changes are applied without re-embedding, content already stored under another id is
        refused as a duplicate, the rest are embedded and written in one transaction (and
        flagged when nearly the same as a stored document). With a viewer, a document they may
        not see is as if absent: its id cannot be written, its content is no duplicate."""
        known = self.store.fingerprints([d.document_id for d in drafts])
        holders = self._holders([d.sha256 for d in drafts], viewer)
        fresh_ids = [d.document_id for d in drafts if d.document_id not in known]
        alikes = look_alikes(self.store, fresh_ids)
        results: dict[str, AddResult] = {}
        to_write: list[DocumentDraft] = []
        for given in drafts:
            before = known.get(given.document_id)
            draft = self._marked(given, before)
            refusal = self._refusal(draft, before, viewer) or look_alike_refusal(
                self.store, draft.document_id, alikes, viewer
            )
            if refusal is not None:
                results[draft.document_id] = AddResult(
                    draft.document_id, AddOutcome.FAILED, reason=refusal
                )
                continue
            if before is not None and not before.deleted and before.sha256 == draft.sha256:
                results[draft.document_id] = AddResult(
                    draft.document_id, self._update_fields(draft, before, actor)
                )
                continue
            holder = holders.setdefault(draft.sha256, draft.document_id)
            if holder != draft.document_id:
                results[draft.document_id] = AddResult(
                    draft.document_id, AddOutcome.DUPLICATE, duplicate_of=holder
                )
                continue
            fresh = before is None or before.deleted
            results[draft.document_id] = AddResult(
                draft.document_id,
                AddOutcome.ADDED if fresh else AddOutcome.UPDATED,
                version=1 if before is None else before.version + 1,
            )
            to_write.append(draft)
        if to_write:
            fingerprints = [simhash(c.text for c in d.chunks) for d in to_write]
            for draft, near_ids in zip(to_write, self._near(to_write, fingerprints), strict=True):
                shown = tuple(self._curation.visible_ids(list(near_ids), viewer))
                if shown:
                    results[draft.document_id] = replace(
                        results[draft.document_id], near_duplicates=shown
                    )
            self._write(to_write, fingerprints, actor)
        for draft in drafts:
            result = results[draft.document_id]
            if not draft.relations or result.outcome in (AddOutcome.DUPLICATE, AddOutcome.FAILED):
                continue
            with self._writer.writing():
                added = self.store.add_relations(draft.document_id, draft.relations, actor)
            if added and result.outcome is AddOutcome.UNCHANGED:
                results[draft.document_id] = replace(result, outcome=AddOutcome.UPDATED)
        return [results[d.document_id] for d in drafts]

    def _marked(self, draft: DocumentDraft, before: Fingerprint | None) -> DocumentDraft:
        """The draft with its marking settled: as given, else as stored, else the default."""
        classification = draft.classification or (
            before.classification if before else self.settings.default_classification
        )
        groups = draft.groups if draft.groups is not None else (before.groups if before else ())
        return replace(draft, classification=classification, groups=tuple(sorted(groups)))

    def _refusal(
        self, draft: DocumentDraft, before: Fingerprint | None, viewer: Viewer | None
    ) -> str | None:
        if before is not None and not may_see(viewer, before.classification, before.groups):
            # Said as of any id one may not use, so it tells nothing of what is there.
            return f"document_id {draft.document_id!r} is not available; choose another"
        try:
            check_marking(draft, viewer)
            check_metadata(draft.metadata)
        except (ForbiddenError, InvalidMetadataError) as exc:
            return exc.message
        # A draft without passages (a file not parsed again) may only re-label stored bytes.
        if not draft.chunks and (before is None or before.deleted or before.sha256 != draft.sha256):
            return "the stored document changed during this import; ingest it again"
        return None

    def _update_fields(self, draft: DocumentDraft, before: Fingerprint, actor: str) -> AddOutcome:
        """Same content: apply changed fields and marking without re-embedding."""
        fields = (dict(draft.metadata), draft.title, draft.doc_type, draft.date)
        marking = (draft.classification, draft.groups)
        stored = (before.metadata, before.title, before.doc_type, before.date)
        if stored == fields and (before.classification, before.groups) == marking:
            return AddOutcome.UNCHANGED
        self._writer.change(lambda: self.store.update_document_fields(draft, actor))
        return AddOutcome.UPDATED

    def _holders(self, hashes: list[str], viewer: Viewer | None) -> dict[str, str]:
        """content hash -> a live document holding it that the viewer may see."""
        holders = self.store.live_with_sha(hashes)
        shown = set(self._curation.visible_ids(list(holders.values()), viewer))
        return {sha: holder for sha, holder in holders.items() if holder in shown}

    def _near(
        self, drafts: list[DocumentDraft], fingerprints: list[int | None]
    ) -> list[tuple[str, ...]]:
        """For each draft, the stored or earlier drafts whose text is nearly the same."""
        bits = self.settings.near_duplicate_bits
        if bits == 0:
            return [()] * len(drafts)
        ids, hashes = self.store.live_simhashes()
        found: list[tuple[str, ...]] = []
        for draft, fingerprint in zip(drafts, fingerprints, strict=True):
            if fingerprint is None:
                found.append(())
                continue
            hits = (ids[i] for i in near(fingerprint, hashes, bits))
            found.append(tuple(dict.fromkeys(h for h in hits if h != draft.document_id)))
            ids.append(draft.document_id)
            hashes.append(fingerprint)
        return found

    def _write(
        self, drafts: list[DocumentDraft], fingerprints: list[int | None], actor: str
    ) -> None:
        texts = [chunk.text for draft in drafts for chunk in draft.chunks]
        vectors = self.embedder.encode_documents(texts)
        per_document = np.split(vectors, np.cumsum([len(d.chunks) for d in drafts])[:-1])
        with self._writer.writing():
            if self.store.get_meta(MODEL_KEY) is None:
                self.store.set_meta(MODEL_KEY, self.embedder.name)
                self.store.set_meta(DIMENSION_KEY, str(vectors.shape[1]))
            self._writer.index()  # make sure the cache is current before extending it
            result = self.store.write_documents(drafts, per_document, fingerprints, actor)
            self._writer.apply(result, vectors)
