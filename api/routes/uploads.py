"""POST /documents: one or many files with their metadata, checked before anything is added."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.deps import ActorDep, KBDep, SchemaDep, WriterDep
from api.routes.jobs import job_public
from api.schemas.core import DocumentPublic, UploadItemRequest, UploadOutcomePublic, UploadResponse
from api.schemas.jobs import JobPublic
from ingest.jobs import enqueue_uploads
from ingest.metadata import check_document_id
from ingest.outcomes import ItemOutcome
from ingest.pipeline import IngestOptions, ingest_upload
from ingest.uploads import Upload, check_uploads, ingest_uploads, upload_name
from kb.access import LEVELS, Viewer, check_groups, check_level
from kb.errors import ForbiddenError, InputError, InvalidRequestError, TooLargeError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import MetadataSchema
from kb.models import DOC_TYPES

router = APIRouter(prefix="/documents", tags=["documents"])
ITEMS = TypeAdapter(dict[str, UploadItemRequest])
DESCRIPTION = """
Send one file as `file`, or many as `files` (repeat the field); both may be used.

Metadata for every file: `doc_type` and `metadata` (a JSON object). `document_id` and `title`
name one document, so they go with a single file only. For many files, `items` is a JSON object
keyed by file name (as sent), each value `{"document_id", "title", "doc_type", "metadata"}`;
its metadata is merged over the request's.

Every file's metadata is checked against the schema of its document type first (the bundled
schema: an agreement needs `date`, `parties`, `stage`; an evaluation `date`, `region` and
`programme` or `mission`; lessons-learned a `date`): if any file breaks it, the answer is 422
`invalid_metadata` naming each file and field in `detail`, and nothing is added. Then each file
is read on its own: with many files, one that cannot be read (corrupt, encrypted, empty, too
big...) is reported as `failed` in `items` while the others are added. A single file that cannot
be read is refused with its own error (413, 415 or 422), as is a request whose files all fail.
Ingest is idempotent per document: the same content again is `unchanged`; new content under
an existing `document_id` is a new version (`updated`; the old one stays as history). Content
already stored under another id is a `duplicate` (`duplicate_of` names it) and is not added;
nearly the same text is added and `near_duplicates` names the documents it resembles.

A request body over `KB_MAX_REQUEST_MB` is refused with 413 before it is read.

