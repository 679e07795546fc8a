"""What evaluators do to stored documents: edit, delete and restore, purge, read versions and
the audit log, link documents; the KnowledgeBase brings the vector index along with each change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from kb.errors import InvalidMetadataError, InvalidRequestError, NotFoundError
from kb.models import AuditEntry, Document, DocumentDraft, Relation, Version
from kb.relations import check_relation
from kb.schema import MetadataSchema, validate_metadata
from kb.settings import Settings
from kb.simhash import near
from kb.store import Store, WriteResult

# Fields of a document that an edit may change; its content changes only by a new version.
EDITABLE = ("title", "doc_type", "date", "metadata")


class Curation:
    store: Store
    settings: Settings

    def _change(self, write: Callable[[], WriteResult]) -> None:
        """Run a store write and bring the vector index along (the KnowledgeBase does)."""
        raise NotImplementedError

    def writing(self) -> AbstractContextManager[None]:
        """The store's one-writer lock (the KnowledgeBase holds it)."""
        raise NotImplementedError

    # -- reading what is there ------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """A live document; one in the trash is not found (its message says how to restore)."""
        document = self.store.get_document(document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id!r}")
        if document.deleted_at is not None:
            raise NotFoundError(
                f"document {document_id!r} is in the trash since {document.deleted_at}; "
                "restore it to see it"
            )
        return document

    def _trashed(self, document_id: str) -> Document:
        document = self.store.get_document(document_id)
        if document is None or document.deleted_at is None:
            raise NotFoundError(f"no document {document_id!r} in the trash")
        return document

    # -- editing --------------------------------------------------------------------------

    def edit(
        self,
        document_id: str,
        changes: Mapping[str, Any],
        actor: str,
        schema: MetadataSchema | None = None,
    ) -> Document:
        """Change title, doc_type, date and metadata without re-embedding. `metadata` is a
        merge patch: a key set to None is removed, the others are set. With a schema, the
        edited document must still meet its type's rule (InvalidMetadataError names the field)."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidRequestError(
                f"cannot edit {', '.join(sorted(unknown))}; editable fields are "
                f"{', '.join(EDITABLE)} (upload a new version to change the text)"
            )
        document = self.get_document(document_id)
        metadata = dict(document.metadata)
        for key, value in (changes.get("metadata") or {}).items():
            if value is None:
                metadata.pop(key, None)
            else:
                metadata[key] = value
        title = changes.get("title") or document.title
        doc_type = changes.get("doc_type") or document.doc_type
        if schema is not None:
            try:
                metadata = validate_metadata(schema, doc_type, title, metadata)
            except InvalidMetadataError as exc:
                raise exc.naming(document_id) from None
        draft = DocumentDraft(
            document_id=document_id,
            title=title,
            doc_type=doc_type,
            source_name=document.source_name,
            sha256=document.sha256,
            metadata=metadata,
            date=changes["date"] if "date" in changes else document.date,
            chunks=(),
        )
        before = (document.title, document.doc_type, document.date, dict(document.metadata))
        if before != (draft.title, draft.doc_type, draft.date, metadata):
            self._change(lambda: self.store.update_document_fields(draft, actor))
        return self.get_document(document_id)

    # -- the trash --------------------------------------------------------------------------

    def delete(self, document_id: str, actor: str = "system") -> Document:
        """Move a document to the trash: gone from every read, restorable for `trash_days`."""
        self.get_document(document_id)
        self._change(lambda: self.store.soft_delete(document_id, actor))
        return self._trashed(document_id)

    def restore(self, document_id: str, actor: str = "system") -> Document:
        self._trashed(document_id)
        self._change(lambda: self.store.restore(document_id, actor))
        return self.get_document(document_id)

    def purge(self, document_id: str, actor: str = "system") -> None:
        """Remove a document in the trash for good, text and all (the audit log keeps a line)."""
        self._trashed(document_id)
        self._change(lambda: self.store.purge(document_id, actor))

    def purge_expired(self, actor: str = "system") -> list[str]:
        """Purge what has been in the trash longer than `trash_days`; returns their ids."""
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.trash_days)
        expired = self.store.trashed_before(cutoff.isoformat(timespec="seconds"))
        for document_id in expired:
            self._change(lambda d=document_id: self.store.purge(d, actor))  # type: ignore[misc]
        return expired

    def trash(self, limit: int = 20, offset: int = 0) -> tuple[int, list[Document]]:
        return self.store.trash(limit, offset)

    def purge_after(self, document: Document) -> str | None:
        """When a document in the trash becomes due for purging."""
        if document.deleted_at is None:
            return None
        moment = datetime.fromisoformat(document.deleted_at)
        return (moment + timedelta(days=self.settings.trash_days)).isoformat(timespec="seconds")

    # -- versions, duplicates, the audit log -------------------------------------------------

    def versions(self, document_id: str) -> list[Version]:
        """The current version first, then the earlier ones, newest first."""
        document = self.get_document(document_id)
        current = Version(
            version=document.version,
            title=document.title,
            doc_type=document.doc_type,
            source_name=document.source_name,
            sha256=document.sha256,
            metadata=document.metadata,
            date=document.date,
            created_at=document.updated_at,
            replaced_at=None,
            chunk_count=document.chunk_count,
        )
        return [current, *self.store.versions(document_id)]

    def version(self, document_id: str, number: int) -> tuple[Version, list[dict[str, Any]]]:
        self.get_document(document_id)
        found = self.store.version(document_id, number)
        if found is None:
            raise NotFoundError(f"document {document_id!r} has no earlier version {number}")
        return found

    def near_duplicates(self, document_id: str) -> list[str]:
        """Live documents whose text is nearly this one's (another layout, a re-scan)."""
        self.get_document(document_id)
        fingerprint = self.store.simhash_of(document_id)
        bits = self.settings.near_duplicate_bits
        if fingerprint is None or bits == 0:
            return []
        ids, hashes = self.store.live_simhashes()
        return [ids[i] for i in near(fingerprint, hashes, bits) if ids[i] != document_id]

    def audit(
        self,
        document_id: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[AuditEntry]]:
        """Changes, newest first."""
        return self.store.audit_entries(document_id, action, actor, since, limit, offset)

    # -- relations ----------------------------------------------------------------------------

    def relate(self, source_id: str, relation: str, target_id: str, actor: str) -> list[Relation]:
        """Link two live documents (`source_id` `relation` `target_id`); returns the source's
        links. Linking twice is a no-op."""
        check_relation(relation)
        if source_id == target_id:
            raise InvalidRequestError("a document cannot be linked to itself")
        self.get_document(source_id)
        self.get_document(target_id)
        with self.writing():
            self.store.add_relation(source_id, relation, target_id, actor)
        return self.store.relations_of(source_id)

    def unrelate(self, source_id: str, relation: str, target_id: str, actor: str) -> None:
        self.get_document(source_id)
        with self.writing():
            removed = self.store.remove_relation(
                source_id, check_relation(relation), target_id, actor
            )
        if not removed:
            raise NotFoundError(f"{source_id!r} has no link {relation!r} to {target_id!r}")

    def relations(self, document_id: str) -> list[Relation]:
        self.get_document(document_id)
        return self.store.relations_of(document_id)
