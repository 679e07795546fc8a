"""The filter builder: filters and a viewer as a WHERE clause over `documents d`, with named
parameters. SQLite's clauses by default; a backend with another SQL passes its FilterDialect
(`kb.store.postgres.sql`). Beside `kb.store.sqlite.sql`, which holds the statements the clause goes
into."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kb import relations
from kb.access import LEVELS, Viewer
from kb.models import Filters

# Soft-deleted documents keep their rows until purged; everything that reads for search,
# listing or counting sees live documents only.
LIVE = "d.deleted_at IS NULL"

PARAM_PREFIX = "f"
# SQLite's lower() folds ASCII only; filters compare with Python's casefold, registered
# on every connection under this name.
FOLD_FUNCTION = "kb_fold"


def fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


Bind = Callable[[Any], str]  # a value -> the name of the parameter that carries it


@dataclass(frozen=True)
class FilterDialect:
    """What a backend's SQL says its own way in a filter: "true", a metadata value equal to
    one of several (a value may be one scalar or a list of them), a metadata value in a range."""

    true: str
    equals: Callable[[str, tuple[str, ...], Bind], str]
    in_range: Callable[[str, str, str, Bind], str]


def sqlite_equals(key: str, values: tuple[str, ...], bind: Bind) -> str:
    # json_each over a scalar yields the scalar itself, so one clause serves
    # single values and lists (parties, countries) alike.
    # JSON true/false come back from json_each as 1/0, so they are compared by type.
    names = ", ".join(bind(fold(v)) for v in values)
    return (
        f"EXISTS (SELECT 1 FROM json_each(d.metadata, {bind(json_path(key))}) j "
        f"WHERE (CASE WHEN j.type IN ('true', 'false') THEN j.type "
        f"ELSE {FOLD_FUNCTION}(CAST(j.value AS TEXT)) END) IN ({names}))"
    )


def sqlite_in_range(key: str, op: str, bound: str, bind: Bind) -> str:
    return range_clause(f"json_extract(d.metadata, {bind(json_path(key))})", op, bound, bind)


SQLITE_FILTERS = FilterDialect("1", sqlite_equals, sqlite_in_range)


def build_where(
    filters: Filters, live: bool | None = True, dialect: FilterDialect = SQLITE_FILTERS
) -> tuple[str, dict[str, Any]]:
    """Turn filters into a WHERE clause over `documents d`, with named parameters: live
    documents (False: those in the trash; None: both), that the filters' viewer may see,
    meeting the filters."""
    true = dialect.true
    clauses: list[str] = {True: [LIVE], False: ["d.deleted_at IS NOT NULL"], None: [true]}[live]
    params: dict[str, Any] = {}

    def bind(value: Any) -> str:
        name = f"{PARAM_PREFIX}{len(params)}"
        params[name] = value
        return f":{name}"

    viewer = filters.viewer
    seen = true if viewer is None else visibility_clause("d", viewer, bind)
    clauses.append(seen)

    if filters.doc_types:
        names = ", ".join(bind(t) for t in filters.doc_types)
        clauses.append(f"d.doc_type IN ({names})")
    for key, values in filters.equals.items():
        if key == "classification":  # the marking is a column (a rank), not metadata
            ranks = ", ".join(bind(LEVELS.index(v)) for v in values)
            clauses.append(f"d.classification IN ({ranks})")
            continue
        clauses.append(dialect.equals(key, values, bind))
    for key, (low, high) in filters.ranges.items():
        if low is not None:
            clauses.append(dialect.in_range(key, ">=", low, bind))
        if high is not None:
            clauses.append(dialect.in_range(key, "<=", high, bind))
    if filters.date_from:
        clauses.append(f"d.date >= {bind(filters.date_from)}")
    if filters.date_to:
        # A prefix bound: date_to=2019 keeps every date in 2019.
        clauses.append(f"d.date <= {bind(filters.date_to + chr(0x10FFFF))}")
    for label, ids in filters.related.items():
        # The other end must be a live document the viewer sees: a link filter naming a hidden
        # document finds nothing, exactly as one naming a missing document.
        other = true if viewer is None else visibility_clause("o", viewer, bind)
        clauses.append(relation_clause(label, [bind(i) for i in ids], bind, other))
    return " AND ".join(clauses), params


def range_clause(column: str, op: str, bound: str, bind: Any) -> str:
    try:
        number = float(bound)
    except ValueError:
        return f"{column} {op} {bind(bound)}"
    return f"CAST({column} AS REAL) {op} {bind(number)}"


def json_path(key: str) -> str:
    # Keys hold no double quote (checked where filters are parsed), so quoting is safe.
    return '$."' + key + '"'


def visibility_clause(alias: str, viewer: Viewer, bind: Any) -> str:
    """The visibility rule of kb.access.may_see over documents `alias`, in SQL."""
    mine = ", ".join(bind(g) for g in viewer.groups) or "NULL"
    groups = f"SELECT 1 FROM document_groups g WHERE g.document_id = {alias}.document_id"
    return (
        f"({alias}.classification <= {bind(viewer.rank)} AND (NOT EXISTS ({groups}) "
        f"OR EXISTS ({groups} AND g.group_name IN ({mine}))))"
    )


def relation_clause(label: str, ids: list[str], bind: Any, other: str = "1") -> str:
    """Documents linked to any of `ids` as `label` says: a relation type (outgoing), its
    inverse label (incoming), or `related_to` (either way, any type); the document at the other
    end must be live and meet `other` (a clause over `documents o`)."""
    names = ", ".join(ids)
    end = (
        "EXISTS (SELECT 1 FROM documents o WHERE o.document_id = r.{} "
        f"AND o.deleted_at IS NULL AND {other})"
    )
    outgoing = (
        "SELECT 1 FROM relations r WHERE r.source_id = d.document_id AND r.target_id IN ({}) "
        f"AND {end.format('target_id')}"
    )
    incoming = (
        "SELECT 1 FROM relations r WHERE r.target_id = d.document_id AND r.source_id IN ({}) "
        f"AND {end.format('source_id')}"
    )
    if label == relations.ANY_RELATION:
        return f"(EXISTS ({outgoing.format(names)}) OR EXISTS ({incoming.format(names)}))"
    parts = []
    forward, backward = relations.outgoing_type(label), relations.incoming_type(label)
    if forward is not None:
        parts.append(f"EXISTS ({outgoing.format(names)} AND r.relation = {bind(forward)})")
    if backward is not None:
        parts.append(f"EXISTS ({incoming.format(names)} AND r.relation = {bind(backward)})")
    return "(" + " OR ".join(parts) + ")"
