"""Editing a document's metadata: title, type, date, marking and the schema's fields.

The form sends every field; only the ones that differ from the stored document become the
change, which goes the way of `PATCH /documents/{id}` (the same request model, the same
normalising, kb.edit with the schema), so a field emptied is removed and the rest stay.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from api.deps import KBDep, SchemaDep
from api.schemas.curation import EditRequest
from api.ui.auth import PageWriterDep, check_csrf
from api.ui.flash import flash
from api.ui.metadata_form import (
    FormField,
    entered,
    form_fields,
    metadata_of,
    other_problems,
    problems_by_field,
    shown,
)
from api.ui.templating import render
from ingest.metadata import normalise_changes
from kb.access import LEVELS, Viewer
from kb.errors import ForbiddenError, InvalidMetadataError, InvalidRequestError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import MetadataSchema
from kb.models import DOC_TYPES, Document

router = APIRouter(prefix="/ui", include_in_schema=False)
COLUMNS = ("title", "doc_type", "classification", "groups")


class EditProblem(Exception):
    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


@router.get("/documents/{document_id}/edit")
def edit_page(
    request: Request, kb: KBDep, viewer: PageWriterDep, schema: SchemaDep, document_id: str
) -> Response:
    document = kb.get_document(document_id, viewer)
    fields = form_fields(schema)
    values = {
        "title": document.title,
        "doc_type": document.doc_type,
        "classification": document.classification,
        "groups": ", ".join(document.groups),
    }
    typed = {f.name: shown(_stored(document, f.name)) for f in fields}
    return _form(request, viewer, document, fields, values, typed)


@router.post("/documents/{document_id}/edit")
async def edit(
    request: Request, kb: KBDep, viewer: PageWriterDep, schema: SchemaDep, document_id: str
) -> Response:
    form = await request.form(max_files=0)
    check_csrf(request, _text(form, "csrf"))
    document = await run_in_threadpool(kb.get_document, document_id, viewer)
    fields = form_fields(schema)
    values = {key: _text(form, key) for key in COLUMNS}
    typed = entered(fields, form)
    try:
        await run_in_threadpool(_save, kb, viewer, schema, document, fields, values, typed)
    except EditProblem as problem:
        return _form(
            request, viewer, document, fields, values, typed, 422, problem.message, problem.fields
        )
    flash(request, "Saved the changes to the metadata.")
    return RedirectResponse(f"/ui/documents/{document.document_id}", status_code=303)


def changes_of(
    document: Document, fields: list[FormField], values: dict[str, str], typed: dict[str, str]
) -> dict[str, Any]:
    """What the form changes, as a merge patch of PATCH /documents/{id}."""
    changes: dict[str, Any] = {}
    groups = sorted({g.strip() for g in values["groups"].split(",") if g.strip()})
    for key, new, old in (
        ("title", values["title"], document.title),
        ("doc_type", values["doc_type"], document.doc_type),
        ("classification", values["classification"], document.classification),
        ("groups", groups, sorted(document.groups)),
    ):
        if new != old:
            changes[key] = new
    patch: dict[str, Any] = {}
    entered_metadata = metadata_of(fields, typed)
    for field in fields:
        value = entered_metadata.get(field.name)
        if value == _stored(document, field.name):
            continue
        if field.name == "date":
            # The date lives in its column too; emptied, it leaves metadata with its year.
            changes["date"] = value
            if value is None:
                patch.update(date=None, year=None)
        else:
            patch[field.name] = value
    if patch:
        changes["metadata"] = patch
    return changes


def _save(
    kb: KnowledgeBase,
    viewer: Viewer,
    schema: MetadataSchema,
    document: Document,
    fields: list[FormField],
    values: dict[str, str],
    typed: dict[str, str],
) -> None:
    changes = changes_of(document, fields, values, typed)
    if not changes:
        return
    try:
        body = EditRequest.model_validate(changes)
        normal = normalise_changes(body.model_dump(exclude_unset=True))
        kb.edit(document.document_id, normal, f"ui:{viewer.name}", schema, viewer)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            found.setdefault(name, []).append(f"{name.replace('_', ' ')}: {error['msg']}")
        raise EditProblem("Nothing was saved: please check the fields marked.", found) from exc
    except InvalidMetadataError as exc:
        raise EditProblem(
            "Nothing was saved: the metadata does not meet the schema.",
            problems_by_field(exc, with_source=False),
        ) from exc
    except InvalidRequestError as exc:
        where = "date" if exc.message.startswith("date ") else "form"
        raise EditProblem("Nothing was saved.", {where: [exc.message]}) from exc
    except ForbiddenError as exc:
        raise EditProblem(f"Nothing was saved: {exc.message}", {}) from exc


def _stored(document: Document, name: str) -> Any:
    return document.date if name == "date" else document.metadata.get(name)


def _form(
    request: Request,
    viewer: Viewer,
    document: Document,
    fields: list[FormField],
    values: dict[str, str],
    typed: dict[str, str],
    status: int = 200,
    error: str | None = None,
    problems: dict[str, list[str]] | None = None,
) -> Response:
    problems = problems or {}
    names = {f.name for f in fields}
    return render(
        request,
        "edit.html",
        viewer,
        status,
        title=f"Edit {document.title}",
        document=document,
        fields=fields,
        values=values,
        typed=typed,
        doc_types=DOC_TYPES,
        levels=LEVELS[: viewer.rank + 1],
        error=error,
        problems=problems,
        other_problems=other_problems(problems, fields, COLUMNS),
        others={k: v for k, v in document.metadata.items() if k not in names},
    )


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip()[:2000] if isinstance(value, str) else ""
