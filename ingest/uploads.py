"""Uploads: files received over HTTP, each with its own options, ingested as one batch.

The name a client gives a file is only ever a label (its suffix picks the reader, its stem the
default document_id, which is slugged): nothing is opened or written under it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from ingest.metadata import document_metadata, printable_name
from ingest.outcomes import IngestReport, ItemOutcome, Prepared
from ingest.pipeline import (
    IngestOptions,
    given_of,
    ingest_prepared,
    prepare_upload,
    stored_for,
)
from kb.errors import FieldProblem, InputError, InvalidMetadataError, InvalidRequestError
from kb.knowledge_base import KnowledgeBase

MAX_NAME_CHARS = 255


@dataclass(frozen=True)
class Upload:
    """One received file: a safe display name, its bytes, and what the client said about it.
    `refused` is set when the file was already refused while it was received (over the size
    limit: only the first bytes were kept)."""

    name: str
    data: bytes
    options: IngestOptions
    refused: InputError | None = None


def upload_name(raw: str | None) -> str:
    """A client's file name made safe to show and store: its last path part, without control
    or bidirectional characters, at most 255 characters with its suffix kept; "upload" if
    nothing is left."""
    name = printable_name((raw or "").replace("\\", "/")).rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name) > MAX_NAME_CHARS:
        suffix = PurePath(name).suffix[:16]
        name = name[: MAX_NAME_CHARS - len(suffix)] + suffix
    return name


def check_uploads(kb: KnowledgeBase, uploads: Sequence[Upload]) -> None:
    """Check every upload's name, doc_type and metadata before any file is read: one
    InvalidMetadataError names every file and field that breaks the schema (two files of one
    name, or an unknown doc_type, stop at once). A file for a stored document is checked with
    the fields it inherits from it."""
    names = [upload.name for upload in uploads]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise InvalidRequestError(
            f"two files are both named {twice!r}; file names must differ in one upload"
        )
    problems: list[FieldProblem] = []
    for upload in uploads:
        options = upload.options
        given = given_of({}, options, stored_for(kb, upload.name, {}, options))
        try:
            document_metadata(
                upload.name, given.fields, given.doc_type, options.schema, given.title
            )
        except InvalidMetadataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidMetadataError(problems)


def ingest_uploads(kb: KnowledgeBase, uploads: Sequence[Upload]) -> IngestReport:
    """Ingest many uploads: all metadata is checked first (any problem: nothing is added and
    InvalidMetadataError says where); then a file that cannot be read is reported as failed
    while the others are added."""
    check_uploads(kb, uploads)
    report = ingest_prepared(
        kb, _prepared(kb, uploads), uploads[0].options if uploads else IngestOptions()
    )
    # Failures are reported at once and documents when their batch is written: back in order.
    order = {upload.name: index for index, upload in enumerate(uploads)}
    report.outcomes.sort(key=lambda outcome: order[outcome.source])
    return report


def _prepared(kb: KnowledgeBase, uploads: Sequence[Upload]) -> Iterator[Prepared]:
    for upload in uploads:
        name = upload.name
        try:
            if upload.refused is not None:
                raise upload.refused
            yield name, prepare_upload(kb, name, upload.data, upload.options), None
        except InputError as exc:
            yield name, None, ItemOutcome(name, "failed", reason=exc.reason)
        except InvalidRequestError as exc:
            yield (
                name,
                None,
                ItemOutcome(name, "failed", reason=exc.message.removeprefix(f"{name}: ")),
            )
