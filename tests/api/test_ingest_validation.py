"""`kb ingest` checks each file's metadata against the schema: a bad file fails naming the field,
the rest of the batch goes on; records are bulk imports and are not checked."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from api.cli import cli
from kb.errors import ConfigError
from tests.docs import write

ENV = {"COLUMNS": "1000", "HF_HUB_OFFLINE": "1", "KB_STORE": None, "KB_METADATA_SCHEMA": None}
TEXT = "# {title}\n\nThe parties agree to a ceasefire along the river and to exchange detainees.\n"


def run(store: Path, *args: str, **env: str) -> Result:
    return CliRunner(env={**ENV, **env}).invoke(cli, ["--store", str(store), *args])


def document(folder: Path, name: str, sidecar: dict[str, object]) -> None:
    write(folder, f"{name}.md", TEXT.format(title=name))
    write(folder, f"{name}.meta.json", json.dumps(sidecar))


def listed(store: Path) -> list[str]:
    result = run(store, "list", "--json")
    assert result.exit_code == 0, result.output
    return sorted(d["document_id"] for d in json.loads(result.stdout)["items"])


def test_a_file_breaking_the_schema_fails_naming_the_field_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    folder, store = tmp_path / "inbox", tmp_path / "store"
    document(
        folder,
        "good",
        {
            "doc_type": "agreement",
            "date": "12 March 1998",
            "parties": ["A", "B"],
            "stage": "Ceasefire",
        },
    )
    document(folder, "no-stage", {"doc_type": "agreement", "date": "1998", "parties": ["A"]})
    document(folder, "bad-date", {"doc_type": "lessons-learned", "date": "the spring"})

    result = run(store, "ingest", str(folder))

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(
        "no-stage.md" in line and "metadata field 'stage' is required for an agreement" in line
        for line in lines
    ), result.stderr
    assert any(
        "bad-date.md" in line and "metadata field 'date' must be a date" in line for line in lines
    ), result.stderr
    assert "1 added, 0 updated, 0 unchanged, 0 duplicate, 2 failed" in result.stderr
    assert listed(store) == ["good"]
    shown = json.loads(run(store, "show", "good", "--json").stdout)
    assert shown["metadata"]["stage"] == "ceasefire" and shown["date"] == "1998-03-12"

    as_json = json.loads(run(store, "ingest", str(folder), "--json").stdout)
    assert {Path(f["source"]).name: f["reason"] for f in as_json["failures"]} == {
        "no-stage.md": "metadata field 'stage' is required for an agreement",
        "bad-date.md": "metadata field 'date' must be a date (YYYY, YYYY-MM or YYYY-MM-DD), "
        "not 'the spring'",
    }


def test_meta_on_the_command_line_can_complete_a_file(tmp_path: Path) -> None:
    folder, store = tmp_path / "inbox", tmp_path / "store"
    document(folder, "accord", {"doc_type": "agreement", "date": "2001", "parties": "A"})
    assert run(store, "ingest", str(folder)).exit_code == 1
    result = run(store, "ingest", str(folder), "--meta", "stage=framework")
    assert result.exit_code == 0, result.output
    shown = json.loads(run(store, "show", "accord", "--json").stdout)
    assert shown["metadata"]["parties"] == ["A"]  # one party, kept as a list


def test_no_validate_ingests_legacy_files_as_they_are(tmp_path: Path) -> None:
    folder, store = tmp_path / "inbox", tmp_path / "store"
    document(folder, "legacy", {"doc_type": "evaluation", "date": "someday"})
    result = run(store, "ingest", str(folder), "--no-validate")
    assert result.exit_code == 0, result.output
    assert listed(store) == ["legacy"]


def test_records_are_not_checked_even_with_a_document_type(tmp_path: Path) -> None:
    store = tmp_path / "store"
    records = tmp_path / "corpus.jsonl"
    records.write_text(
        json.dumps(
            {
                "_id": "pax-1",
                "title": "Accord",
                "text": "A ceasefire accord.",
                "metadata": {"Dat": "15/02/1990", "Stage": "Cea"},
            }
        )
        + "\n"
    )
    result = run(store, "ingest", str(records), "--type", "agreement")
    assert result.exit_code == 0, result.output
    assert listed(store) == ["pax-1"]


def test_a_custom_schema_file_from_the_environment(tmp_path: Path) -> None:
    folder, store = tmp_path / "inbox", tmp_path / "store"
    schema = tmp_path / "schema.toml"
    schema.write_text('[fields.sector]\nkind = "text"\n[types.other]\nrequired = ["sector"]\n')
    document(folder, "note", {"doc_type": "other"})
    result = run(store, "ingest", str(folder), KB_METADATA_SCHEMA=str(schema))
    assert result.exit_code == 1
    assert "metadata field 'sector' is required for an other" in result.stderr

    schema.write_text('[fields.sector]\nkind = "timestamp"\n')
    broken = run(store, "ingest", str(folder), KB_METADATA_SCHEMA=str(schema))
    # A core error: `kb` (api.cli.main) prints its message as one line and exits 1.
    assert isinstance(broken.exception, ConfigError)
    assert str(schema) in broken.exception.message
    assert "fields.sector.kind must be one of" in broken.exception.message


def test_list_fields_are_split_on_semicolons_from_meta_and_from_sidecars(tmp_path: Path) -> None:
    folder, store = tmp_path / "inbox", tmp_path / "store"
    document(
        folder,
        "accord",
        {
            "doc_type": "agreement",
            "date": "2001",
            "stage": "framework",
            "parties": "Government of Marvania; Trevian Front",
        },
    )
    result = run(store, "ingest", str(folder), "--meta", "countries=Marvania; Trevia")
    assert result.exit_code == 0, result.output
    metadata = json.loads(run(store, "show", "accord", "--json").stdout)["metadata"]
    assert metadata["countries"] == ["Marvania", "Trevia"]
    assert metadata["parties"] == ["Government of Marvania", "Trevian Front"]

    # Unchecked, --meta still splits the schema's list fields the same way.
    write(folder, "legacy.md", TEXT.format(title="legacy"))
    unchecked = run(
        store,
        "ingest",
        str(folder / "legacy.md"),
        "--no-validate",
        "--meta",
        "themes=water; land ;",
    )
    assert unchecked.exit_code == 0, unchecked.output
    shown = json.loads(run(store, "show", "legacy", "--json").stdout)
    assert shown["metadata"]["themes"] == ["water", "land"]
