"""The metadata schema: which fields each document type needs, and what each field may hold.

One TOML file holds it (the bundled `kb/metadata/metadata_schema.toml` unless `KB_METADATA_SCHEMA`
names
another); `validate_metadata` checks one document against it and names every field it refuses.
A list field given as one string is split by `split_list`, the one rule for every way in (the
command line, sidecars, the HTTP API, the UI's form).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from kb.errors import ConfigError, FieldProblem, InvalidMetadataError
from kb.models import DOC_TYPES

Kind = Literal["text", "list", "date", "choice"]
KINDS: tuple[Kind, ...] = ("text", "list", "date", "choice")
DEFAULT_SCHEMA = "metadata_schema.toml"
ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?\Z")
# Not a comma: names of parties and programmes hold commas.
LIST_SEPARATOR = ";"
Fail = Callable[[str], ConfigError]


@dataclass(frozen=True)
class FieldRule:
    name: str
    kind: Kind
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TypeRule:
    doc_type: str
    required: tuple[str, ...] = ()
    required_any: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class MetadataSchema:
    fields: Mapping[str, FieldRule]
    types: Mapping[str, TypeRule]
    location: str

    def rule_for(self, doc_type: str) -> TypeRule:
        return self.types.get(doc_type) or TypeRule(doc_type)


def load_schema(path: Path | None = None) -> MetadataSchema:
    """The schema in `path`, or the bundled default; a file that cannot be used is a ConfigError."""
    if path is None:
        source = resources.files("kb.metadata").joinpath(DEFAULT_SCHEMA)
        location, text = (
            f"(bundled) kb/metadata/{DEFAULT_SCHEMA}",
            source.read_text(encoding="utf-8"),
        )
    else:
        location = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"metadata schema {location}: cannot read it ({exc})") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"metadata schema {location}: not valid TOML ({exc})") from exc
    return parse_schema(raw, location)


def parse_schema(raw: Mapping[str, Any], location: str) -> MetadataSchema:
    def fail(reason: str) -> ConfigError:
        return ConfigError(f"metadata schema {location}: {reason}")

    unknown = set(raw) - {"fields", "types"}
    if unknown:
        raise fail(f"unknown section(s) {', '.join(sorted(unknown))}; expected fields, types")
    fields: dict[str, FieldRule] = {}
    for name, spec in _table(raw.get("fields", {}), "fields", fail).items():
        spec = _table(spec, f"fields.{name}", fail)
        _only(spec, {"kind", "choices", "description"}, f"fields.{name}", fail)
        kind = spec.get("kind")
        if kind not in KINDS:
            raise fail(f"fields.{name}.kind must be one of {', '.join(KINDS)}, not {kind!r}")
        choices = _strings(spec.get("choices", []), f"fields.{name}.choices", fail)
        if (kind == "choice") != bool(choices):
            raise fail(f'fields.{name}: `choices` goes with kind "choice", and only with it')
        fields[name] = FieldRule(
            name, cast(Kind, kind), tuple(choices), str(spec.get("description", ""))
        )
    types: dict[str, TypeRule] = {}
    for doc_type, spec in _table(raw.get("types", {}), "types", fail).items():
        if doc_type not in DOC_TYPES:
            raise fail(f"types.{doc_type}: not a document type ({', '.join(DOC_TYPES)})")
        spec = _table(spec, f"types.{doc_type}", fail)
        _only(spec, {"required", "required_any"}, f"types.{doc_type}", fail)
        required = _strings(spec.get("required", []), f"types.{doc_type}.required", fail)
        groups = spec.get("required_any", [])
        if not isinstance(groups, list):
            raise fail(f"types.{doc_type}.required_any must be a list of lists of field names")
        any_of = [_strings(g, f"types.{doc_type}.required_any", fail) for g in groups]
        for name in [*required, *(n for group in any_of for n in group)]:
            if name not in fields:
                raise fail(f"types.{doc_type} requires {name!r}, which [fields] does not declare")
        types[doc_type] = TypeRule(doc_type, tuple(required), tuple(tuple(g) for g in any_of))
    return MetadataSchema(fields, types, location)


def split_list(text: str) -> list[str]:
    """The items of a list field written as one string: split on semicolons, each trimmed,
    empty ones dropped ("Marvania; Trevia" is two countries)."""
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def is_list_field(schema: MetadataSchema, name: str) -> bool:
    rule = schema.fields.get(name)
    return rule is not None and rule.kind == "list"


def split_list_fields(schema: MetadataSchema, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata with each list field given as a string split by `split_list`; a list is
    kept as given."""
    return {
        name: split_list(value) if isinstance(value, str) and is_list_field(schema, name) else value
        for name, value in metadata.items()
    }


