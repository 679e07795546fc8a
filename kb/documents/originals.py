"""Reading kept original files: the file a document (or an earlier version) was read from,
for whoever may see the document; a hidden document's file is not found like a missing one."""

from __future__ import annotations

from pathlib import Path

from kb.access import Viewer
from kb.documents.curation import Curation
from kb.errors import NotFoundError
from kb.models import Original
from kb.store.integrity import describe
from kb.store.protocol import Store


class OriginalReading:
    """Finds kept files; which document or version a viewer may see is the curation's say."""

    def __init__(self, store: Store, curation: Curation) -> None:
        self.store = store
        self._curation = curation

    def original(self, document_id: str, viewer: Viewer | None = None) -> tuple[Original, Path]:
        """The original file of a live document the viewer may see, and where it is."""
        document = self._curation.get_document(document_id, viewer)
        return self._located(document.original, f"document {document_id!r}")

    def version_original(
        self, document_id: str, number: int, viewer: Viewer | None = None
    ) -> tuple[Original, Path]:
        """The original file of one version (the current one or an earlier one)."""
        document = self._curation.get_document(document_id, viewer)
        if number == document.version:
            original = document.original
        else:
            original = self._curation.version(document_id, number, viewer)[0].original
        return self._located(original, f"version {number} of {document_id!r}")

    def orphan_originals(self) -> list[str]:
        """Kept files that no document or version names (a crash between a file's write and
        its commit leaves one; harmless: the same file ingested again is named by it)."""
        return self.store.original_files()[1]

    def check_notes(self) -> list[str]:
        """What `kb check` mentions without calling it a problem."""
        orphans = self.orphan_originals()
        what = "original files no document names (left by an interrupted write)"
        return [describe(what, orphans)] if orphans else []

    def _located(self, original: Original | None, what: str) -> tuple[Original, Path]:
        if original is None:
            raise NotFoundError(
                f"{what} has no original file (it was added before originals "
                "were kept, or came from a records file)"
            )
        path = self.store.original_path(original.sha256)
        if path is None:
            raise NotFoundError(f"the original file of {what} is missing; run `kb check`")
        return original, path
