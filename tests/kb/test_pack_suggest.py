"""Pack suggestions in the core, on a real store and the real model: spread over processes,
regions, decades and types where plain search is not; filters, visibility and orders hold."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.errors import InvalidRequestError
from kb.knowledge_base import KnowledgeBase
from kb.models import DOC_TYPES, ChunkDraft, DocumentDraft, Filters, SearchRequest
from kb.settings import Settings

AHLF = ["Government of Valdoria", "Highlands Front"]


@dataclass(frozen=True)
class Doc:
    document_id: str
    text: str
    doc_type: str
    date: str
    region: str
    metadata: dict[str, Any] = field(default_factory=dict)
    classification: str = "public"


# Four documents of one process (the same parties, or a link to it) say the most about
# ceasefire monitoring; three processes elsewhere say less, from other decades and types.
DOCS = (
    Doc(
        "vald-ceasefire",
        "Ceasefire monitoring: unarmed monitors verify the ceasefire lines "
        "and report ceasefire violations to the joint monitoring commission.",
        "agreement",
        "1998-03-14",
        "Aurel Highlands",
        {"parties": AHLF},
    ),
    Doc(
        "vald-protocol",
        "A protocol on ceasefire monitoring: the monitoring commission, "
        "ceasefire violations and monitors at every checkpoint.",
        "agreement",
        "1999-01-10",
        "Aurel Highlands",
        {"parties": list(reversed(AHLF))},
    ),
    Doc(
        "vald-renewal",
        "Renewal of the ceasefire and of the ceasefire monitoring mission; "
        "monitors stay on the ceasefire lines.",
        "agreement",
        "2001-05-02",
        "Aurel Highlands",
        {"parties": AHLF},
    ),
    Doc(
        "vald-review",
        "Review of ceasefire monitoring by the monitors of the ceasefire "
        "commission: violations fell where monitors patrolled.",
        "evaluation",
        "2012-06-30",
        "Verenne",
    ),  # linked below: the same process
    Doc(
        "delta-lessons",
        "Lessons from the delta talks: observers of the truce were trusted "
        "when local women's groups named them.",
        "lessons-learned",
        "2015-02-01",
        "Belgarra Delta",
        {"parties": ["Delta Council"]},
    ),
    Doc(
        "coast-evaluation",
        "An evaluation of the coastal mission: a small team watched the "
        "truce and the return of fishermen to the harbours.",
        "evaluation",
        "2009-09-09",
        "Lusenian Coast",
        {"countries": ["Lusenia"]},
    ),
    Doc(
        "plateau-accord",
        "The border accord on the plateau set up joint patrols to watch the "
        "new line and settle incidents.",
        "agreement",
        "2023-04-04",
        "Tamsin Plateau",
        {"countries": ["Orlav", "Kestria"]},
    ),
    Doc(
        "hidden-monitoring",
        "Confidential: ceasefire monitoring and ceasefire violations "
        "reported by the monitors of the secret commission.",
        "evaluation",
        "2012-12-12",
        "Kestria Hills",
        {"parties": ["Kestria"]},
        "confidential",
    ),
)
PROCESS = {"vald-ceasefire", "vald-protocol", "vald-renewal", "vald-review"}
THEME = "ceasefire monitoring"
PUBLIC = Viewer("pat", "trainer", "public")


def draft(doc: Doc) -> DocumentDraft:
    metadata = {"region": doc.region, **doc.metadata}
    return DocumentDraft(
        document_id=doc.document_id,
        title=f"Report {doc.document_id}",
        doc_type=doc.doc_type,
        source_name=f"{doc.document_id}.md",
        sha256=hashlib.sha256(doc.text.encode()).hexdigest(),
        metadata=metadata,
        date=doc.date,
        chunks=(ChunkDraft(0, doc.text, None, 2, 3, 0, len(doc.text)),),
        classification=doc.classification,
    )


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> KnowledgeBase:
    settings = Settings(store=tmp_path_factory.mktemp("suggest") / "store")
    base = KnowledgeBase(settings, embedder=embedder)
    base.add([draft(d) for d in DOCS], "setup")
    base.relate("vald-review", "evaluates", "vald-ceasefire", "setup")
    return base


def test_plain_search_puts_one_process_on_top(kb: KnowledgeBase) -> None:
    """What the suggestions must improve on: the head of the ranking is one process."""
    top = kb.search(SearchRequest(THEME, limit=3), PUBLIC).results
    assert {r.document_id for r in top} <= PROCESS


def test_no_two_items_of_one_process_while_others_remain(kb: KnowledgeBase) -> None:
    suggestion = kb.suggest_pack(THEME, limit=4, viewer=PUBLIC)
    ids = [i.document_id for i in suggestion.items]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert len(set(ids) & PROCESS) == 1, ids  # the link and the parties make one process
    assert len({i.process for i in suggestion.items}) == 4
    assert len({i.region for i in suggestion.items}) == 4
    assert len({(i.date or "")[:3] for i in suggestion.items}) >= 3  # decades


def test_a_process_repeats_only_once_every_process_is_in(kb: KnowledgeBase) -> None:
    ids = [i.document_id for i in kb.suggest_pack(THEME, limit=6, viewer=PUBLIC).items]
    others = {"delta-lessons", "coast-evaluation", "plateau-accord"}
    assert others <= set(ids) and len(set(ids) & PROCESS) == 3


def test_each_item_is_a_passage_with_why(kb: KnowledgeBase) -> None:
    for item in kb.suggest_pack(THEME, limit=4, viewer=PUBLIC).items:
        chunk = kb.chunks(item.document_id)[0]
        assert (item.chunk_id, item.page_start, item.page_end) == (chunk.chunk_id, 2, 3)
        assert item.why.endswith(".") and item.region and item.region in item.why
        assert any(t in item.why for t in ("an agreement", "an evaluation", "a lessons-learned"))
    top = kb.suggest_pack(THEME, limit=1, viewer=PUBLIC).items[0]
    assert top.why.startswith(f"Answers '{THEME}'"), top.why


def test_the_parts_of_a_theme_are_its_aspects(kb: KnowledgeBase) -> None:
    suggestion = kb.suggest_pack(
        "ceasefire monitoring; fishermen returning to the harbours", limit=3, viewer=PUBLIC
    )
    assert suggestion.aspects == ("ceasefire monitoring", "fishermen returning to the harbours")
    coast = next(i for i in suggestion.items if i.document_id == "coast-evaluation")
    assert "Answers 'fishermen returning to the harbours'" in coast.why


def test_only_what_the_viewer_may_see_and_the_filters_let_through(kb: KnowledgeBase) -> None:
    seen = {i.document_id for i in kb.suggest_pack(THEME, limit=20, viewer=PUBLIC).items}
    assert seen == {d.document_id for d in DOCS if d.classification == "public"}
    assert "hidden-monitoring" in {i.document_id for i in kb.suggest_pack(THEME, limit=20).items}
    evaluations = kb.suggest_pack(THEME, Filters(doc_types=("evaluation",)), 10, viewer=PUBLIC)
    assert {i.document_id for i in evaluations.items} == {"vald-review", "coast-evaluation"}


@pytest.mark.parametrize("order", ["relevance", "chronological", "type"])
def test_the_trainers_order(kb: KnowledgeBase, order: str) -> None:
    items = kb.suggest_pack(THEME, limit=5, order=order, viewer=PUBLIC).items
    assert len(items) == 5
    if order == "relevance":
        assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    elif order == "chronological":
        assert [i.date for i in items] == sorted(i.date or "" for i in items)
    else:
        ranks = [DOC_TYPES.index(i.doc_type) for i in items]
        assert ranks == sorted(ranks) and len(set(ranks)) == 3


def test_bad_requests_are_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidRequestError, match="theme is empty"):
        kb.suggest_pack("   ")
    with pytest.raises(InvalidRequestError, match="limit"):
        kb.suggest_pack(THEME, limit=0)
    with pytest.raises(InvalidRequestError, match="order must be one of"):
        kb.suggest_pack(THEME, order="alphabetical")
