"""How far pack suggestions spread, against plain top-N search, in the same run.

    .venv/bin/python bench/packs.py [--limit N] [--fresh]

Corpora: the sample corpus (examples/corpus, 18 documents) and the PA-X agreement records
(../shared/corpora/pax-peace-agreements-metadata/agreements.jsonl, 2,257 records stored as
agreements). Stores are kept under bench/out/ and reused unless --fresh. For each theme, the N
suggested items and the top N documents of a plain hybrid search are counted for distinct
regions, decades, document types and processes (grouped by the same rule the suggestions use:
a shared process name, party set or country set, or a link) and, for themes of several parts,
how many parts are answered, with the time each took. Prints
Markdown for bench/RESULTS.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import IngestOptions, ingest_files, ingest_paths  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.models import SearchRequest  # noqa: E402
from kb.packs.suggesting import (  # noqa: E402
    decade_of,
    group_processes,
    region_of,
    theme_aspects,
)
from kb.settings import Settings  # noqa: E402

PAX = ROOT.parent / "shared/corpora/pax-peace-agreements-metadata/agreements.jsonl"
SAMPLE_THEMES = (
    "ceasefire monitoring",
    "refugee return, ceasefire monitoring",
    "refugee return, ceasefire monitoring, women's participation",
    "disarmament and reintegration of former combatants",
    "sharing water and land between communities after a war",
)
PAX_THEMES = (
    "ceasefire monitoring",
    "power sharing and elections",
    "refugee return and property restitution",
    "women's participation in the peace process",
    "disarmament, demobilisation and reintegration",
)


def spread(kb: KnowledgeBase, document_ids: list[str]) -> tuple[int, int, int, int]:
    """Distinct regions, decades, types and processes among these documents."""
    documents = kb.store.documents_by_id(document_ids)
    found = [documents[d] for d in document_ids if d in documents]
    links = {d.document_id: kb.store.relations_of(d.document_id) for d in found}
    processes = group_processes([(d.document_id, d.metadata) for d in found], links)
    regions = {(region_of(d.metadata) or "").lower() for d in found} - {""}
    decades = {decade_of(d.date, d.metadata) for d in found} - {None}
    return (
        len(regions),
        len(decades),
        len({d.doc_type for d in found}),
        len(set(processes.values())),
    )


def answered(kb: KnowledgeBase, theme: str, document_ids: list[str], limit: int) -> str:
    """How many parts of a theme of several parts the documents answer: a part is answered by
    a document among its own top hits (as many as the part's share of the list, at least 3)."""
    parts = theme_aspects(theme)
    if len(parts) < 2:
        return "-"
    depth = max(3, -(-limit // len(parts)))
    chosen = set(document_ids)
    hits = [
        {r.document_id for r in kb.search(SearchRequest(part, limit=depth)).results}
        for part in parts
    ]
    return f"{sum(bool(h & chosen) for h in hits)}/{len(parts)}"


def table(kb: KnowledgeBase, name: str, themes: tuple[str, ...], limit: int) -> list[str]:
    rows = [
        f"\n{name}: top {limit}, regions / decades / types / processes, parts of the theme "
        "answered (ms)\n",
        "| theme | plain search | suggestions |",
        "|---|---|---|",
    ]
    kb.search(SearchRequest("warm up"))
    for theme in themes:
        start = time.perf_counter()
        plain = [r.document_id for r in kb.search(SearchRequest(theme, limit=limit)).results]
        searched = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        picked = [i.document_id for i in kb.suggest_pack(theme, limit=limit).items]
        suggested = (time.perf_counter() - start) * 1000
        cells = [
            " / ".join(str(n) for n in spread(kb, ids))
            + f", {answered(kb, theme, ids, limit)} ({ms:.0f} ms)"
            for ids, ms in ((plain, searched), (picked, suggested))
        ]
        rows.append(f"| {theme} | {cells[0]} | {cells[1]} |")
    return rows


def store(folder: Path, fresh: bool) -> Settings:
    if fresh and folder.exists():
        shutil.rmtree(folder)
    return Settings(store=folder)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--fresh", action="store_true", help="rebuild the stores")
    args = parser.parse_args()
    machine = f"{platform.machine()} · {os.cpu_count()} cores · {platform.python_version()}"
    print(f"{date.today()} · {machine}")
    with KnowledgeBase(store(ROOT / "bench/out/packs-sample", args.fresh)) as kb:
        if kb.stats().documents == 0:
            ingest_paths(kb, [ROOT / "examples/corpus"])
        print("\n".join(table(kb, "Sample corpus (18 documents)", SAMPLE_THEMES, args.limit)))
    if not PAX.is_file():
        print(f"\nPA-X: skipped, no {PAX} (expected beside the repository)")
        return
    with KnowledgeBase(store(ROOT / "bench/out/packs-pax", args.fresh)) as kb:
        if kb.stats().documents == 0:
            ingest_files(kb, [PAX], IngestOptions(doc_type="agreement"))
        print("\n".join(table(kb, "PA-X (2,257 agreements)", PAX_THEMES, args.limit)))


if __name__ == "__main__":
    main()
