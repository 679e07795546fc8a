"""Recognising files already stored, before they are parsed, so a re-run of an interrupted
import skips the work the first run finished (parsing and OCR are the slow part).

A file is recognised when the document id it would get (options, sidecar, or file name: all
known without parsing) holds a live document whose content hash is the sha256 of the file's
bytes. Then its passages would come out the same, and only what the sidecar and the options
say may have changed: a draft is built from those alone, with no passages, and
`KnowledgeBase.add` applies any change of fields or marking without re-embedding, exactly as
for a parsed file with the same bytes (and refuses it if the document changed meanwhile).

One thing comes from the content when nothing names it: the title. With no title given, the
stored one is kept; it was derived from these same bytes, unless it was set by hand since
(`kb edit`, or a sidecar title that has since been removed), and a re-run keeps that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingest.metadata import (
    check_document_id,
    fields_draft,
    slug,
)
from kb.errors import InvalidRequestError
from kb.models import DocumentDraft
from kb.schema import MetadataSchema
from kb.store import Store


def document_id_of(name: str, fields: Mapping[str, Any], given: str | None) -> str:
    """The id a file gets: given for the batch, else the sidecar's, else from its name."""
    return given or given_text(fields.get("document_id")) or slug(Path(name).stem)


def given_text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def stored_draft(
    store: Store,
    name: str,
    data: bytes,
    fields: Mapping[str, Any],
    given: tuple[str | None, str | None, str | None],
    schema: MetadataSchema | None,
    marking: tuple[str | None, tuple[str, ...] | None],
) -> DocumentDraft | None:
    """A passage-less draft for a file whose bytes are stored under its id, else None.

    `given` is the batch's (document_id, title, doc_type), `marking` its (classification,
    groups); `fields` the sidecar with the batch's metadata over it. Bad metadata raises the
    same error the normal path would."""
    given_id, given_title, given_type = given
    document_id = document_id_of(name, fields, given_id)
    try:
        check_document_id(document_id)
    except InvalidRequestError:
        return None  # the normal path says why
    before = store.fingerprints([document_id]).get(document_id)
    if before is None or before.deleted:
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    if before.sha256 != sha256:
        return None
    title = given_title or given_text(fields.get("title")) or before.title
    return fields_draft(name, document_id, title, fields, given_type, schema, sha256, marking)
