"""The metadata schema: the bundled file, custom files, and what validation refuses and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.metadata import checked_metadata
from kb.errors import ConfigError, InvalidMetadataError
from kb.metadata.schema import MetadataSchema, load_schema, validate_metadata
from kb.models import DOC_TYPES
from tests.conftest import EXAMPLES

AGREEMENT = {"date": "1998-03-14", "parties": ["Valdoria", "AHLF"], "stage": "ceasefire"}
EVALUATION = {"date": "2005-02", "region": "Aurel Highlands", "programme": "DDR Programme"}


@pytest.fixture(scope="module")
def schema() -> MetadataSchema:
    return load_schema()


def refused(schema: MetadataSchema, doc_type: str, metadata: dict[str, Any]) -> dict[str, str]:
    """Every refused field and its reason."""
    with pytest.raises(InvalidMetadataError) as caught:
        validate_metadata(schema, doc_type, "A title", metadata)
    problems = {p.field: p.reason for p in caught.value.problems}
    assert caught.value.field == caught.value.problems[0].field
    for field, reason in problems.items():
        assert f"'{field}' {reason}" in caught.value.message
    return problems


def test_the_bundled_schema_covers_every_document_type(schema: MetadataSchema) -> None:
    assert set(schema.types) == set(DOC_TYPES)
    assert schema.types["agreement"].required == ("date", "parties", "stage")
    assert schema.types["evaluation"].required_any == (("programme", "mission"),)
    assert schema.types["other"].required == ()
    # PA-X's stages (bench/eval/pax-dev's stage_label), as our choices.
    assert {
        "pre-negotiation",
        "ceasefire",
        "framework",
        "comprehensive",
        "implementation",
        "renewal",
        "other",
    } == set(schema.fields["stage"].choices)


def test_valid_metadata_passes_and_comes_back_tidied(schema: MetadataSchema) -> None:
    assert validate_metadata(schema, "agreement", "Accord", AGREEMENT) == AGREEMENT
    tidied = validate_metadata(
        schema,
        "agreement",
        "Accord",
        {**AGREEMENT, "parties": "Kestrian Federation", "stage": " Ceasefire ", "extra": [1, 2]},
    )
    assert tidied["parties"] == ["Kestrian Federation"]  # one party is a list of one
    assert tidied["stage"] == "ceasefire"  # spelt as in the schema
    assert tidied["extra"] == [1, 2]  # undeclared fields are free metadata
    assert validate_metadata(schema, "evaluation", "E", EVALUATION) == EVALUATION
    mission = {"date": "2002", "region": "Highlands", "mission": "OMNAH"}
    assert validate_metadata(schema, "evaluation", "E", mission) == mission
    assert validate_metadata(schema, "other", "Note", {}) == {}
    # A blank optional field counts as absent, not as a bad date.
    assert validate_metadata(schema, "other", "Note", {"date": " "}) == {"date": " "}


def test_a_list_field_given_as_text_is_split_on_semicolons(schema: MetadataSchema) -> None:
    typed = {**AGREEMENT, "parties": " Front, North ; South;; ", "themes": "water"}
    tidied = validate_metadata(schema, "agreement", "Accord", typed)
    assert tidied["parties"] == ["Front, North", "South"]  # commas stay: names hold them
    assert tidied["themes"] == ["water"]
    assert validate_metadata(schema, "agreement", "Accord", AGREEMENT) == AGREEMENT  # lists kept
    blank = refused(schema, "agreement", {**AGREEMENT, "parties": " ; "})
    assert blank == {"parties": "is required for an agreement"}


@pytest.mark.parametrize(
    ("doc_type", "metadata", "field", "reason"),
    [
        ("agreement", {**AGREEMENT, "parties": []}, "parties", "is required for an agreement"),
        ("agreement", {"date": "2001", "parties": ["A"]}, "stage", "is required for an agreement"),
        ("agreement", {**AGREEMENT, "stage": "truce"}, "stage", "must be one of pre-negotiation"),
        ("agreement", {**AGREEMENT, "date": "2001-02-30"}, "date", "must be a date"),
        ("agreement", {**AGREEMENT, "date": "March 1998?"}, "date", "must be a date"),
        ("agreement", {**AGREEMENT, "date": 1998}, "date", "must be a date"),
        ("agreement", {**AGREEMENT, "parties": ["A", ""]}, "parties", "must be a list of"),
        ("agreement", {**AGREEMENT, "parties": {"a": 1}}, "parties", "must be a list of"),
        ("evaluation", {**EVALUATION, "region": ["North"]}, "region", "must be text"),
        (
            "evaluation",
            {"date": "2005", "region": "North"},
            "programme",
            "is required for an evaluation (or mission)",
        ),
        ("lessons-learned", {"region": "North"}, "date", "is required for a lessons-learned"),
        ("other", {"stage": "final"}, "stage", "must be one of"),  # a declared field, any type
    ],
)
def test_each_bad_field_is_named_with_the_reason(
    schema: MetadataSchema, doc_type: str, metadata: dict[str, Any], field: str, reason: str
) -> None:
    problems = refused(schema, doc_type, metadata)
    assert list(problems) == [field]
    assert problems[field].startswith(reason), problems


def test_every_problem_is_named_at_once(schema: MetadataSchema) -> None:
    problems = refused(schema, "agreement", {"date": "someday", "stage": "truce"})
    assert set(problems) == {"date", "parties", "stage"}
    with pytest.raises(InvalidMetadataError, match="'title' must not be empty"):
        validate_metadata(schema, "other", "   ", {})


def test_ingest_normalises_dates_before_checking_and_names_the_file(
    schema: MetadataSchema,
) -> None:
    fields = {
        "title": "T",
        "doc_type": "agreement",
        "date": "14 March 1998",
        "parties": ["A", "B"],
        "stage": "Ceasefire",
    }
    metadata = checked_metadata("accord.md", "agreement", fields, schema)
    assert metadata == {
        "date": "1998-03-14",
        "year": 1998,
        "parties": ["A", "B"],
        "stage": "ceasefire",
    }
    with pytest.raises(InvalidMetadataError) as caught:
        checked_metadata("accord.md", "agreement", {**fields, "date": "14 Brumaire"}, schema)
    assert caught.value.source == "accord.md"
    assert caught.value.message.startswith("accord.md: metadata field 'date' must be a date")
    assert {p.source for p in caught.value.problems} == {"accord.md"}


def test_the_sample_corpus_sidecars_are_valid(schema: MetadataSchema) -> None:
    sidecars = sorted(EXAMPLES.glob("*.meta.json"))
    assert len(sidecars) == 18
    for sidecar in sidecars:
        fields = json.loads(sidecar.read_text())
        checked_metadata(sidecar.name, fields["doc_type"], fields, schema, fields["title"])


# -- custom schema files ----------------------------------------------------------------------


def write_schema(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.toml"
    path.write_text(text)
    return path


def test_a_custom_schema_replaces_the_bundled_one(tmp_path: Path) -> None:
    schema = load_schema(
        write_schema(
            tmp_path,
            """
