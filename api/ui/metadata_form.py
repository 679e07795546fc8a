"""The metadata schema as form fields, and a form's values back as metadata.

Every field the schema declares gets an input (a list is one line, its items separated by
semicolons and split by kb.metadata.schema's `split_list`, as everywhere else); the page marks the
fields the chosen document type requires, with the schema's description under each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kb.errors import FieldProblem, InvalidMetadataError
from kb.metadata.schema import LIST_SEPARATOR, MetadataSchema, split_list

PREFIX = "m_"  # form names of metadata fields: m_date, m_parties...


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str
    description: str
    choices: tuple[str, ...]
    required_for: tuple[str, ...]  # document types that cannot go without it
    # Fields that may stand in for it where one of a group is required (programme or mission).
    alternatives: tuple[str, ...] = ()

    @property
    def input_name(self) -> str:
        return PREFIX + self.name


def form_fields(schema: MetadataSchema) -> list[FormField]:
    """The schema's fields, the most often required first."""
    fields = []
    groups = [group for type_rule in schema.types.values() for group in type_rule.required_any]
    for name, rule in schema.fields.items():
        required = tuple(
            doc_type
            for doc_type, type_rule in schema.types.items()
            if name in type_rule.required or any(name in group for group in type_rule.required_any)
        )
        alternatives = next((tuple(n for n in g if n != name) for g in groups if name in g), ())
        fields.append(
            FormField(name, rule.kind, rule.description, rule.choices, required, alternatives)
        )
    return sorted(fields, key=lambda f: -len(f.required_for))


def shown(value: Any) -> str:
    """A stored value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    return str(value)


def entered(fields: list[FormField], form: Mapping[str, Any]) -> dict[str, str]:
    """What the user typed in each metadata field, as typed (to show it again)."""
    return {f.name: str(form.get(f.input_name) or "").strip() for f in fields}


def metadata_of(fields: list[FormField], typed: Mapping[str, str]) -> dict[str, Any]:
    """The fields the user filled in, as metadata: lists split, empty fields left out."""
    metadata: dict[str, Any] = {}
    kinds = {f.name: f.kind for f in fields}
    for name, text in typed.items():
        if not text:
            continue
        if kinds.get(name) == "list":
            metadata[name] = split_list(text)
        else:
            metadata[name] = text
    return metadata


def problems_by_field(
    error: InvalidMetadataError, with_source: bool = True
) -> dict[str, list[str]]:
    """Each field's problems, worded for the field's own label; a file's name is kept (many
    files share one form) unless `with_source` is False."""
    found: dict[str, list[str]] = {}
    for problem in error.problems:
        found.setdefault(problem.field, []).append(_worded(problem, with_source))
    return found


def other_problems(
    problems: Mapping[str, list[str]], fields: list[FormField], shown_by_page: tuple[str, ...] = ()
) -> list[str]:
    """Problems of fields the form has no metadata input for (title, files...)."""
    placed = {f.name for f in fields} | {"files", *shown_by_page}
    return [m for name, messages in problems.items() if name not in placed for m in messages]


def _worded(problem: FieldProblem, with_source: bool) -> str:
    where = f"{problem.source}: " if problem.source and with_source else ""
    return f"{where}{problem.field} {problem.reason}"
