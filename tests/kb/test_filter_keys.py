"""Filter keys in the core: a key no built-in, schema field or visible document names is refused
on every read that takes filters, naming what is allowed, and a key only a hidden document holds
is refused exactly as a key no document holds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kb.access import Viewer
from kb.errors import InvalidRequestError
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, Filters, SearchRequest
from kb.packs.suggesting import PackSuggestion

pytestmark = pytest.mark.backends

PUBLIC_READER = Viewer("pat", "reader", "public")
CLEARED = Viewer("cora", "reader", "confidential")


def draft(document_id: str, classification: str, metadata: dict[str, object]) -> DocumentDraft:
    body = f"The {document_id} ceasefire commission heard the monitors of the river sector."
    return DocumentDraft(
        document_id=document_id,
        title=f"Report {document_id}",
        doc_type="agreement",
        source_name=f"{document_id}.md",
        sha256=document_id,
        metadata=metadata,
        date="2004-01-01",
        chunks=(ChunkDraft(0, body, None, 1, 1, 0, len(body)),),
        classification=classification,
    )


@pytest.fixture
def store(kb: KnowledgeBase) -> KnowledgeBase:
    kb.add(
        [
            draft(
                "open", "public", {"Reg": "Europe and Eurasia", "agt_type": "Intra", "year": 2004}
            ),
            draft("secret", "confidential", {"codeword": "basalt", "Stage": "Cea"}),
        ]
    )
    return kb


Read = Callable[[KnowledgeBase, Filters, Viewer | None], object]
READS: dict[str, Read] = {
    "search": lambda kb, f, v: kb.search(SearchRequest("ceasefire monitors", f), v),
    "search_batch": lambda kb, f, v: kb.search_batch([SearchRequest("ceasefire", f)], v),
    "list_documents": lambda kb, f, v: kb.list_documents(f, viewer=v),
    "facets": lambda kb, f, v: kb.facets(f, v),
    "similar": lambda kb, f, v: kb.similar("open", f, viewer=v),
    "suggest_pack": lambda kb, f, v: kb.suggest_pack("ceasefire monitors", f, viewer=v),
}


def refusal(kb: KnowledgeBase, read: Read, filters: Filters, viewer: Viewer | None) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        read(kb, filters, viewer)
    return caught.value.message


@pytest.mark.parametrize("name", sorted(READS))
def test_an_unknown_key_is_refused_on_every_read(store: KnowledgeBase, name: str) -> None:
    message = refusal(store, READS[name], Filters(equals={"colour": ("blue",)}), None)
    assert "unknown filter key 'colour'" in message
    assert "doc_type" in message and "date_from" in message and "region" in message
    ranged = refusal(store, READS[name], Filters(ranges={"colour": ("1", None)}), None)
    assert "unknown filter key 'colour_min'" in ranged


@pytest.mark.parametrize("name", sorted(READS))
def test_keys_of_visible_documents_and_of_the_schema_are_filters(
    store: KnowledgeBase, name: str
) -> None:
    for filters in (
        Filters(equals={"Reg": ("europe and eurasia",)}),  # PA-X's own keys
        Filters(equals={"agt_type": ("intra",)}),
        Filters(equals={"region": ("nowhere",)}),  # a schema field no document holds
        Filters(ranges={"year": ("2000", None)}),
    ):
        READS[name](store, filters, PUBLIC_READER)  # no error


def test_a_key_only_a_hidden_document_holds_is_refused_as_one_nothing_holds(
    store: KnowledgeBase,
) -> None:
    search = READS["search"]
    hidden = refusal(store, search, Filters(equals={"codeword": ("x",)}), PUBLIC_READER)
    nowhere = refusal(store, search, Filters(equals={"codewort": ("x",)}), PUBLIC_READER)
    assert hidden.replace("codeword", "KEY") == nowhere.replace("codewort", "KEY")
    assert "basalt" not in hidden and "Stage" not in hidden
    # Who may see the document may filter on its keys; the one who may not, still not.
    found = store.search(
        SearchRequest("ceasefire", Filters(equals={"codeword": ("basalt",)})), CLEARED
    )
    assert [r.document_id for r in found.results] == ["secret"]
    refusal(store, search, Filters(equals={"Stage": ("cea",)}), PUBLIC_READER)


def test_a_near_miss_is_pointed_at_the_key_meant(store: KnowledgeBase) -> None:
    message = refusal(store, READS["list_documents"], Filters(equals={"reg": ("x",)}), None)
    assert "did you mean 'Reg'?" in message
    ranged = refusal(store, READS["list_documents"], Filters(ranges={"yaer": (None, "2")}), None)
    assert "did you mean 'year_max'?" in ranged


def test_a_new_key_is_a_filter_once_a_document_holds_it(store: KnowledgeBase) -> None:
    refusal(store, READS["list_documents"], Filters(equals={"mandate": ("x",)}), None)
    store.add([draft("later", "public", {"mandate": "observe"})])
    total, _ = store.list_documents(Filters(equals={"mandate": ("observe",)}))
    assert total == 1


def test_suggest_pack_still_suggests(store: KnowledgeBase) -> None:
    found = store.suggest_pack(
        "ceasefire monitors", Filters(equals={"Reg": ("europe and eurasia",)})
    )
    assert isinstance(found, PackSuggestion)
    assert [i.document_id for i in found.items] == ["open"]
