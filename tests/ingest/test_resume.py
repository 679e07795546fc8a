"""Re-running an import: files whose bytes are stored under their id are recognised without
being parsed, and end up exactly as a full re-read would leave them.

"Not parsed" is shown two ways: the report counts it (`not_parsed`), and the re-run uses a
parse time limit no PDF can meet, so a file that was parsed would fail instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.inheritance import Given, stored_document
from ingest.pipeline import IngestOptions, ingest_paths, prepare_file
from ingest.resume import stored_draft
from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import AddOutcome
from kb.settings import Settings
from tests.docs import make_pdf, write

PAGES = ["The observer mission deployed to Gbarnga.", "No violations of the truce in Lofa."]
SIDECAR = {"doc_type": "evaluation", "date": "2003-05-01", "region": "Lofa", "mission": "UNOMIL"}


def no_parsing(settings: Settings) -> Settings:
    """The same store, with a parse time limit so short that any PDF parsed is refused."""
    return settings.model_copy(update={"parse_timeout_seconds": 1e-6})


def folder_of_pdfs(folder: Path, count: int) -> list[Path]:
    paths = []
    for n in range(count):
        pages = [f"{text} Report number {n}." for text in PAGES]
        paths.append(write(folder, f"report-{n}.pdf", make_pdf(pages, title=f"Report {n}")))
        write(folder, f"report-{n}.meta.json", json.dumps(SIDECAR))
    return paths


def test_a_rerun_recognises_stored_files_without_parsing_them(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder_of_pdfs(folder, 3)
    write(folder, "notes.md", "# Notes\n\nA short note on the Lofa truce.")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        first = ingest_paths(kb, [folder])
        generation = kb.store.generation()
    assert first.counts()["added"] == 4 and first.not_parsed == 0

    with KnowledgeBase(no_parsing(settings), embedder=embedder) as kb:
        again = ingest_paths(kb, [folder])
        assert kb.store.generation() == generation  # nothing written, nothing embedded
        assert kb.get_document("report-1").title == "Report 1"

    assert again.counts()["unchanged"] == 4, again.outcomes
    assert again.not_parsed == 4


def test_a_changed_sidecar_is_applied_without_parsing_as_a_full_read_would(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (pdf,) = folder_of_pdfs(folder, 1)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        ingest_paths(kb, [folder])
    changed = {**SIDECAR, "region": "Bong", "title": "Bong County Review", "groups": ["west"]}
    write(folder, "report-0.meta.json", json.dumps(changed))

    with KnowledgeBase(no_parsing(settings), embedder=embedder) as kb:
        report = ingest_paths(kb, [folder], IngestOptions(metadata={"evaluator": "Ade"}))
        stored = kb.get_document("report-0")
        chunks = kb.chunks("report-0")

    assert [o.status for o in report.outcomes] == ["updated"] and report.not_parsed == 1
    full = prepare_file(
        pdf.name, pdf.read_bytes(), changed, IngestOptions(metadata={"evaluator": "Ade"}), settings
    )
    assert (stored.title, stored.doc_type, stored.date) == (full.title, full.doc_type, full.date)
    assert dict(stored.metadata) == dict(full.metadata)
    assert stored.groups == ("west",)
    assert [c.text for c in chunks] == [c.text for c in full.chunks]  # passages kept


def test_changed_bytes_a_trashed_document_or_another_id_are_read_again(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    pdfs = folder_of_pdfs(folder, 3)
    ingest_paths(kb, [folder])
    pdfs[0].write_bytes(make_pdf([f"{text} Revised." for text in PAGES], title="Report 0"))
    kb.delete("report-1")
    write(folder, "report-2.meta.json", json.dumps({**SIDECAR, "document_id": "report-two"}))

    report = ingest_paths(kb, [folder])

    outcomes = {o.document_id: o for o in report.outcomes}
    assert not report.failed, report.failed
    assert {k: o.status for k, o in outcomes.items()} == {
        "report-0": "updated",
        "report-1": "added",
        "report-two": "duplicate",  # same bytes as report-2: held there, not re-added
    }
    assert report.not_parsed == 0


def test_a_title_given_wins_and_with_none_the_stored_title_stays(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder_of_pdfs(folder, 2)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        ingest_paths(kb, [folder])
        kb.edit("report-1", {"title": "Edited by hand"}, "tester")
    with KnowledgeBase(no_parsing(settings), embedder=embedder) as kb:
        ingest_paths(kb, [folder / "report-0.pdf"], IngestOptions(title="Given Title"))
        report = ingest_paths(kb, [folder / "report-1.pdf"])
        assert kb.get_document("report-0").title == "Given Title"
        assert kb.get_document("report-1").title == "Edited by hand"
    assert [o.status for o in report.outcomes] == ["unchanged"] and report.not_parsed == 1


def test_bad_metadata_fails_the_same_way_without_parsing(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder_of_pdfs(folder, 1)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        ingest_paths(kb, [folder])
    write(folder, "report-0.meta.json", json.dumps({**SIDECAR, "doc_type": "memo"}))
    with KnowledgeBase(no_parsing(settings), embedder=embedder) as kb:
        (outcome,) = ingest_paths(kb, [folder]).outcomes
    assert outcome.status == "failed"
    assert outcome.reason is not None and "doc_type must be one of" in outcome.reason


def test_a_stored_document_hidden_from_the_importer_is_refused_as_before(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder_of_pdfs(folder, 1)
    with KnowledgeBase(settings, embedder=embedder) as kb:
        ingest_paths(kb, [folder], IngestOptions(classification="confidential"))
        outsider = Viewer("outsider", "evaluator", "internal")
        (outcome,) = ingest_paths(kb, [folder], IngestOptions(viewer=outsider)).outcomes
    assert outcome.status == "failed"
    assert outcome.reason == "document_id 'report-0' is not available; choose another"


def test_a_recognised_file_whose_document_changed_meanwhile_is_not_written_empty(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (pdf,) = folder_of_pdfs(folder, 1)
    ingest_paths(kb, [folder])
    stored = stored_document(kb.store, "report-0", None)
    given = Given(SIDECAR, None, None)
    draft = stored_draft(pdf.name, pdf.read_bytes(), given, None, None, (None, None), stored)
    assert draft is not None and draft.chunks == ()
    pdf.write_bytes(make_pdf([f"{text} Rewritten by someone else." for text in PAGES]))
    ingest_paths(kb, [folder])  # another import stored new bytes since the check

    (result,) = kb.add([draft])

    assert result.outcome is AddOutcome.FAILED
    assert result.reason == "the stored document changed during this import; ingest it again"
    assert len(kb.chunks("report-0")) == 1


@pytest.mark.parametrize("prefetch", [0, 64])
def test_records_run_again_are_unchanged_and_not_embedded(
    settings: Settings, embedder: Embedder, tmp_path: Path, prefetch: int
) -> None:
    records = tmp_path / "corpus.jsonl"
    lines = [
        {"_id": f"r{n}", "title": f"Record {n}", "text": f"Ceasefire clause number {n}."}
        for n in range(40)
    ]
    records.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    tuned = settings.model_copy(update={"ingest_prefetch": prefetch, "ingest_batch_chunks": 16})
    with KnowledgeBase(tuned, embedder=embedder) as kb:
        assert ingest_paths(kb, [records]).counts()["added"] == 40
        generation = kb.store.generation()
        again = ingest_paths(kb, [records])
        # Every write (and so every embedding) moves the generation; none happened.
        assert kb.store.generation() == generation
    assert again.counts()["unchanged"] == 40
    assert [o.document_id for o in again.outcomes] == [f"r{n}" for n in range(40)]