`classification` (public, internal, restricted, confidential) and `groups` (need-to-know
groups: repeat the field, or send one JSON list) mark every file sent; a marking the uploader
could not see themselves (above their clearance, or groups they are not in) is refused (403).
"""


@router.post(
    "",
    response_model=UploadResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Upload one or many documents",
    description=DESCRIPTION,
    responses={
        202: {
            "model": JobPublic,
            "description": "With `background=true`: queued; follow it at `status_url`.",
        }
    },
)
def upload_documents(
    kb: KBDep,
    viewer: WriterDep,
    schema: SchemaDep,
    actor: ActorDep,
    file: Annotated[UploadFile | None, File(description="One PDF, text or Markdown file.")] = None,
    files: Annotated[
        list[UploadFile] | None, File(description="Several files (repeat the field).")
    ] = None,
    document_id: Annotated[
        str | None, Form(description="One file only; defaults to the file name, slugged.")
    ] = None,
    title: Annotated[str | None, Form(description="One file only.")] = None,
    doc_type: Annotated[
        str | None, Form(description=f"For every file: one of {', '.join(DOC_TYPES)}.")
    ] = None,
    metadata: Annotated[
        str | None, Form(description="A JSON object of metadata for every file.")
    ] = None,
    items: Annotated[
        str | None,
        Form(
            description='Per file, a JSON object keyed by file name: {"a.pdf": {"document_id": '
            '"...", "title": "...", "doc_type": "...", "metadata": {...}}}.'
        ),
    ] = None,
    classification: Annotated[
        str | None, Form(description=f"For every file: one of {', '.join(LEVELS)}.")
    ] = None,
    groups: Annotated[
        list[str] | None,
        Form(description="Need-to-know groups for every file: repeat the field, or a JSON list."),
    ] = None,
    background: Annotated[
        bool,
        Form(
            description="Queue the files and answer at once (202) with a job to follow at "
            "GET /jobs/{job_id}; workers ingest them (`kb worker`, or the server's own)."
        ),
    ] = False,
) -> UploadResponse | JSONResponse:
    received = ([file] if file is not None else []) + list(files or [])
    if not received:
        raise InvalidRequestError("no file: send one as `file` or several as `files`")
    if len(received) > 1 and (document_id or title):
        raise InvalidRequestError(
            "document_id and title name one document; with several files give each its own "
            "in `items`"
        )
    marking = marking_of(viewer, classification, groups or [])
    shared = IngestOptions(
        doc_type=doc_type or None,
        metadata=_json_object(metadata, "metadata"),
        document_id=check_document_id(document_id) if document_id else None,
        title=title or None,
        schema=schema,
        actor=actor,
        classification=marking[0],
        groups=marking[1],
        viewer=viewer,
    )
    per_file = _items(items, [f.filename or "" for f in received])
    options = [_options(shared, per_file.get(f.filename or ""), schema) for f in received]
    names = [upload_name(f.filename) for f in received]
    # All names and metadata are checked before a byte of any file is read.
    check_uploads(kb, [Upload(n, b"", o) for n, o in zip(names, options, strict=True)])
    uploads = [receive(kb, *sent) for sent in zip(received, names, options, strict=True)]
    if background:
        job = enqueue_uploads(kb, uploads, viewer.name)
        return JSONResponse(job_public(job).model_dump(), status.HTTP_202_ACCEPTED)
    return _response(kb, _ingest(kb, uploads), viewer)


def _ingest(kb: KnowledgeBase, uploads: Sequence[Upload]) -> list[ItemOutcome]:
    if len(uploads) == 1:
        # One file answers as it always has: its own error if it cannot be read.
        one = uploads[0]
        if one.refused is not None:
            raise one.refused
        return [ingest_upload(kb, one.name, one.data, one.options)]
    outcomes = ingest_uploads(kb, uploads).outcomes
    if all(o.status == "failed" for o in outcomes):
        raise InputError(
            ", ".join(o.source for o in outcomes),
            "none of the files could be ingested ("
            + "; ".join(f"{o.source}: {o.reason}" for o in outcomes)
            + ")",
        )
    return outcomes


def receive(
    kb: KnowledgeBase, file: StarletteUploadFile, name: str, options: IngestOptions
) -> Upload:
    """One received file, read up to the upload limit (the web UI's upload page uses it too)."""
    limit = kb.settings.max_upload_bytes
    # Read one byte past the limit, never the whole of an oversized file.
    data = file.file.read(limit + 1)
    if len(data) > limit:
        reason = f"over the {kb.settings.max_upload_mb:g} MiB upload limit (KB_MAX_UPLOAD_MB)"
        return Upload(name, b"", options, TooLargeError(name, reason))
    return Upload(name, data, options)


def _options(
    shared: IngestOptions, item: UploadItemRequest | None, schema: MetadataSchema
) -> IngestOptions:
    if item is None:
        return shared
    return IngestOptions(
        doc_type=item.doc_type or shared.doc_type,
        metadata={**shared.metadata, **item.metadata},
        document_id=check_document_id(item.document_id) if item.document_id else shared.document_id,
        title=item.title or shared.title,
        schema=schema,
        actor=shared.actor,
        classification=shared.classification,
        groups=shared.groups,
        viewer=shared.viewer,
    )


def marking_of(
    viewer: Viewer, classification: str | None, sent: list[str]
) -> tuple[str | None, tuple[str, ...] | None]:
    """The classification and groups sent, checked: a user may only mark a document so that
    they themselves could still see it (the web UI's upload page checks them here too)."""
    if len(sent) == 1 and sent[0].lstrip().startswith("["):
        try:
            sent = json.loads(sent[0])
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"groups is not a valid JSON list: {exc.msg}") from exc
        except RecursionError as exc:
            raise InvalidRequestError("groups nests too deeply to be a list of names") from exc
        if not isinstance(sent, list) or not all(isinstance(g, str) for g in sent):
            raise InvalidRequestError("groups must be a JSON list of group names")
    groups = check_groups([g for g in sent if g.strip()])
    if classification:
        check_level(classification)
        if LEVELS.index(classification) > viewer.rank:
            raise ForbiddenError(
                f"classification {classification!r} is above your clearance {viewer.clearance!r}"
            )
    if groups and not set(groups) & set(viewer.groups):
        raise ForbiddenError("you may only mark a document with a group you belong to")
    return classification or None, groups or None  # None: as stored before, or none


def _items(raw: str | None, names: list[str]) -> dict[str, UploadItemRequest]:
    if not raw:
        return {}
    try:
        items = ITEMS.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRequestError(
            f"items{'.' + where if where else ''}: {first['msg']} (items is a JSON object "
            'keyed by file name, each value {"document_id", "title", "doc_type", "metadata"})'
        ) from exc
    unknown = [key for key in items if key not in names]
    if unknown:
        raise InvalidRequestError(
            f"items names {unknown[0]!r}, which is not among the files sent "
            f"({', '.join(repr(n) for n in names)})"
        )
    return items


def _json_object(raw: str | None, what: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{what} is not valid JSON: {exc.msg}") from exc
    except RecursionError as exc:  # deeper than the parser goes: refused as metadata would be
        raise InvalidRequestError(f"{what} nests too deeply to be read") from exc
    if not isinstance(value, dict):
        raise InvalidRequestError(f"{what} must be a JSON object")
    return value


def _response(kb: KnowledgeBase, outcomes: Sequence[ItemOutcome], viewer: Viewer) -> UploadResponse:
    items = [UploadOutcomePublic.model_validate(asdict(o)) for o in outcomes]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if len(outcomes) != 1:
        return UploadResponse(counts=counts, items=items)
    one = outcomes[0]
    assert one.document_id is not None and one.status != "failed"
    return UploadResponse(
        document_id=one.document_id,
        status=one.status,
        chunks=one.chunks,
        # A duplicate was not added: the document shown is the one holding its content.
        document=DocumentPublic.model_validate(
            kb.get_document(one.duplicate_of or one.document_id, viewer)
        ),
        duplicate_of=one.duplicate_of,
        near_duplicates=list(one.near_duplicates),
        counts=counts,
        items=items,
    )
