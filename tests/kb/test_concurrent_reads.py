"""Searches from many threads at once, each on its own read connection, while a writer adds
documents: every search answers, and only with committed, whole documents."""

from __future__ import annotations

import threading

from kb.access import Viewer
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft, Filters, SearchRequest

WORDS = "ceasefire monitors observers separation forces refugees return mediation guarantees"


def draft(n: int) -> DocumentDraft:
    words = WORDS.split()
    text = f"Report {n}: the {words[n % len(words)]} and the {words[(n * 3) % len(words)]} " * 4
    return DocumentDraft(
        document_id=f"doc-{n}",
        title=f"Report {n}",
        doc_type="evaluation",
        source_name=f"doc-{n}.md",
        sha256=f"sha-{n}",
        metadata={"region": "Tamsin" if n % 2 else "Serran"},
        date="2004-01-01",
        chunks=(ChunkDraft(0, text, None, 1, 1, 0, len(text)),),
        classification="public" if n % 3 else "confidential",
    )


def test_searches_in_parallel_with_a_writer_see_only_committed_documents(
    kb: KnowledgeBase,
) -> None:
    kb.add([draft(n) for n in range(20)])
    reader = Viewer("pat", "reader", "public")
    failures: list[BaseException] = []
    seen: list[set[str]] = []
    done = threading.Event()

    def search(worker: int) -> None:
        try:
            for round_ in range(15):
                mode = ("hybrid", "keyword", "dense")[(worker + round_) % 3]
                request = SearchRequest(query="ceasefire monitors refugees", mode=mode, limit=50)
                response = kb.search(request, reader if worker % 2 else None)
                ids = {r.document_id for r in response.results}
                assert all(r.passages for r in response.results)
                if worker % 2:
                    assert all(int(i.split("-")[1]) % 3 for i in ids)  # never a confidential one
                seen.append(ids)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's error
            failures.append(exc)

    def write() -> None:
        for n in range(20, 40):
            kb.add([draft(n)])
        done.set()

    threads = [threading.Thread(target=search, args=(w,)) for w in range(6)]
    writer = threading.Thread(target=write)
    for thread in [*threads, writer]:
        thread.start()
    for thread in [*threads, writer]:
        thread.join(120)
    assert done.is_set() and not failures, failures
    assert len(seen) == 6 * 15
    _, documents = kb.list_documents(Filters(), limit=100)
    everything = {d.document_id for d in documents}
    assert set().union(*seen) <= everything
    # After the writer: a new search from a fresh thread finds the documents it added.
    final: list[set[str]] = []
    late = threading.Thread(
        target=lambda: final.append(
            {
                r.document_id
                for r in kb.search(SearchRequest(query="Report 39", mode="keyword")).results
            }
        )
    )
    late.start()
    late.join(60)
    assert "doc-39" in final[0]
