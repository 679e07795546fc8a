"""Recognising files already stored, before they are parsed, so a re-run of an interrupted
import skips the work the first run finished (parsing and OCR are the slow part).

A file is recognised when the document id it would get (options, sidecar, or file name: all
known without parsing) holds a live document whose content hash is the sha256 of the file's
bytes. Then its passages would come out the same, and only what the sidecar and the options
say may have changed: a draft is built from those alone, with no passages, and
`KnowledgeBase.add` applies any change of fields or marking without re-embedding, exactly as
for a parsed file with the same bytes (and refuses it if the document changed meanwhile).

What the sidecar and options do not give is kept as stored (`ingest.inheritance`): the type,
the title, each metadata key. So a re-run without the sidecar changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingest.inheritance import Given
from ingest.metadata import fields_draft, slug
from kb.metadata.schema import MetadataSchema
from kb.models import DocumentDraft
from kb.store.protocol import Fingerprint


def document_id_of(name: str, fields: Mapping[str, Any], given: str | None) -> str:
    """The id a file gets: given for the batch, else the sidecar's, else from its name."""
    return given or given_text(fields.get("document_id")) or slug(Path(name).stem)


def given_text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def stored_draft(
    name: str,
    data: bytes,
    given: Given,
    document_id: str | None,
    schema: MetadataSchema | None,
    marking: tuple[str | None, tuple[str, ...] | None],
    stored: Fingerprint | None,
) -> DocumentDraft | None:
    """A passage-less draft for a file whose bytes are the stored document's, else None.

    `given` is what the file's sidecar and the batch say, already over the stored document's
    fields (`ingest.inheritance`); `document_id` the batch's, `marking` its (classification,
    groups). Bad metadata raises the same error the normal path would."""
    sha256 = hashlib.sha256(data).hexdigest()
    if stored is None or stored.sha256 != sha256:
        return None
    document_id = document_id_of(name, given.fields, document_id)
    title = given.title or stored.title
    return fields_draft(
        name, document_id, title, given.fields, given.doc_type, schema, sha256, marking
    )
