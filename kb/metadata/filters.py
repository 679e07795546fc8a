"""Filters from user input: `key=value` pairs from the CLI, query strings and JSON bodies.

Special keys: `doc_type`; `date_from`/`date_to` (dates, inclusive) on the document's
date; `classification` (the marking: public, internal, ...); `KEY_min`/`KEY_max` (inclusive,
a number or a date) on any metadata key, e.g. `year_min=1995`; relation
labels (`evaluates=ID`, `evaluated-by=ID`, `related_to=ID`: see kb.relations) on links between
documents. Any other key matches metadata by equality (case-insensitive); repeating a key means
any of its values. A bad value is refused here, naming the key; whether a metadata key is one
the viewer may filter on is checked against the store (kb.metadata.filter_keys).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from kb.access import LEVELS
from kb.errors import InvalidRequestError
from kb.metadata.schema import is_date
from kb.models import DOC_TYPES, Filters
from kb.relations import FILTER_LABELS

# Any printable text but a double quote, which would end the JSON path a key becomes.
KEY = re.compile(r'^[^"\x00-\x1f\x7f]{1,200}\Z')
# Every stored document's id is one of these (ingest checks it), so a relation filter's
# value must be one too.
DOCUMENT_ID = re.compile(r"^[^\W_][\w.:-]{0,199}\Z")
ID_RULE = "1-200 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
DATE_FORMS = "YYYY, YYYY-MM or YYYY-MM-DD"


def check_key(key: str) -> str:
    if not KEY.match(key) or key != key.strip():
        raise InvalidRequestError(
            f"metadata key {key!r} must be 1-200 printable characters without '\"' or "
            "surrounding spaces"
        )
    return key


def check_document_id(document_id: str) -> str:
    if not DOCUMENT_ID.match(document_id):
        raise InvalidRequestError(f"document_id {document_id!r} must be {ID_RULE}")
    return document_id


def split_pairs(pairs: Iterable[str]) -> dict[str, list[str]]:
    """`key=value` strings to {key: [values]}, keeping repeated keys."""
    parsed: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidRequestError(f"expected key=value, got {pair!r}")
        parsed.setdefault(check_key(key), []).append(value.strip())
    return parsed


def parse_filters(raw: Mapping[str, Any]) -> Filters:
    """Filters from {key: value or [values]}; see the module docstring for the keys."""
    doc_types: list[str] = []
    equals: dict[str, tuple[str, ...]] = {}
    ranges: dict[str, tuple[str | None, str | None]] = {}
    date_from = date_to = None
    related: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        check_key(key)
        values = [_text(v, key) for v in (value if isinstance(value, list | tuple) else [value])]
        if not values:
            continue
        if key == "doc_type":
            for doc_type in values:
                if doc_type not in DOC_TYPES:
                    raise InvalidRequestError(
                        f"doc_type must be one of {', '.join(DOC_TYPES)}, not {doc_type!r}"
                    )
            doc_types.extend(values)
        elif key in ("date_from", "date_to"):
            if len(values) != 1 or not is_date(values[0]):
                shown = f", not {values[0]!r}" if len(values) == 1 else ""
                raise InvalidRequestError(f"{key} takes one real date as {DATE_FORMS}{shown}")
            if key == "date_from":
                date_from = values[0]
            else:
                date_to = values[0]
        elif key == "classification":
            unknown = [v for v in values if v.lower() not in LEVELS]
            if unknown:
                raise InvalidRequestError(
                    f"classification must be one of {', '.join(LEVELS)}, not {unknown[0]!r}"
                )
            equals[key] = tuple(equals.get(key, ())) + tuple(v.lower() for v in values)
        elif key in FILTER_LABELS:
            for document_id in values:
                if not DOCUMENT_ID.match(document_id):
                    raise InvalidRequestError(
                        f"{key} takes a document id ({ID_RULE}), not {document_id!r}"
                    )
            related[key] = tuple(related.get(key, ())) + tuple(values)
        elif key.endswith(("_min", "_max")) and len(key) > 4:
            if len(values) != 1:
                raise InvalidRequestError(f"{key} takes one value")
            check_bound(key, values[0])
            field = key[:-4]
            low, high = ranges.get(field, (None, None))
            ranges[field] = (values[0], high) if key.endswith("_min") else (low, values[0])
        else:
            equals[key] = tuple(equals.get(key, ())) + tuple(values)
    return Filters(
        doc_types=tuple(dict.fromkeys(doc_types)),
        equals=equals,
        ranges=ranges,
        date_from=date_from,
        date_to=date_to,
        related=related,
    )


def check_bound(key: str, value: str) -> str:
    """A range bound: a number, or a date (compared as text, so 2004-06 sorts within 2004)."""
    if is_date(value):
        return value
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidRequestError(f"{key} takes a number or a date ({DATE_FORMS}), not {value!r}")
    return value


def parse_since(since: str) -> str:
    """An audit log bound in the form the log's times are stored in, so text comparison is
    time order: a date as given (a prefix of every time in it), a time in UTC to the second
    (a time without a zone is taken as UTC)."""
    if is_date(since):
        return since
    try:
        moment = datetime.fromisoformat(since)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError):
        raise InvalidRequestError(
            f"since takes a date ({DATE_FORMS}) or a time (YYYY-MM-DDTHH:MM[:SS], UTC unless "
            f"it ends in a zone such as +02:00 or Z), not {since!r}"
        ) from None


def _text(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise InvalidRequestError(f"filter {key!r} takes strings, numbers or booleans")
    return str(value)
