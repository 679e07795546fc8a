"""A file ingested again, or as a new version, changes only the fields it gives: its type, title
and metadata otherwise stay as stored, and the audit says what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.pipeline import IngestOptions, ingest_paths, ingest_upload
from kb.access import Viewer
from kb.knowledge_base import KnowledgeBase
from kb.metadata.schema import load_schema
from tests.docs import write

pytestmark = pytest.mark.backends

NOTE = "# Kassel field note\n\nThe observers walked the ceasefire line twice a week.\n"
NOTE_V2 = NOTE + "\nIn March the walks were cut to one a week for lack of fuel.\n"
FIELDS = {"region": "Kassel", "date": "2020-01-02", "programme": "P1"}


def first_import(kb: KnowledgeBase, folder: Path) -> Path:
    path = write(folder, "note.md", NOTE)
    options = IngestOptions(doc_type="evaluation", metadata=FIELDS, schema=load_schema())
    report = ingest_paths(kb, [path], options)
    assert [o.status for o in report.outcomes] == ["added"], report.outcomes
    return path


def test_the_same_bytes_again_with_nothing_given_leave_the_document_unchanged(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = first_import(kb, tmp_path)
    kb.edit("note", {"title": "Kassel, a field note"}, "cli:ana")
    generation = kb.store.generation()

    report = ingest_paths(kb, [path], IngestOptions(schema=load_schema()))

    assert [o.status for o in report.outcomes] == ["unchanged"]
    document = kb.get_document("note")
    assert document.doc_type == "evaluation"
    assert document.title == "Kassel, a field note"
    assert {k: document.metadata[k] for k in FIELDS} == FIELDS
    assert kb.store.generation() == generation  # nothing written at all


def test_the_same_bytes_through_an_upload_are_unchanged_too(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    first_import(kb, tmp_path)

    outcome = ingest_upload(kb, "note.md", NOTE.encode(), IngestOptions(schema=load_schema()))

    assert outcome.status == "unchanged" and outcome.version is None
    assert kb.get_document("note").metadata["programme"] == "P1"


def test_what_is_given_changes_only_those_fields_and_is_audited(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = first_import(kb, tmp_path)
    write(tmp_path, "note.meta.json", json.dumps({"programme": "P2"}))

    report = ingest_paths(kb, [path], IngestOptions(metadata={"themes": ["fuel"]}))

    assert [(o.status, o.version) for o in report.outcomes] == [("updated", None)]
    document = kb.get_document("note")
    assert document.doc_type == "evaluation" and document.version == 1
    assert document.metadata["programme"] == "P2" and document.metadata["themes"] == ["fuel"]
    assert document.metadata["region"] == "Kassel"
    _, (entry, *_) = kb.audit("note")
    assert entry.action == "edit"
    assert entry.before == {"metadata": {**FIELDS, "year": 2020}}
    assert entry.after == {
        "metadata": {**FIELDS, "year": 2020, "programme": "P2", "themes": ["fuel"]}
    }


def test_a_new_version_inherits_every_field_its_upload_does_not_give(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    first_import(kb, tmp_path)
    kb.edit(
        "note",
        {"title": "Kassel, a field note", "metadata": {"countries": ["Marvania"]}},
        "cli:ana",
    )

    # An upload with an empty form: no type, no fields; the schema still holds (the stored
    # evaluation's date, region and programme come with it).
    outcome = ingest_upload(kb, "note.md", NOTE_V2.encode(), IngestOptions(schema=load_schema()))

    assert (outcome.status, outcome.version) == ("updated", 2)
    document = kb.get_document("note")
    assert document.version == 2 and document.doc_type == "evaluation"
    assert document.title == "Kassel, a field note"
    assert document.metadata["countries"] == ["Marvania"]
    assert {k: document.metadata[k] for k in FIELDS} == FIELDS
    _, (entry, *_) = kb.audit("note")
    assert entry.action == "replace"
    assert entry.after is not None and entry.before is not None
    # Only what changed: the content (its hash), and the version numbers.
    assert set(entry.after) == {"sha256", "version"} and entry.after["version"] == 2
    assert entry.before["version"] == 1


def test_a_new_version_takes_the_fields_it_gives_and_rederives_the_year(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    first_import(kb, tmp_path)
    options = IngestOptions(metadata={"date": "2021-06-30"}, title="Kassel notes, 2021")

    outcome = ingest_upload(kb, "note.md", NOTE_V2.encode(), options)

    assert outcome.version == 2
    document = kb.get_document("note")
    assert document.title == "Kassel notes, 2021" and document.date == "2021-06-30"
    assert document.metadata["year"] == 2021 and document.metadata["programme"] == "P1"
    _, (entry, *_) = kb.audit("note")
    assert entry.after is not None
    assert set(entry.after) == {"sha256", "version", "title", "date", "metadata"}


def test_a_document_the_uploader_may_not_see_lends_nothing(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = write(tmp_path, "memo.md", NOTE)
    hidden = IngestOptions(doc_type="evaluation", metadata=FIELDS, classification="confidential")
    ingest_paths(kb, [path], hidden)
    reader = Viewer("rui", "evaluator", "internal")

    # Without the hidden evaluation's fields, an evaluation upload misses its required fields:
    # the answer must be the same as if the id were free, and nothing is written.
    options = IngestOptions(doc_type="evaluation", schema=load_schema(), viewer=reader)
    with pytest.raises(Exception) as refused:
        ingest_upload(kb, "memo.md", NOTE_V2.encode(), options)
    free = IngestOptions(
        doc_type="evaluation", schema=load_schema(), viewer=reader, document_id="unused-id"
    )
    with pytest.raises(Exception) as fresh:
        ingest_upload(kb, "memo.md", NOTE_V2.encode(), free)
    assert type(refused.value) is type(fresh.value)
    assert str(refused.value).replace("memo", "X") == str(fresh.value).replace("memo", "X")
    assert kb.get_document("memo").version == 1


def test_an_id_differing_only_by_case_is_refused_as_a_look_alike(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    first_import(kb, tmp_path)
    hidden = IngestOptions(document_id="Memo-7", classification="confidential")
    ingest_upload(kb, "memo.md", b"# Memo\n\nA memo on the fuel for the observers' cars.\n", hidden)
    reader = Viewer("rui", "evaluator", "internal")

    with pytest.raises(Exception) as alike:
        ingest_upload(kb, "other.md", NOTE_V2.encode(), IngestOptions(document_id="Note"))
    assert "differs only by case from 'note'" in str(alike.value)

    # A look-alike of a document the uploader may not see is refused as any unusable id.
    options = IngestOptions(document_id="memo-7", viewer=reader)
    with pytest.raises(Exception) as hidden_alike:
        ingest_upload(kb, "memo.md", NOTE_V2.encode(), options)
    assert str(hidden_alike.value).endswith("document_id 'memo-7' is not available; choose another")

    # Ids given by the caller too: the first is added, its look-alike refused.
    folder = tmp_path / "batch"
    for name in ("Lofa.md", "lofa.md"):
        write(folder, name, f"# {name}\n\nObservers in {name[:4]} county, text {name}.\n")
    report = ingest_paths(kb, [folder / "Lofa.md"], IngestOptions(document_id="Lofa-Report"))
    again = ingest_paths(kb, [folder / "lofa.md"], IngestOptions(document_id="lofa-report"))
    assert [o.status for o in report.outcomes] == ["added"]
    assert [o.status for o in again.outcomes] == ["failed"]
    assert "differs only by case" in (again.outcomes[0].reason or "")
    assert kb.get_document("note").version == 1  # the look-alike wrote nothing


def test_case_is_folded_for_ascii_letters_only_on_every_backend(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    text = b"# Eclair\n\nA note on the supply lines of the eastern front.\n"
    ingest_upload(kb, "a.md", text, IngestOptions(document_id="Éclair-1"))
    # "é" and "É" are different letters to the look-alike rule on both backends alike.
    other = ingest_upload(kb, "b.md", text + b"More.\n", IngestOptions(document_id="éclair-1"))
    assert other.status == "added"
    with pytest.raises(Exception, match="differs only by case"):
        ingest_upload(kb, "c.md", text + b"Again.\n", IngestOptions(document_id="ÉCLAIR-1"))
