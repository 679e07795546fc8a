"""Who may see what, in the core: every read path shows a viewer exactly the documents the
visibility rule allows, and a hidden document is as absent as a missing one."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kb.access import LEVELS, Viewer, may_see
from kb.embedding.embedder import Embedder
from kb.errors import NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.models import AddOutcome, ChunkDraft, DocumentDraft, Filters, SearchRequest
from kb.settings import Settings

pytestmark = pytest.mark.backends

# document_id: (classification, groups, secret word, region)
MARKED = {
    "open": ("public", (), "aquamarine", "Tamsin Plateau"),
    "staff": ("internal", (), "basalt", "Serran Basin"),
    "restricted": ("restricted", (), "cobalt", "Lusenia Coast"),
    "secret": ("confidential", (), "dolomite", "Kestria Hills"),
    "mediators": ("internal", ("mediators",), "emerald", "Belgarra Delta"),
    "legal": ("confidential", ("legal", "mediators"), "feldspar", "Dravenia North"),
}
VIEWERS = [
    Viewer("pat", "reader", "public"),
    Viewer("ian", "reader", "internal"),
    Viewer("rae", "evaluator", "restricted"),
    Viewer("cora", "reader", "confidential"),
    Viewer("meg", "reader", "internal", ("mediators",)),
    Viewer("lee", "admin", "confidential", ("legal",)),
]


def text(document_id: str) -> str:
    secret = MARKED[document_id][2]
    return (
        f"The ceasefire commission met in the {secret} hall to hear the monitors. "
        f"Observers of the {secret} sector reported on the separation of forces."
    )


def draft(document_id: str, body: str | None = None) -> DocumentDraft:
    level, groups, _, region = MARKED[document_id]
    words = body or text(document_id)
    return DocumentDraft(
        document_id=document_id,
        title=f"Report {document_id}",
        doc_type="evaluation",
        source_name=f"{document_id}.md",
        sha256=str(hash(words)),
        metadata={"region": region},
        date="2004-01-01",
        chunks=(ChunkDraft(0, words, None, 1, 1, 0, len(words)),),
        classification=level,
        groups=groups,
    )


def expected(viewer: Viewer | None) -> set[str]:
    return {d for d, (level, groups, _, _) in MARKED.items() if may_see(viewer, level, groups)}


def found(kb: KnowledgeBase, query: str, viewer: Viewer, mode: str = "hybrid") -> set[str]:
    request = SearchRequest(query, mode=mode, limit=50)  # type: ignore[arg-type]
    return {r.document_id for r in kb.search(request, viewer).results}


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> KnowledgeBase:
    settings = Settings(store=tmp_path_factory.mktemp("access") / "store")
    kb = KnowledgeBase(settings, embedder=embedder)
    kb.add([draft(d) for d in MARKED], "setup")
    kb.relate("staff", "evaluates", "secret", "setup")
    kb.relate("staff", "draws-on", "open", "setup")
    return kb


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: v.name)
def test_every_read_shows_exactly_what_the_viewer_may_see(
    marked: KnowledgeBase, viewer: Viewer
) -> None:
    allowed = expected(viewer)
    assert allowed and allowed != set(MARKED)  # each sees some, none sees all
    for mode in ("hybrid", "dense", "keyword"):
        assert found(marked, "ceasefire commission monitors", viewer, mode) == allowed
    for document_id, (_, _, secret, region) in MARKED.items():
        hits = found(marked, secret, viewer, "keyword")
        assert hits == ({document_id} & allowed)
        suggested = marked.search(SearchRequest(f"talks in {region}"), viewer).suggestions
        assert (region in {s.value for s in suggested}) == (document_id in allowed)
    total, listed = marked.list_documents(Filters(), limit=50, viewer=viewer)
    assert total == len(allowed) and {d.document_id for d in listed} == allowed
    stats = marked.stats(viewer)
    assert (stats.documents, stats.chunks, stats.index_vectors) == (len(allowed),) * 3
    for document_id in MARKED:
        if document_id in allowed:
            assert marked.get_document(document_id, viewer).document_id == document_id
            similar = marked.similar(document_id, Filters(), limit=50, viewer=viewer)
            assert {r.document_id for r in similar.results} == allowed - {document_id}
        else:
            with pytest.raises(NotFoundError) as hidden:
                marked.get_document(document_id, viewer)
            with pytest.raises(NotFoundError) as missing:
                marked.get_document("no-such-document", viewer)
            # Word for word what a missing document says.
            assert str(hidden.value).replace(document_id, "X") == str(missing.value).replace(
                "no-such-document", "X"
            )
            assert str(hidden.value) == f"no document {document_id!r}"
            for read in (marked.chunks, marked.versions, marked.relations):
                with pytest.raises(NotFoundError, match="^no document"):
                    read(document_id, viewer)  # type: ignore[operator]
    audited = {e.document_id for e in marked.audit(limit=100, viewer=viewer)[1]}
    assert audited == allowed
    if "staff" in allowed:
        links = {r.document_id for r in marked.relations("staff", viewer)}
        assert links == {"secret", "open"} & allowed


def test_full_rights_see_everything(marked: KnowledgeBase) -> None:
    assert found(marked, "ceasefire commission", None) == set(MARKED)  # type: ignore[arg-type]
    assert marked.stats().documents == len(MARKED)


def test_writes_cannot_reach_or_reveal_hidden_documents(
    kb: KnowledgeBase,
) -> None:
    kb.add([draft(d) for d in MARKED], "setup")
    ian = VIEWERS[1]  # internal, no groups

    taken, above, twin, fine = kb.add(
        [
            draft("secret", "A new text for a document ian cannot see."),
            DocumentDraft(
                **{
                    **draft("staff").__dict__,
                    "document_id": "mine",
                    "sha256": "1",
                    "classification": "confidential",
                }
            ),
            DocumentDraft(
                **{**draft("secret").__dict__, "document_id": "copy", "classification": "internal"}
            ),
            DocumentDraft(
                **{
                    **draft("staff").__dict__,
                    "document_id": "fine",
                    "sha256": "2",
                    "groups": ("legal",),
                }
            ),
        ],
        "ian",
        ian,
    )

    assert (taken.outcome, taken.reason) == (
        AddOutcome.FAILED,
        "document_id 'secret' is not available; choose another",
    )
    assert above.outcome is AddOutcome.FAILED and "above your clearance" in (above.reason or "")
    # The same bytes as a hidden document: not named as a duplicate; added as ian's own.
    assert (twin.outcome, twin.duplicate_of) == (AddOutcome.ADDED, None)
    assert fine.outcome is AddOutcome.FAILED and "groups you are not in" in (fine.reason or "")
    assert kb.get_document("secret").chunk_count == 1 and "dolomite" in kb.chunks("secret")[0].text
    for act in (
        lambda: kb.edit("secret", {"title": "x"}, "ian", viewer=ian),
        lambda: kb.delete("secret", "ian", viewer=ian),
        lambda: kb.relate("staff", "evaluates", "secret", "ian", viewer=ian),
    ):
        with pytest.raises(NotFoundError, match="no document 'secret'"):
            act()
    kb.delete("secret", "setup")
    assert kb.trash(viewer=ian) == (0, [])
    with pytest.raises(NotFoundError, match="no document 'secret'"):
        kb.restore("secret", "ian", viewer=ian)
    assert [d.document_id for d in kb.trash()[1]] == ["secret"]
    # Purged, its marking outlives it: its audit entries stay hidden from whoever was not cleared.
    kb.purge("secret", "setup")
    assert "secret" not in {e.document_id for e in kb.audit(limit=100, viewer=ian)[1]}
    cora = VIEWERS[3]
    assert {e.action for e in kb.audit("secret", viewer=cora)[1]} == {"add", "delete", "purge"}


def test_re_ingesting_without_a_marking_keeps_the_stored_one(kb: KnowledgeBase) -> None:
    kb.add([draft("secret")], "setup")
    unmarked = DocumentDraft(
        **{**draft("secret").__dict__, "classification": None, "groups": None, "title": "Renamed"}
    )
    assert kb.add([unmarked], "setup")[0].outcome is AddOutcome.UPDATED
    document = kb.get_document("secret")
    assert (document.title, document.classification) == ("Renamed", "confidential")
    new = DocumentDraft(
        **{
            **draft("staff").__dict__,
            "document_id": "plain",
            "classification": None,
            "groups": None,
        }
    )
    kb.add([new], "setup")
    assert kb.get_document("plain").classification == kb.settings.default_classification


marks = st.tuples(st.sampled_from(LEVELS), st.sets(st.sampled_from(["a", "b", "c"]), max_size=2))


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    documents=st.lists(marks, min_size=1, max_size=6),
    viewers=st.lists(marks, min_size=1, max_size=4),
)
def test_the_rule_holds_for_any_marking_and_any_viewer(
    embedder: Embedder,
    documents: list[tuple[str, set[str]]],
    viewers: list[tuple[str, set[str]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        kb = KnowledgeBase(Settings(store=Path(folder) / "store"), embedder=embedder)
        drafts = []
        for n, (level, groups) in enumerate(documents):
            body = f"Ceasefire record number {n} about the quartz commission."
            drafts.append(
                DocumentDraft(
                    f"d{n}",
                    f"Record {n}",
                    "other",
                    f"d{n}.md",
                    str(n),
                    {},
                    None,
                    (ChunkDraft(0, body, None, 1, 1, 0, len(body)),),
                    classification=level,
                    groups=tuple(sorted(groups)),
                )
            )
        kb.add(drafts, "setup")
        for n, (clearance, groups) in enumerate(viewers):
            viewer = Viewer(f"v{n}", "reader", clearance, tuple(sorted(groups)))
            allowed = {
                d.document_id
                for d in drafts
                if may_see(viewer, d.classification or "internal", d.groups or ())
            }
            assert kb.list_documents(Filters(), 50, viewer=viewer)[0] == len(allowed)
            assert found(kb, "quartz commission", viewer, "keyword") == allowed
            assert found(kb, "ceasefire record", viewer, "dense") == allowed
        kb.close()


def test_a_new_store_folder_is_readable_by_its_owner_only(kb: KnowledgeBase) -> None:
    assert kb.settings.store.stat().st_mode & 0o777 == 0o700
