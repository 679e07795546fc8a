"""What a file brings to a document already stored: the fields it gives, and nothing else.

A file ingested under the id of a live document (the same bytes again, or a new version)
inherits every field that neither the caller, nor its sidecar, nor the upload form gives: the
type, the title (a hand-edited one included), and the metadata key by key. What is given
replaces the stored value of that field only. So an import run again without its sidecar leaves
its documents as they are, and a new version uploaded with an empty form keeps the programme,
countries and themes of the one it replaces. The schema is then checked on the result.

A document the uploader may not see lends nothing: the write is refused later, as for any id
one may not use, and its fields must not decide what that refusal says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kb.access import Viewer, may_see
from kb.store.protocol import Fingerprint, Store


@dataclass(frozen=True)
class Given:
    """What a file's document will hold besides its text: its fields (metadata and the
    reserved keys such as `title`, as a sidecar holds them), its type and title where the
    caller named them (None: from the fields, else derived or defaulted)."""

    fields: Mapping[str, Any]
    doc_type: str | None
    title: str | None


def stored_document(store: Store, document_id: str, viewer: Viewer | None) -> Fingerprint | None:
    """The live document under this id, if the viewer may see it."""
    stored = store.fingerprints([document_id]).get(document_id)
    if stored is None or stored.deleted:
        return None
    if not may_see(viewer, stored.classification, stored.groups):
        return None
    return stored


def inherit(stored: Fingerprint | None, given: Given) -> Given:
    """The given fields over the stored document's: what is not given is kept."""
    if stored is None:
        return given
    metadata = dict(stored.metadata)
    if "date" in given.fields and "year" not in given.fields:
        metadata.pop("year", None)  # derived from the date: derived again from the new one
    fields = {**metadata, **given.fields}
    doc_type = given.doc_type or _text(given.fields.get("doc_type")) or stored.doc_type
    title = given.title or _text(given.fields.get("title")) or stored.title
    return Given(fields, doc_type, title)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
