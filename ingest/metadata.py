"""Document metadata: sidecar files, command-line values, dates and identifiers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kb.access import check_groups, check_level
from kb.errors import CorruptFileError, InvalidMetadataError, InvalidRequestError
from kb.metadata.filters import (
    DOCUMENT_ID as DOCUMENT_ID,  # the id rule is the core's (filters name ids)
)
from kb.metadata.filters import check_document_id as check_document_id
from kb.metadata.filters import check_key
from kb.metadata.limits import check_metadata
from kb.metadata.schema import MetadataSchema, validate_metadata
from kb.models import DOC_TYPES, DocumentDraft
from kb.relations import check_relation

SIDECAR_SUFFIX = ".meta.json"
# Fields that are columns of a document rather than free metadata.
RESERVED = ("document_id", "title", "doc_type", "relations", "classification", "groups")
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y%m%d",
)
MONTH_FORMATS = ("%Y-%m", "%B %Y", "%b %Y", "%Y/%m")
# Control characters, and the bidirectional controls that can make "evil\u202egpj.exe" show
# as "evilexe.jpg": never part of a name we store or print.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable_name(name: str) -> str:
    """A file name or path as stored and shown: without control or bidirectional characters."""
    return UNPRINTABLE.sub("", name)


def sidecar_for(path: Path) -> Path | None:
    """`NAME.meta.json` beside `NAME.ext` (or `NAME.ext.meta.json`), if there is one."""
    for candidate in (path.with_suffix(SIDECAR_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CorruptFileError(path.name, f"unreadable metadata sidecar ({exc})") from exc
    if not isinstance(data, dict):
        raise CorruptFileError(path.name, "a metadata sidecar must hold a JSON object")
    return data


def check_doc_type(doc_type: str, source: str) -> str:
    if doc_type not in DOC_TYPES:
        raise InvalidRequestError(
            f"{source}: doc_type must be one of {', '.join(DOC_TYPES)}, not {doc_type!r}"
        )
    return doc_type


def slug(text: str) -> str:
    """A document_id from a file name: lower case, words joined by '-'."""
    value = "-".join(re.findall(r"[^\W_]+", text.lower()))[:200]
    return value or "document"


def normalise_date(value: Any) -> Any:
    """ISO 8601 (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`) where the value is recognisably a date;
    anything else is returned unchanged."""
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(Z|[+-][\d:]+)?", text):
        text = text[:10]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m-%d")
        except ValueError:
            pass
    for fmt in MONTH_FORMATS:
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m")
        except ValueError:
            pass
    return value


def normalise_metadata(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Keys checked, date-like fields in ISO form, and a `year` taken from `date` if absent."""
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        check_key(key)
        metadata[key] = normalise_date(value) if key == "date" or key.endswith("_date") else value
    date = metadata.get("date")
    if (
        "year" not in metadata
        and isinstance(date, str)
        and re.fullmatch(r"\d{4}(-\d{2}){0,2}", date)
    ):
        metadata["year"] = int(date[:4])
    return metadata


def normalise_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An edit's fields in stored form: the date in ISO form, metadata keys checked and their
    dates normalised; a metadata value None (remove the key) stays None."""
    normal = dict(changes)
    patch = dict(normal.get("metadata") or {})
    if normal.get("date") is not None:
        date = normalise_date(normal["date"])
        if not (isinstance(date, str) and re.fullmatch(r"\d{4}(-\d{2}){0,2}", date)):
            raise InvalidRequestError(f"date {normal['date']!r} is not a date (use YYYY-MM-DD)")
        # The date lives in the date column and in metadata, where filters read `year`.
        normal["date"] = date
        patch.update(date=date, year=int(date[:4]))
    if patch:
        kept = normalise_metadata({k: v for k, v in patch.items() if v is not None})
        normal["metadata"] = {k: None for k in patch if patch[k] is None} | kept
    return normal


def checked_metadata(
    source: str,
    doc_type: str,
    fields: Mapping[str, Any],
    schema: MetadataSchema | None,
    title: str | None = None,
) -> dict[str, Any]:
    """`fields` without the document's columns, normalised, then validated against `schema`
    (when given) for `doc_type`; an InvalidMetadataError names `source` and every bad field."""
    try:
        check_metadata({k: v for k, v in fields.items() if k not in RESERVED})
        metadata = normalise_metadata({k: v for k, v in fields.items() if k not in RESERVED})
        if schema is None:
            return metadata
        return validate_metadata(schema, doc_type, title, metadata)
    except InvalidMetadataError as exc:
        raise exc.naming(source) from None


def document_relations(source: str, fields: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The links a sidecar (or upload metadata) declares: `"relations": {"evaluates":
    ["agreement-id"], "draws-on": "other-id"}` becomes (relation, target) pairs."""
    raw = fields.get("relations")
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise InvalidRequestError(
            f'{source}: "relations" must be an object like {{"evaluates": ["document-id"]}}'
        )
    links: list[tuple[str, str]] = []
    for relation, targets in raw.items():
        try:
            check_relation(relation)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{source}: {exc.message}") from None
        for target in targets if isinstance(targets, list) else [targets]:
            if not isinstance(target, str):
                raise InvalidRequestError(f"{source}: relation {relation!r} takes document ids")
            links.append((relation, check_document_id(target)))
    return tuple(dict.fromkeys(links))


def document_metadata(
    source: str,
    fields: Mapping[str, Any],
    doc_type: str | None,
    schema: MetadataSchema | None,
    title: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A document's type (given, else from `fields`, else "other") and its checked metadata."""
    given = fields.get("doc_type")
    kind = doc_type or (given.strip() if isinstance(given, str) and given.strip() else "other")
    check_doc_type(kind, source)
    return kind, checked_metadata(source, kind, fields, schema, title)


def marking_level(value: Any, source: str) -> str | None:
    """A classification given in metadata, checked; None if not given."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"{source}: classification must be text")
    return check_level(value.strip().lower())


def marking_groups(fields: Mapping[str, Any], source: str) -> tuple[str, ...] | None:
    """Need-to-know groups given in metadata, checked; None if not given."""
    value = fields.get("groups")
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise InvalidRequestError(f"{source}: groups must be a list of group names")
    return check_groups(value)


def fields_draft(
    name: str,
    document_id: str,
    title: str,
    fields: Mapping[str, Any],
    doc_type: str | None,
    schema: MetadataSchema | None,
    sha256: str,
    marking: tuple[str | None, tuple[str, ...] | None],
) -> DocumentDraft:
    """A draft of what the file's name, its fields and the batch's (doc_type, marking) say, its
    passages still to come; bad metadata raises here. Given markings win over the fields'."""
    title = " ".join(title.split())
    doc_type, metadata = document_metadata(name, fields, doc_type, schema, title)
    date = metadata.get("date")
    classification, groups = marking
    return DocumentDraft(
        document_id=document_id,
        title=title,
        doc_type=doc_type,
        source_name=printable_name(name),
        sha256=sha256,
        metadata=metadata,
        date=str(normalise_date(date)) if date is not None else None,
        chunks=(),
        relations=document_relations(name, fields),
        classification=classification or marking_level(fields.get("classification"), name),
        groups=groups if groups is not None else marking_groups(fields, name),
    )