def validate_metadata(
    schema: MetadataSchema, doc_type: str, title: str | None, metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """Check one document's metadata against its type's rule and every declared field's kind.

    Dates must already be normalised (ingest does it). Returns the metadata with a string in a
    list field split into its items (`split_list`), and choices spelt as in the schema; raises
    InvalidMetadataError naming every field that is missing or malformed.
    """
    metadata = split_list_fields(schema, metadata)
    problems: list[FieldProblem] = []
    if title is not None and not title.strip():
        problems.append(FieldProblem("title", "must not be empty"))
    rule = schema.rule_for(doc_type)
    article = "an" if doc_type[:1] in "aeiou" else "a"
    for name in rule.required:
        if _missing(metadata.get(name)):
            problems.append(FieldProblem(name, f"is required for {article} {doc_type}"))
    for group in rule.required_any:
        if all(_missing(metadata.get(name)) for name in group):
            problems.append(
                FieldProblem(
                    group[0], f"is required for {article} {doc_type} (or {', '.join(group[1:])})"
                )
            )
    cleaned = dict(metadata)
    for name, value in metadata.items():
        field_rule = schema.fields.get(name)
        if field_rule is None or _missing(value):
            continue
        checked = _check(field_rule, value)
        if isinstance(checked, FieldProblem):
            problems.append(checked)
        else:
            cleaned[name] = checked
    if problems:
        raise InvalidMetadataError(problems)
    return cleaned


def _check(rule: FieldRule, value: Any) -> Any:
    """The value as stored, or the problem with it."""
    if rule.kind == "text":
        if isinstance(value, str):
            return value
        return FieldProblem(rule.name, f"must be text, not {_shown(value)}")
    if rule.kind == "list":
        if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
            return value
        return FieldProblem(rule.name, f"must be a list of non-empty strings, not {_shown(value)}")
    if rule.kind == "choice":
        lowered = {c.casefold(): c for c in rule.choices}
        if isinstance(value, str) and value.strip().casefold() in lowered:
            return lowered[value.strip().casefold()]
        return FieldProblem(
            rule.name, f"must be one of {', '.join(rule.choices)}, not {_shown(value)}"
        )
    if isinstance(value, str) and is_date(value):
        return value
    return FieldProblem(
        rule.name, f"must be a date (YYYY, YYYY-MM or YYYY-MM-DD), not {_shown(value)}"
    )


def is_date(text: str) -> bool:
    """Whether `text` is a real calendar date written YYYY, YYYY-MM or YYYY-MM-DD."""
    match = ISO_DATE.match(text)
    if match is None:
        return False
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str | list | dict) and not value)
        or (isinstance(value, str) and not value.strip())
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _table(value: Any, where: str, fail: Fail) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"{where} must be a table")
    return value


def _only(spec: Mapping[str, Any], allowed: set[str], where: str, fail: Fail) -> None:
    unknown = set(spec) - allowed
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


def _strings(value: Any, where: str, fail: Fail) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(f"{where} must be a list of non-empty strings")
    return list(value)
