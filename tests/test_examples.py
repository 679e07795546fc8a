"""The bundled sample corpus: it all ingests, and its distinctive facts are found on their pages."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from ingest.pipeline import ingest_paths
from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from tests.conftest import EXAMPLES

FACTS = [
    ("cantonment sites", "aurel-highlands-ddr-protocol-2000", 2),
    ("Vessin Weir sluice gates opened at night", "serran-basin-water-dispute-lessons-2019", 3),
    ("Pillar 47 Orsk Pass", "tamsin-plateau-border-demarcation-agreement-2003", 3),
    (
        "out-of-district voting for displaced persons",
        "lusenia-election-assistance-evaluation-2011",
        3,
    ),
    ("plus-one seat for women delegates", "belgarra-womens-participation-lessons-2025", None),
    ("Teshin crossing point", "kestria-valdoria-refugee-return-memorandum-2001", 2),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[KnowledgeBase]:
    settings = Settings(store=tmp_path_factory.mktemp("sample") / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [EXAMPLES])
        assert report.failed == []
        yield kb


def test_the_sample_corpus_ingests_whole(sample: KnowledgeBase) -> None:
    stats = sample.stats()
    assert stats.documents >= 12
    assert set(stats.doc_types) == {"agreement", "evaluation", "lessons-learned"}
    for document in sample.list_documents(Filters(), limit=100)[1]:
        assert document.date and document.metadata.get("region"), document.document_id


@pytest.mark.parametrize(("query", "document_id", "page"), FACTS)
def test_distinctive_facts_come_first_with_their_page(
    sample: KnowledgeBase, query: str, document_id: str, page: int | None
) -> None:
    top = sample.search(SearchRequest(query)).results[0]
    assert top.document_id == document_id
    if page is not None:
        assert top.passages[0].page_start <= page <= top.passages[0].page_end


def test_sidecar_links_show_on_both_ends_and_filter(sample: KnowledgeBase) -> None:
    protocol = "aurel-highlands-ddr-protocol-2000"
    evaluation = "aurel-highlands-ddr-programme-evaluation-2005"
    assert [(r.label, r.document_id) for r in sample.relations(protocol)] == [
        ("evaluated-by", evaluation)
    ]
    found = sample.search(
        SearchRequest("combatants discharged late", Filters(related={"evaluates": (protocol,)}))
    )
    assert [r.document_id for r in found.results] == [evaluation]
    assert "relations" not in sample.get_document(evaluation).metadata


def test_the_sample_corpus_is_marked(sample: KnowledgeBase) -> None:
    documents = sample.list_documents(Filters(), limit=50)[1]
    marks = {d.document_id: d.classification for d in documents}
    assert {m for d, m in marks.items() if "agreement" in d or "protocol" in d} == {"public"}
    assert marks["tamsin-plateau-mediation-evaluation-2004"] == "restricted"
    public = Viewer("guest", "reader", "public")
    assert {d.document_id for d in sample.list_documents(Filters(), 50, viewer=public)[1]} == {
        d.document_id for d in documents if d.classification == "public"
    }


def sidecars() -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.meta.json"))]


def test_facets_match_a_hand_count_of_the_sidecars(sample: KnowledgeBase) -> None:
    found = sample.facets(Filters())
    counts = {name: {c.value: c.count for c in values} for name, values in found.counts.items()}
    # Counted by hand from examples/corpus/*.meta.json.
    assert found.total == 18
    assert counts["doc_type"] == {"agreement": 8, "evaluation": 5, "lessons-learned": 5}
    assert counts["classification"] == {"public": 8, "internal": 9, "restricted": 1}
    assert counts["period"] == {"1990s": 2, "2000s": 9, "2010s": 4, "2020s": 3}
    metas = sidecars()
    assert counts["region"] == dict(Counter(str(m["region"]) for m in metas))
    assert counts["stage"] == dict(Counter(str(m["stage"]) for m in metas if "stage" in m))
    assert [c.count for c in found.counts["region"]] == sorted(counts["region"].values())[::-1]


def test_facets_respect_the_viewer_and_the_filters(sample: KnowledgeBase) -> None:
    public = Viewer("guest", "reader", "public", ())
    found = sample.facets(Filters(), public)
    assert found.total == 8
    assert [(c.value, c.count) for c in found.counts["classification"]] == [("public", 8)]
    assert [(c.value, c.count) for c in found.counts["doc_type"]] == [("agreement", 8)]
    narrowed = sample.facets(Filters(date_from="2010"), public)
    assert narrowed.total == sum(c.count for c in narrowed.counts["period"]) == 2


def test_every_sample_file_is_kept_byte_for_byte(sample: KnowledgeBase) -> None:
    for path in sorted(EXAMPLES.iterdir()):
        if path.name.endswith(".meta.json"):
            continue
        original, kept = sample.original(path.stem)
        assert original.name == path.name
        assert kept.read_bytes() == path.read_bytes()


def test_a_short_pack_answers_every_part_of_its_theme_before_spreading(
    sample: KnowledgeBase,
) -> None:
    """In the sample corpus the refugee-return documents share a process (Valdoria) with the
    best ceasefire-monitoring one: spreading over processes alone left 'refugee return'
    unanswered in a pack of 4."""
    suggestion = sample.suggest_pack("refugee return, ceasefire monitoring", limit=4)
    assert len(suggestion.items) == 4
    answered = {a for item in suggestion.items for a in item.aspects}
    assert answered == {"refugee return", "ceasefire monitoring"}
    assert any("Answers 'refugee return'" in item.why for item in suggestion.items)
