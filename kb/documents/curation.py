"""What evaluators do to stored documents: edit, delete and restore, purge, read versions and
the audit log, link documents; the writer it is given brings the vector index along with each
change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from kb.access import LEVELS, Viewer, check_groups, check_level, may_see
from kb.errors import ForbiddenError, InvalidMetadataError, InvalidRequestError, NotFoundError
from kb.metadata.filters import parse_since
from kb.metadata.limits import check_metadata
from kb.metadata.schema import MetadataSchema, validate_metadata
from kb.models import AuditEntry, Document, DocumentDraft, Filters, Relation, Version
from kb.relations import check_relation
from kb.settings import Settings
from kb.simhash import near
from kb.store.protocol import Store, WriteResult

# Fields of a document that an edit may change; its content changes only by a new version.
EDITABLE = ("title", "doc_type", "date", "metadata", "classification", "groups")
Seen = Viewer | None
# What the knowledge base's writer lends: a store write with the index brought along, and
# the writer lock alone (for writes that touch no vector).
Change = Callable[[Callable[[], WriteResult]], None]
Writing = Callable[[], AbstractContextManager[None]]


class Curation:
    """Reads and changes stored documents for a viewer; the writes go through `change` (the
    store write with the vector index brought along) or `writing` (the writer lock alone)."""

    def __init__(self, store: Store, settings: Settings, change: Change, writing: Writing) -> None:
        self.store = store
        self.settings = settings
        self._change = change
        self._writing = writing

    # -- reading what is there ------------------------------------------------------------

    def get_document(self, document_id: str, viewer: Seen = None) -> Document:
        """A live document the viewer may see; one in the trash is not found (its message says
        how to restore); one hidden from the viewer is not found exactly like a missing one."""
        document = self.store.get_document(document_id)
        if document is None or not visible(document, viewer):
            raise NotFoundError(f"no document {document_id!r}")
        if document.deleted_at is not None:
            raise NotFoundError(
                f"document {document_id!r} is in the trash since {document.deleted_at}; "
                "restore it to see it"
            )
        return document

    def _trashed(self, document_id: str, viewer: Seen) -> Document:
        document = self.store.get_document(document_id)
        if document is None or document.deleted_at is None or not visible(document, viewer):
            raise NotFoundError(f"no document {document_id!r} in the trash")
        return document

    # -- editing --------------------------------------------------------------------------

    def edit(
        self,
        document_id: str,
        changes: Mapping[str, Any],
        actor: str,
        schema: MetadataSchema | None = None,
        viewer: Seen = None,
    ) -> Document:
        """Change title, doc_type, date and metadata without re-embedding. `metadata` is a
        merge patch: a key set to None is removed, the others are set. Groups None stay as
        they are (an empty list removes them): a client that sends untouched fields as null
        must never open a document to everyone. With a schema, the edited document must still
        meet its type's rule (InvalidMetadataError names the field)."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidRequestError(
                f"cannot edit {', '.join(sorted(unknown))}; editable fields are "
                f"{', '.join(EDITABLE)} (upload a new version to change the text)"
            )
        document = self.get_document(document_id, viewer)
        metadata = dict(document.metadata)
        for key, value in (changes.get("metadata") or {}).items():
            if value is None:
                metadata.pop(key, None)
            else:
                metadata[key] = value
        title = changes.get("title") or document.title
        groups = changes.get("groups")
        doc_type = changes.get("doc_type") or document.doc_type
        try:
            check_metadata(metadata)  # before anything is written: reads must be able to show it
            if schema is not None:
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
            classification=changes.get("classification") or document.classification,
            groups=document.groups if groups is None else check_groups(groups),
        )
        check_marking(draft, viewer)
        before = (
            document.title,
            document.doc_type,
            document.date,
            dict(document.metadata),
            document.classification,
            document.groups,
        )
        after = (draft.title, draft.doc_type, draft.date, metadata, draft.classification)
        if before != (*after, tuple(sorted(draft.groups or ()))):
            self._change(lambda: self.store.update_document_fields(draft, actor))
        return self.get_document(document_id, viewer)

    # -- the trash --------------------------------------------------------------------------

    def delete(self, document_id: str, actor: str = "system", viewer: Seen = None) -> Document:
        """Move a document to the trash: gone from every read, restorable for `trash_days`."""
        self.get_document(document_id, viewer)
        self._change(lambda: self.store.soft_delete(document_id, actor))
        return self._trashed(document_id, viewer)

    def restore(self, document_id: str, actor: str = "system", viewer: Seen = None) -> Document:
        self._trashed(document_id, viewer)
        self._change(lambda: self.store.restore(document_id, actor))
        return self.get_document(document_id, viewer)

    def purge(self, document_id: str, actor: str = "system", viewer: Seen = None) -> None:
        """Remove a document in the trash for good, text and all (the audit log keeps a line)."""
        self._trashed(document_id, viewer)
        self._change(lambda: self.store.purge(document_id, actor))

    def purge_expired(self, actor: str = "system") -> list[str]:
        """Purge what has been in the trash longer than `trash_days`; returns their ids."""
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.trash_days)
        expired = self.store.trashed_before(cutoff.isoformat(timespec="seconds"))
        for document_id in expired:
            self._change(lambda d=document_id: self.store.purge(d, actor))  # type: ignore[misc]
        return expired

    def trash(
        self, limit: int = 20, offset: int = 0, viewer: Seen = None
    ) -> tuple[int, list[Document]]:
        return self.store.trash(Filters(viewer=viewer), limit, offset)

    def purge_after(self, document: Document) -> str | None:
        """When a document in the trash becomes due for purging."""
        if document.deleted_at is None:
            return None
        moment = datetime.fromisoformat(document.deleted_at)
        return (moment + timedelta(days=self.settings.trash_days)).isoformat(timespec="seconds")

    # -- versions, duplicates, the audit log -------------------------------------------------

    def versions(self, document_id: str, viewer: Seen = None) -> list[Version]:
        """The current version first, then the earlier ones, newest first."""
        document = self.get_document(document_id, viewer)
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
            original=document.original,
            classification=document.classification,
            groups=document.groups,
        )
        earlier = [v for v in self.store.versions(document_id) if visible_version(v, viewer)]
        return [current, *earlier]

    def version(
        self, document_id: str, number: int, viewer: Seen = None
    ) -> tuple[Version, list[dict[str, Any]]]:
        self.get_document(document_id, viewer)
        found = self.store.version(document_id, number)
        # A version marked above the viewer is not found, exactly like one that never was.
        if found is None or not visible_version(found[0], viewer):
            raise NotFoundError(f"document {document_id!r} has no earlier version {number}")
        return found

    def near_duplicates(self, document_id: str, viewer: Seen = None) -> list[str]:
        """Live documents the viewer may see whose text is nearly this one's."""
        self.get_document(document_id, viewer)
        fingerprint = self.store.simhash_of(document_id)
        bits = self.settings.near_duplicate_bits
        if fingerprint is None or bits == 0:
            return []
        ids, hashes = self.store.live_simhashes()
        found = [ids[i] for i in near(fingerprint, hashes, bits) if ids[i] != document_id]
        return self.visible_ids(found, viewer)

    def visible_ids(self, document_ids: list[str], viewer: Seen) -> list[str]:
        """Those of these ids, in order, that name a document the viewer may see."""
        if viewer is None or not document_ids:
            return document_ids
        documents = self.store.documents_by_id(document_ids)
        return [d for d in document_ids if d in documents and visible(documents[d], viewer)]

    def audit(
        self,
        document_id: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        limit: int = 50,
        offset: int = 0,
        viewer: Seen = None,
    ) -> tuple[int, list[AuditEntry]]:
        """Changes, newest first: for a viewer, only those to documents they may see (a purged
        document's entries only with full rights: its marking is gone with it)."""
        bound = None if since is None else parse_since(since)
        return self.store.audit_entries(
            document_id, action, actor, bound, limit, offset, Filters(viewer=viewer)
        )

    # -- relations ----------------------------------------------------------------------------

    def relate(
        self, source_id: str, relation: str, target_id: str, actor: str, viewer: Seen = None
    ) -> list[Relation]:
        """Link two live documents (`source_id` `relation` `target_id`); returns the source's
        links. Linking twice is a no-op."""
        check_relation(relation)
        if source_id == target_id:
            raise InvalidRequestError("a document cannot be linked to itself")
        self.get_document(source_id, viewer)
        self.get_document(target_id, viewer)
        with self._writing():
            self.store.add_relations(source_id, [(relation, target_id)], actor)
        return self.relations(source_id, viewer)

    def unrelate(
        self, source_id: str, relation: str, target_id: str, actor: str, viewer: Seen = None
    ) -> None:
        self.get_document(source_id, viewer)
        self.get_document(target_id, viewer)
        with self._writing():
            removed = self.store.remove_relation(
                source_id, check_relation(relation), target_id, actor
            )
        if not removed:
            raise NotFoundError(f"{source_id!r} has no link {relation!r} to {target_id!r}")

    def relations(self, document_id: str, viewer: Seen = None) -> list[Relation]:
        """Links from and to this document, to documents the viewer may see."""
        self.get_document(document_id, viewer)
        links = self.store.relations_of(document_id)
        shown = set(self.visible_ids([r.document_id for r in links], viewer))
        return [r for r in links if r.document_id in shown]


def visible(document: Document, viewer: Seen) -> bool:
    return may_see(viewer, document.classification, document.groups)


def visible_version(version: Version, viewer: Seen) -> bool:
    """Each version keeps the marking it was stored with: seeing the document is not enough."""
    return may_see(viewer, version.classification, version.groups)


def check_marking(draft: DocumentDraft, viewer: Seen) -> None:
    """A user may only mark a document so that they could still see it: not above their own
    clearance, and with at least one of their groups where it names groups (else they would
    lose sight of it, and could plant documents no one can review)."""
    if viewer is None:
        return
    level = check_level(draft.classification or "internal")
    if LEVELS.index(level) > viewer.rank:
        raise ForbiddenError(
            f"{draft.document_id}: cannot mark a document {level}, above your clearance "
            f"({viewer.clearance})"
        )
    if not may_see(viewer, level, draft.groups or ()):
        raise ForbiddenError(
            f"{draft.document_id}: cannot restrict a document to groups you are not in "
            f"({', '.join(sorted(draft.groups or ()))})"
        )
