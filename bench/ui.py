"""What the web UI costs over the API: server time and page weight for the same work.

    .venv/bin/python bench/ui.py [--repeat N]

Ingests the sample corpus (examples/corpus) into a scratch store, signs a browser session in
and times, through real HTTP handling (FastAPI's TestClient, in process), each page against the
API call doing the same work: a short query and a long brief (search page vs POST /search),
browsing by facets (search page without a query vs GET /documents + GET /facets), a document
(document page vs GET /documents/{id}). Prints a Markdown table: p50/p95 ms, the ratio to the
API in the same run, and the bytes of the answer. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from ingest.pipeline import ingest_paths  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.users import Users  # noqa: E402

BRIEF = (
    "Fighting has stopped in a highland province after a negotiated ceasefire. Thousands of "
    "former fighters remain in cantonment sites and the government wants them disarmed and "
    "reintegrated into civilian life. Donors ask how weapons collection, demobilisation and "
    "reintegration were sequenced elsewhere, and what went wrong for the children and women "
    "associated with armed groups. Monitors from a regional organisation are expected to verify "
    "the separation of forces, and refugees in two neighbouring countries ask when they can go "
    "home and whether their land will be returned."
)
DOCUMENT = "aurel-highlands-ddr-protocol-2000"


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def timed(call: Callable[[], bytes], repeat: int) -> tuple[list[float], int]:
    call()  # warm: caches of the vocabulary and the index
    times = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(call())
        times.append((time.perf_counter() - start) * 1000)
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(store=Path(scratch) / "store")
        with KnowledgeBase(settings) as kb:
            ingest_paths(kb, [ROOT / "examples" / "corpus"])
            with Users(settings) as users:
                key = users.add("bench", "admin", "confidential")[1]
            with TestClient(create_app(settings, kb=kb)) as http:
                api = {"Authorization": f"Bearer {key}"}
                page = TestClient(http.app)
                assert page.post("/ui/signin", data={"api_key": key}).status_code == 200

                def body(response: Any) -> bytes:
                    assert response.status_code == 200, response.text
                    return bytes(response.content)

                cases: list[tuple[str, Callable[[], bytes], Callable[[], bytes]]] = [
                    (
                        "search, 3 words",
                        lambda: body(page.get("/ui/", params={"q": "ceasefire monitoring"})),
                        lambda: body(
                            http.post(
                                "/search", json={"query": "ceasefire monitoring"}, headers=api
                            )
                        ),
                    ),
                    (
                        "search, 120-word brief",
                        lambda: body(page.get("/ui/", params={"q": BRIEF})),
                        lambda: body(http.post("/search", json={"query": BRIEF}, headers=api)),
                    ),
                    (
                        "browse with facets",
                        lambda: body(page.get("/ui/", params={"doc_type": "evaluation"})),
                        lambda: (
                            body(
                                http.get(
                                    "/documents", params={"doc_type": "evaluation"}, headers=api
                                )
                            )
                            + body(
                                http.get("/facets", params={"doc_type": "evaluation"}, headers=api)
                            )
                        ),
                    ),
                    (
                        "document",
                        lambda: body(page.get(f"/ui/documents/{DOCUMENT}")),
                        lambda: body(http.get(f"/documents/{DOCUMENT}", headers=api)),
                    ),
                ]
                rows = []
                for name, ui_call, api_call in cases:
                    api_times, api_size = timed(api_call, args.repeat)
                    ui_times, ui_size = timed(ui_call, args.repeat)
                    rows.append((name, ui_times, api_times, ui_size, api_size))
    print(f"{date.today()} · {platform.machine()} · {os.cpu_count()} CPUs · repeat {args.repeat}")
    print()
    print(
        "| work | page p50 ms | page p95 ms | API p50 ms | API p95 ms | page / API p50 "
        "| page KiB | API KiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, ui_times, api_times, ui_size, api_size in rows:
        print(
            f"| {name} | {percentile(ui_times, 50):.1f} | {percentile(ui_times, 95):.1f} "
            f"| {percentile(api_times, 50):.1f} | {percentile(api_times, 95):.1f} "
            f"| {percentile(ui_times, 50) / percentile(api_times, 50):.2f} "
            f"| {ui_size / 1024:.1f} | {api_size / 1024:.1f} |"
        )


if __name__ == "__main__":
    main()
