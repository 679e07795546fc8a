"""The evaluator's upload page: files with their type, marking and metadata, checked against the
schema before anything is added, then one outcome per file.

The files go down the same path as `POST /documents` (api.routes.uploads reads and marks them,
ingest.uploads checks every file's metadata first and ingests them as one batch). The answer is
a redirect back to the page, which shows the outcomes once (post/redirect/get); with
JavaScript the form is sent by XMLHttpRequest so the page can show the bytes going out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import KBDep, SchemaDep
from api.routes.uploads import marking_of, receive
from api.ui.auth import PageWriterDep, check_csrf
from api.ui.flash import flash, take
from api.ui.metadata_form import (
    entered,
    form_fields,
    metadata_of,
    other_problems,
    problems_by_field,
    shown,
)
from api.ui.templating import render
from ingest.metadata import check_document_id
from ingest.outcomes import ItemOutcome
from ingest.pipeline import IngestOptions
from ingest.uploads import Upload, check_uploads, ingest_uploads, upload_name
from kb.access import LEVELS, Viewer
from kb.errors import ForbiddenError, InvalidMetadataError, InvalidRequestError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import MetadataSchema
from kb.models import DOC_TYPES

router = APIRouter(prefix="/ui", include_in_schema=False)
ACCEPT = ".pdf,.docx,.html,.htm,.txt,.md"
MAX_FILES = 50
LABELS = {
    "added": "added",
    "updated": "new version",
    "unchanged": "unchanged",
    "duplicate": "duplicate",
    "failed": "refused",
}


@dataclass(frozen=True)
class Linked:
    document_id: str
    title: str


@dataclass(frozen=True)
class FileResult:
    """One file's outcome as the page shows it."""

    source: str
    status: str
    label: str
    document: Linked | None = None
    duplicate_of: Linked | None = None
    near_duplicates: tuple[Linked, ...] = ()
    reason: str | None = None


class FormProblem(Exception):
    """The form cannot be used as sent: say so next to it, add nothing."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


@router.get("/upload")
def upload_page(
    request: Request, kb: KBDep, viewer: PageWriterDep, schema: SchemaDep, document_id: str = ""
) -> Response:
    """`document_id` prefills the form for a new version of that document: with its type,
    title, marking and metadata, which the new version keeps unless changed here."""
    values = {"doc_type": "", "classification": "", "document_id": document_id[:200]}
    typed: dict[str, str] = {}
    if document_id:
        try:
            document = kb.get_document(document_id, viewer)
        except NotFoundError:
            document = None  # the id stays prefilled: the upload then says what it can
        if document is not None:
            values.update(
                doc_type=document.doc_type,
                title=document.title,
                classification=document.classification,
                groups=", ".join(document.groups),
            )
            typed = {f.name: shown(document.metadata.get(f.name)) for f in form_fields(schema)}
    return _form(request, viewer, schema, values, typed, results=take(request, "upload"))


@router.post("/upload")
async def upload(request: Request, kb: KBDep, viewer: PageWriterDep, schema: SchemaDep) -> Response:
    form = await request.form(max_files=MAX_FILES)
    try:
        check_csrf(request, _text(form, "csrf"))
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        fields = form_fields(schema)
        typed = entered(fields, form)
        values = {k: _text(form, k) for k in ("doc_type", "title", "document_id", "groups")}
        values["classification"] = _text(form, "classification")
        try:
            outcomes = await run_in_threadpool(
                _ingest, kb, viewer, schema, files, values, metadata_of(fields, typed)
            )
        except FormProblem as problem:
            return _form(
                request, viewer, schema, values, typed, 422, problem.message, problem.fields
            )
    finally:
        await form.close()
    flash(request, outcomes, "upload")
    return RedirectResponse("/ui/upload#results", status_code=303)


def _ingest(
    kb: KnowledgeBase,
    viewer: Viewer,
    schema: MetadataSchema,
    files: list[UploadFile],
    values: dict[str, str],
    metadata: dict[str, Any],
) -> list[FileResult]:
    if not files:
        raise FormProblem("Choose at least one file.", {"files": ["Choose at least one file."]})
    if len(files) > 1 and (values["title"] or values["document_id"]):
        raise FormProblem(
            "A title or identifier names one document: leave them empty to upload several files."
        )
    try:
        classification, groups = marking_of(
            viewer, values["classification"] or None, values["groups"].split(",")
        )
        options = IngestOptions(
            doc_type=values["doc_type"] or None,
            metadata=metadata,
            document_id=check_document_id(values["document_id"]) if values["document_id"] else None,
            title=values["title"] or None,
            schema=schema,
            actor=f"ui:{viewer.name}",
            classification=classification,
            groups=groups,
            viewer=viewer,
        )
        names = [upload_name(f.filename) for f in files]
        # Every file's metadata is checked before a byte of any file is read.
        check_uploads(kb, [Upload(name, b"", options) for name in names])
        uploads = [receive(kb, f, name, options) for f, name in zip(files, names, strict=True)]
        outcomes = ingest_uploads(kb, uploads).outcomes
    except InvalidMetadataError as exc:
        raise FormProblem(
            "Nothing was added: the metadata does not meet the schema (see the fields below).",
            problems_by_field(exc),
        ) from exc
    except (InvalidRequestError, ForbiddenError) as exc:
        raise FormProblem(f"Nothing was added: {exc.message}") from exc
    return [_result(kb, viewer, outcome) for outcome in outcomes]


def _label(outcome: ItemOutcome) -> str:
    """What happened, in words: "new version" only when a version was made."""
    if outcome.status == "updated":
        return "metadata updated" if outcome.version is None else f"new version {outcome.version}"
    return LABELS.get(outcome.status, outcome.status)


def _result(kb: KnowledgeBase, viewer: Viewer, outcome: ItemOutcome) -> FileResult:
    def linked(document_id: str | None) -> Linked | None:
        if document_id is None:
            return None
        try:
            return Linked(document_id, kb.get_document(document_id, viewer).title)
        except NotFoundError:
            return None

    near = tuple(n for n in (linked(d) for d in outcome.near_duplicates) if n is not None)
    return FileResult(
        source=outcome.source,
        status=outcome.status,
        label=_label(outcome),
        document=None if outcome.status in ("failed", "duplicate") else linked(outcome.document_id),
        duplicate_of=linked(outcome.duplicate_of),
        near_duplicates=near,
        reason=outcome.reason,
    )


def _form(
    request: Request,
    viewer: Viewer,
    schema: MetadataSchema,
    values: dict[str, str],
    typed: dict[str, str],
    status: int = 200,
    error: str | None = None,
    problems: dict[str, list[str]] | None = None,
    results: list[Any] | None = None,
) -> Response:
    fields = form_fields(schema)
    problems = problems or {}
    return render(
        request,
        "upload.html",
        viewer,
        status,
        title="Upload",
        fields=fields,
        doc_types=DOC_TYPES,
        levels=LEVELS[: viewer.rank + 1],
        accept=ACCEPT,
        values=values,
        typed=typed,
        error=error,
        problems=problems,
        other_problems=other_problems(problems, fields),
        # results of the last upload: a list of batches (one per redirect), newest last
        results=[r for batch in (results or []) for r in batch],
    )


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip()[:2000] if isinstance(value, str) else ""