[fields.sector]
kind = "choice"
choices = ["Water", "Land"]
[types.other]
required = ["sector"]
""",
        )
    )
    assert schema.location == str(tmp_path / "schema.toml")
    assert validate_metadata(schema, "other", "T", {"sector": "water"}) == {"sector": "Water"}
    assert refused(schema, "other", {}) == {"sector": "is required for an other"}
    # A type the file does not mention needs nothing.
    assert validate_metadata(schema, "agreement", "T", {}) == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[fields.date\nkind = 'date'", "not valid TOML"),
        ("[fields.date]\nkind = 'timestamp'", "fields.date.kind must be one of"),
        ("[fields.stage]\nkind = 'choice'", '`choices` goes with kind "choice"'),
        ("[fields.date]\nkind = 'date'\nformat = 'iso'", "unknown key(s) format"),
        ("[types.treaty]\nrequired = []", "types.treaty: not a document type"),
        ("[types.agreement]\nrequired = ['parties']", "requires 'parties', which [fields]"),
        ("[types.agreement]\nrequired = 'date'", "must be a list of non-empty strings"),
        ("[vocabularies]\nstage = []", "unknown section(s) vocabularies"),
    ],
)
def test_a_bad_schema_file_is_a_config_error_naming_it(
    tmp_path: Path, text: str, says: str
) -> None:
    path = write_schema(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_schema(path)
    assert str(path) in caught.value.message and says in caught.value.message


def test_a_missing_schema_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere.toml: cannot read it"):
        load_schema(tmp_path / "nowhere.toml")
