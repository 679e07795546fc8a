"""What a search tells its user about how it ranked: notices a mediator can act on."""

from __future__ import annotations

from pathlib import Path

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import Filters, SearchRequest
from kb.settings import Settings
from tests.drafts import passage_draft

READER = Viewer("pia", "reader", "public")


def test_without_a_per_marking_keyword_index_a_signed_in_user_is_told_what_to_do(
    tmp_path: Path, embedder: Embedder
) -> None:
    # fts5's statistics count every passage: it never ranks for a signed-in user (issue 17),
    # and the notice says so in a user's terms, not an operator's setting.
    settings = Settings(store=tmp_path / "store", keyword_engine="fts5")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        kb.add([passage_draft(1, "a ceasefire in the delta")])

        def notices(mode: str) -> tuple[str, ...]:
            request = SearchRequest("ceasefire", Filters(viewer=READER), mode=mode)
            return kb.search(request).notices

        hybrid, keyword = notices("hybrid"), notices("keyword")
        assert len(hybrid) == 1 and hybrid[0].endswith("these results are by meaning only")
        assert len(keyword) == 1 and keyword[0].endswith("search by meaning instead")
        assert all("KB_" not in n and "signed-in users" in n for n in hybrid + keyword)
        assert notices("dense") == ()
        # The command line (no viewer) is ranked by fts5 and told nothing.
        assert kb.search(SearchRequest("ceasefire", Filters(), mode="keyword")).notices == ()
