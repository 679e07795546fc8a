"""The ingest pipeline against a real store: outcomes per file, updates, removals, citations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ingest.outcomes import ItemOutcome
from ingest.pipeline import (
    IngestOptions,
    collect_files,
    count_items,
    ingest_paths,
    ingest_upload,
)
from kb.embedding.embedder import Embedder
from kb.errors import (
    EmptyInputError,
    EncryptedError,
    NoTextLayerError,
    TooLargeError,
    UnsupportedTypeError,
)
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from tests.docs import make_corrupt_pdf, make_encrypted_pdf, make_pdf, make_scanned_pdf, write

ACCORD = (
    "# Zanzibar Accord\n\n"
    "The Parties agree to canton all fighters at the Zanzibar cantonment site within thirty "
    "days. International monitors verify the cantonment and report weekly to the commission."
)
REVIEW = (
    "Lessons from the Kivu demobilisation programme.\n\n"
    "Former combatants who received vocational training were less likely to rejoin armed "
    "groups. Reintegration grants paid in instalments worked better than lump sums."
)
MISSION_PAGES = [
    "The observer mission deployed to Gbarnga in the first week.",
    "Observers recorded no violations of the truce in Lofa county.",
]
ANNEX = "# Annex A\n\nA schedule for the release of prisoners held by both sides."


def good_files(folder: Path) -> None:
    write(folder, "accord.md", ACCORD)
    write(
        folder,
        "accord.meta.json",
        json.dumps({"doc_type": "agreement", "date": "12 March 1998", "country": "Tanzania"}),
    )
    write(folder, "review.txt", REVIEW)
    write(folder, "mission.pdf", make_pdf(MISSION_PAGES, title="Gbarnga Observer Mission"))
    write(folder, "mission.pdf.meta.json", json.dumps({"doc_type": "evaluation", "year": 2003}))
    write(folder, "annexes/annex-a.md", ANNEX)


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "locked.pdf": (
        make_encrypted_pdf("s3cret", ["Secret text of the accord."]),
        "the PDF is encrypted and needs a password",
    ),
    "scan.pdf": (make_scanned_pdf(1), "none of its 1 page(s) has a text layer"),
    "broken.pdf": (make_corrupt_pdf(), "the PDF is damaged and cannot be read"),
    "empty.txt": (b"", "the file is empty"),
    "notes.odt": (b"PK\x03\x04 a word file", "unsupported file type '.odt'"),
    "annexes/deep/blank.md": (b"\xef\xbb\xbf \n\n\t\n", "the file has no text"),
}


def bad_files(folder: Path) -> None:
    for name, (data, _) in BAD_FILES.items():
        write(folder, name, data)


def by_source(outcomes: list[ItemOutcome]) -> dict[str, ItemOutcome]:
    return {o.source: o for o in outcomes}


def keyword_hits(kb: KnowledgeBase, query: str) -> list[str]:
    return [r.document_id for r in kb.search(SearchRequest(query, mode="keyword")).results]


def index_ids(kb: KnowledgeBase) -> set[int]:
    """Every chunk_id in the FAISS index: an exact search with k = its size returns them all."""
    index = kb.index()
    probe = np.ones((1, index.dimension), dtype=np.float32) / np.sqrt(index.dimension)
    _, ids = index.search(probe, len(index))
    return {int(i) for i in ids[0]}


def stored_ids(kb: KnowledgeBase) -> set[int]:
    _, documents = kb.list_documents(Filters(), limit=100)
    return {c.chunk_id for d in documents for c in kb.chunks(d.document_id)}


# -- a mixed folder --------------------------------------------------------------------


def test_a_mixed_folder_reports_every_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    bad_files(folder)
    write(folder, ".draft.md", "A hidden draft that must not be read.")
    write(folder, ".git/notes.md", "Hidden folder content.")

    report = ingest_paths(kb, [folder])

    assert report.counts() == {
        "added": 4,
        "updated": 0,
        "unchanged": 0,
        "duplicate": 0,
        "failed": 6,
    }
    assert len(report.outcomes) == 10
    failed = by_source(report.failed)
    assert set(failed) == {str(folder / name) for name in BAD_FILES}
    for name, (_, reason) in BAD_FILES.items():
        outcome = failed[str(folder / name)]
        assert outcome.reason is not None and outcome.reason.startswith(reason), (name, outcome)
        assert outcome.document_id is None and outcome.chunks == 0


def test_a_mixed_folder_stores_only_the_good_files(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    bad_files(folder)

    report = ingest_paths(kb, [folder])

    added = {o.document_id for o in report.outcomes if o.status == "added"}
    assert added == {"accord", "review", "mission", "annex-a"}
    stats = kb.stats()
    assert (stats.documents, stats.chunks, stats.index_vectors) == (4, 4, 4)
    assert stats.doc_types == {"agreement": 1, "evaluation": 1, "other": 2}
    assert kb.missing(["locked", "scan", "broken", "empty", "notes", "blank", "draft"]) == [
        "locked",
        "scan",
        "broken",
        "empty",
        "notes",
        "blank",
        "draft",
    ]


def test_good_files_of_a_folder_are_searchable(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    bad_files(folder)
    ingest_paths(kb, [folder])

    assert keyword_hits(kb, "Zanzibar") == ["accord"]
    assert keyword_hits(kb, "Gbarnga") == ["mission"]
    assert keyword_hits(kb, "prisoners") == ["annex-a"]
    hybrid = kb.search(SearchRequest("vocational training for former combatants"))
    assert hybrid.results[0].document_id == "review"
    dense = kb.search(SearchRequest("truce violations recorded by observers", mode="dense"))
    assert dense.results[0].document_id == "mission"


def test_sidecar_metadata_is_stored(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)

    ingest_paths(kb, [folder])

    accord = kb.get_document("accord")
    assert (accord.title, accord.doc_type, accord.date) == (
        "Zanzibar Accord",
        "agreement",
        "1998-03-12",
    )
    assert accord.metadata == {"date": "1998-03-12", "year": 1998, "country": "Tanzania"}
    mission = kb.get_document("mission")
    assert (mission.title, mission.doc_type, mission.date) == (
        "Gbarnga Observer Mission",
        "evaluation",
        None,
    )
    assert mission.metadata == {"year": 2003}
    review = kb.get_document("review")
    assert (review.title, review.doc_type, review.metadata) == (
        "Lessons from the Kivu demobilisation programme.",
        "other",
        {},
    )
    assert review.source_name == "review.txt"


def test_options_win_over_the_sidecar(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder, "accord.md", ACCORD)
    write(
        folder,
        "accord.meta.json",
        json.dumps(
            {
                "document_id": "lib-1998",
                "title": "Sidecar Title",
                "doc_type": "evaluation",
                "date": "March 12, 1998",
                "country": "Liberia",
            }
        ),
    )
    options = IngestOptions(
        doc_type="agreement", metadata={"country": "Sierra Leone", "region": "West"}
    )

    report = ingest_paths(kb, [folder], options)

    assert [(o.status, o.document_id) for o in report.outcomes] == [("added", "lib-1998")]
    document = kb.get_document("lib-1998")
    assert (document.title, document.doc_type, document.date) == (
        "Sidecar Title",
        "agreement",
        "1998-03-12",
    )
    assert document.metadata == {
        "country": "Sierra Leone",
        "region": "West",
        "date": "1998-03-12",
        "year": 1998,
    }


def test_a_bad_sidecar_fails_its_file_naming_the_sidecar(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder, "accord.md", ACCORD)
    write(folder, "accord.meta.json", "[1, 2, 3]")
    write(folder, "review.txt", REVIEW)
    write(folder, "review.meta.json", json.dumps({"doc_type": "treaty"}))

    report = ingest_paths(kb, [folder])

    failed = by_source(report.failed)
    assert failed[str(folder / "accord.md")].reason == "a metadata sidecar must hold a JSON object"
    assert failed[str(folder / "review.txt")].reason == (
        "doc_type must be one of agreement, evaluation, lessons-learned, other, not 'treaty'"
    )
    assert kb.stats().documents == 0


def test_on_item_hears_every_outcome_in_order(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    bad_files(folder)
    heard: list[ItemOutcome] = []

    report = ingest_paths(kb, [folder, folder / "gone.md"], on_item=heard.append)

    assert heard == report.outcomes
    gone = str(folder / "gone.md")
    assert heard[0] == ItemOutcome(gone, "failed", reason="no such file or folder")
    files, _ = collect_files([folder])
    assert count_items(files) == len(report.outcomes) - 1


# -- again, changed, renamed ----------------------------------------------------------


def test_reingesting_the_same_folder_changes_nothing(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    ingest_paths(kb, [folder])
    generation = kb.store.generation()
    chunk_ids = stored_ids(kb)

    report = ingest_paths(kb, [folder])

    assert [o.status for o in report.outcomes] == ["unchanged"] * 4
    assert kb.store.generation() == generation
    assert stored_ids(kb) == chunk_ids


def test_editing_only_the_sidecar_updates_without_reembedding(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    ingest_paths(kb, [folder])
    generation = kb.store.generation()
    before = kb.chunks("accord")
    write(
        folder,
        "accord.meta.json",
        json.dumps(
            {"doc_type": "lessons-learned", "date": "1999", "title": "Quillwort Memorandum"}
        ),
    )

    report = ingest_paths(kb, [folder])

    assert [(o.document_id, o.status) for o in report.outcomes if o.status != "unchanged"] == [
        ("accord", "updated"),
    ]
    assert kb.chunks("accord") == before  # same passages, same ids: nothing re-embedded
    assert kb.store.generation() == generation + 1  # one write, for the metadata
    document = kb.get_document("accord")
    assert (document.title, document.doc_type, document.date) == (
        "Quillwort Memorandum",
        "lessons-learned",
        "1999",
    )
    # A key the sidecar no longer gives is kept: a file changes only what it gives.
    assert document.metadata == {"date": "1999", "year": 1999, "country": "Tanzania"}
    assert keyword_hits(kb, "Quillwort") == ["accord"]  # the FTS title follows


def test_changing_a_file_replaces_its_chunks_everywhere(
    kb: KnowledgeBase, settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    good_files(folder)
    ingest_paths(kb, [folder])
    old_ids = [c.chunk_id for c in kb.chunks("accord")]
    _, old_vectors = kb.store.vectors_of(old_ids)
    assert keyword_hits(kb, "Zanzibar") == ["accord"]
    write(folder, "accord.md", "# Pemba Accord\n\nAll fighters assemble on Pemba island.")

    report = ingest_paths(kb, [folder])

    assert {o.document_id: o.status for o in report.outcomes}["accord"] == "updated"
    new_ids = [c.chunk_id for c in kb.chunks("accord")]
    assert set(new_ids).isdisjoint(old_ids)
    assert kb.store.chunks_by_id(old_ids) == {}
    assert kb.search(SearchRequest("commission", mode="keyword")).total == 0
    assert keyword_hits(kb, "Pemba") == ["accord"]
    # The new version gives no title: it keeps its document's, as every field it does not give.
    assert kb.get_document("accord").title == "Zanzibar Accord"
    stats = kb.stats()
    assert len(kb.index()) == stats.chunks == stats.index_vectors == 4
    assert index_ids(kb) == stored_ids(kb)
    _, nearest = kb.index().search(old_vectors, 1)
    assert set(nearest[:, 0].tolist()).isdisjoint(old_ids)
    with KnowledgeBase(settings, embedder=embedder) as reopened:  # the index saved on disk
        assert index_ids(reopened) == stored_ids(kb)


def test_names_that_slug_alike_in_one_batch(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder, "Peace Accord.md", ACCORD)
    write(folder, "peace_accord.txt", REVIEW)

    report = ingest_paths(kb, [folder])

    outcomes = by_source(report.outcomes)
    first = outcomes[str(folder / "Peace Accord.md")]
    second = outcomes[str(folder / "peace_accord.txt")]
    assert (first.status, first.document_id) == ("added", "peace-accord")
    assert (second.status, second.document_id) == ("failed", "peace-accord")
    assert second.reason is not None
    assert second.reason.startswith("document_id 'peace-accord' is already taken by ")
    assert str(folder / "Peace Accord.md") in second.reason
    assert kb.get_document("peace-accord").source_name == "Peace Accord.md"


def test_names_that_slug_alike_are_caught_across_write_batches(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(store=tmp_path / "store", ingest_batch_chunks=1)
    folder = tmp_path / "in"
    write(folder, "a-accord.md", ACCORD)
    write(folder, "b-review.md", REVIEW)
    write(folder, "c/A Accord.txt", ANNEX)

    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [folder])

        assert [o.status for o in report.outcomes] == ["added", "added", "failed"]
        assert kb.get_document("a-accord").source_name == "a-accord.md"
        assert kb.stats().documents == 2


def test_files_named_in_other_scripts_do_not_replace_each_other(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    write(folder / "a", "اتفاق السلام.md", ACCORD)
    write(folder / "b", "和平协议.md", REVIEW)
    ingest_paths(kb, [folder / "a"])

    report = ingest_paths(kb, [folder / "b"])

    assert [o.status for o in report.outcomes] == ["added"]
    assert kb.stats().documents == 2


# -- records, missing paths, uploads -------------------------------------------------


def test_a_records_file_adds_good_lines_and_fails_bad_ones(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    lines = [
        json.dumps(
            {
                "_id": "r1",
                "title": "Bicesse Accords",
                "text": "Angola ceasefire of 1991.",
                "metadata": {"date": "31 May 1991"},
            }
        ),
        "{broken json",
        json.dumps({"_id": "r3", "title": "", "text": "Lusaka Protocol on Angola."}),
        json.dumps({"title": "No identifier", "text": "Lost record."}),
        json.dumps({"_id": "r5", "title": "Luena Memorandum", "text": "The end of the war."}),
    ]
    path = write(folder, "corpus.jsonl", "\r\n".join(lines) + "\r\n")

    report = ingest_paths(kb, [path])

    assert report.counts() == {
        "added": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicate": 0,
        "failed": 2,
    }
    assert [o.source for o in report.failed] == [f"{path} line 2", f"{path} line 4"]
    assert report.failed[1].reason == 'a record needs an "_id"'
    assert count_items([path]) == len(report.outcomes)
    r1 = kb.get_document("r1")
    assert (r1.title, r1.date, r1.metadata["year"]) == ("Bicesse Accords", "1991-05-31", 1991)
    assert kb.get_document("r3").title == "Lusaka Protocol on Angola."
    assert keyword_hits(kb, "Luena") == ["r5"]
    assert [o.status for o in ingest_paths(kb, [path]).outcomes].count("unchanged") == 3


def test_a_missing_path_fails_and_the_rest_go_on(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    good = write(folder, "review.txt", REVIEW)
    missing = folder / "no-such-folder"

    report = ingest_paths(kb, [missing, good])

    assert report.outcomes == [
        ItemOutcome(str(missing), "failed", reason="no such file or folder"),
        ItemOutcome(str(good), "added", "review", chunks=1, version=1),
    ]


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("locked.pdf", make_encrypted_pdf("s3cret", ["Secret text."]), EncryptedError),
        ("scan.pdf", make_scanned_pdf(1), NoTextLayerError),
        ("empty.md", b"", EmptyInputError),
        ("notes.odt", b"PK\x03\x04", UnsupportedTypeError),
        ("corpus.jsonl", b'{"_id": "a", "text": "x"}\n', UnsupportedTypeError),
    ],
)
def test_ingest_upload_raises_the_input_error(
    kb: KnowledgeBase, name: str, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        ingest_upload(kb, name, data, IngestOptions())

    assert str(caught.value).startswith(f"{name}: ")
    assert kb.stats().documents == 0


def test_ingest_upload_adds_then_leaves_unchanged(kb: KnowledgeBase) -> None:
    options = IngestOptions(document_id="zanzibar-1998", title="Given Title", doc_type="agreement")

    first = ingest_upload(kb, "accord.md", ACCORD.encode(), options)
    again = ingest_upload(kb, "accord.md", ACCORD.encode(), options)

    assert first == ItemOutcome("accord.md", "added", "zanzibar-1998", chunks=1, version=1)
    assert again.status == "unchanged"
    document = kb.get_document("zanzibar-1998")
    assert (document.title, document.doc_type) == ("Given Title", "agreement")


# -- citations -------------------------------------------------------------------------


def test_a_sentence_on_page_two_is_cited_as_page_two(kb: KnowledgeBase, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    pages = [
        "ARTICLE 1 - CEASEFIRE\nThe Parties shall cease all hostilities from signature.",
        "ARTICLE 2 - DISARMAMENT\nCombatants shall surrender their rifles to the Quokka "
        "Verification Team at Bujumbura harbour.",
        "ARTICLE 3 - ELECTIONS\nGeneral elections shall be held within eighteen months.",
    ]
    write(folder, "burundi.pdf", make_pdf(pages))
    write(folder, "accord.md", ACCORD)
    ingest_paths(kb, [folder])

    response = kb.search(SearchRequest("rifles surrendered to the Quokka Verification Team"))

    top = response.results[0]
    assert top.document_id == "burundi"
    cited = [p for p in top.passages if "Quokka" in p.text]
    assert len(cited) == 1
    assert (cited[0].page_start, cited[0].page_end) == (2, 2)
    assert cited[0].heading == "ARTICLE 2 - DISARMAMENT"
    assert [(c.page_start, c.page_end) for c in kb.chunks("burundi")] == [(1, 1), (2, 2), (3, 3)]


def test_records_keep_foreign_metadata_and_filter_on_it(kb: KnowledgeBase, tmp_path: Path) -> None:
    records = [
        {
            "_id": "pax-1",
            "title": "Ceasefire accord",
            "text": "Forces withdraw behind the line.",
            "metadata": {"doc_type": "Peace agreement", "Agreement Type": "Intra", "year": "1994"},
        },
        {
            "_id": "pax-2",
            "title": "Water accord",
            "text": "The river's flow is shared.",
            "metadata": {"doc_type": "evaluation", "Agreement Type": "Inter", "year": "2004"},
        },
    ]
    path = write(tmp_path, "records.jsonl", "\n".join(json.dumps(r) for r in records))
    report = ingest_paths(kb, [path])
    assert report.counts()["added"] == 2
    first, second = kb.get_document("pax-1"), kb.get_document("pax-2")
    assert (first.doc_type, first.metadata["source_doc_type"]) == ("other", "Peace agreement")
    assert second.doc_type == "evaluation"
    found = kb.search(SearchRequest("accord", Filters(equals={"Agreement Type": ("intra",)})))
    assert [p.document_id for p in found.results] == ["pax-1"]
    later = kb.search(SearchRequest("accord", Filters(ranges={"year": ("2000", None)})))
    assert [p.document_id for p in later.results] == ["pax-2"]


def test_sidecar_relations_link_documents_and_bad_ones_fail_the_file(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    write(folder, "review.md", "# Review\n\nThe review of the accord found quotas were kept.\n")
    write(folder, "review.meta.json", json.dumps({"relations": {"evaluates": "accord"}}))
    write(folder, "later.md", "# Later\n\nA note about an accord that is not stored yet.\n")
    write(folder, "later.meta.json", json.dumps({"relations": {"draws-on": ["not-yet"]}}))
    write(folder, "odd.md", "# Odd\n\nA note with a link of an unknown kind.\n")
    write(folder, "odd.meta.json", json.dumps({"relations": {"admires": ["accord"]}}))
    write(folder, "accord.md", "# Accord\n\nThe parties share the fishing quotas.\n")

    report = ingest_paths(kb, [folder])

    assert [(o.document_id, o.status) for o in report.outcomes if o.status != "added"] == [
        (None, "failed")
    ]
    assert "unknown relation 'admires'" in (report.failed[0].reason or "")
    assert [(r.label, r.document_id) for r in kb.relations("accord")] == [
        ("evaluated-by", "review")
    ]
    assert kb.relations("later") == []  # shown once "not-yet" arrives
    write(folder, "not-yet.md", "# Not yet\n\nThe accord that came later.\n")
    assert [o.status for o in ingest_paths(kb, [folder / "not-yet.md"]).outcomes] == ["added"]
    assert [(r.label, r.document_id) for r in kb.relations("later")] == [("draws-on", "not-yet")]

    # A link added to an otherwise unchanged document's sidecar is applied on the next ingest.
    write(folder, "later.meta.json", json.dumps({"relations": {"draws-on": ["not-yet", "accord"]}}))
    again = {o.document_id: o.status for o in ingest_paths(kb, [folder]).outcomes}
    assert again["later"] == "updated" and again["review"] == "unchanged"
    assert {r.document_id for r in kb.relations("later")} == {"not-yet", "accord"}


# -- limits ------------------------------------------------------------------------------

LONG_PAGES = [
    f"Round {n} of the talks. " + " ".join(["Delegates reviewed the ceasefire map."] * 60)
    for n in range(1, 5)
]


@pytest.mark.parametrize(
    ("name", "data"),
    [("long.md", "\n\n".join(LONG_PAGES).encode()), ("long.pdf", make_pdf(LONG_PAGES))],
)
def test_a_document_over_the_passage_limit_is_refused_naming_it(
    tmp_path: Path, embedder: Embedder, name: str, data: bytes
) -> None:
    settings = Settings(store=tmp_path / "store", max_passages=3)
    folder = tmp_path / "in"
    long = write(folder, name, data)
    good = write(folder, "review.txt", REVIEW)

    with KnowledgeBase(settings, embedder=embedder) as kb:
        outcomes = by_source(ingest_paths(kb, [folder]).outcomes)
        assert kb.stats().documents == 1

    refused = outcomes[str(long)]
    assert refused.status == "failed"
    assert refused.reason is not None
    assert re.fullmatch(
        r"\d+ passages is over the limit of 3 passages per document \(KB_MAX_PASSAGES\)",
        refused.reason,
    ), refused.reason
    assert outcomes[str(good)].status == "added"
    with pytest.raises(TooLargeError) as caught:
        with KnowledgeBase(settings, embedder=embedder) as kb:
            ingest_upload(kb, name, data, IngestOptions())
    assert caught.value.message == f"{name}: {refused.reason}"


def test_a_text_file_over_the_text_limit_is_refused_before_it_is_read(
    tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(store=tmp_path / "store", max_text_mb=0.01)
    folder = tmp_path / "in"
    # NUL bytes: read, it would be refused as binary; its size is looked at first.
    big = write(folder, "minutes.txt", b"\x00" + REVIEW.encode() * 60)
    page = write(folder, "page.html", b"<p>" + REVIEW.encode() * 60 + b"</p>")
    pdf = write(folder, "mission.pdf", make_pdf(MISSION_PAGES * 40))  # PDFs: KB_MAX_UPLOAD_MB
    assert pdf.stat().st_size > settings.max_text_bytes

    with KnowledgeBase(settings, embedder=embedder) as kb:
        outcomes = by_source(ingest_paths(kb, [folder]).outcomes)

    for path in (big, page):
        size = path.stat().st_size / 1048576
        assert outcomes[str(path)].reason == (
            f"{size:.3g} MiB is over the 0.01 MiB limit for text, Markdown and HTML files "
            "(KB_MAX_TEXT_MB)"
        )
    assert outcomes[str(pdf)].status == "added"
