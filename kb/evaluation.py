"""Retrieval quality on a task with relevance judgments, in BEIR layout.

    TASK_DIR/corpus.jsonl     {"_id", "title", "text", "metadata"}
    TASK_DIR/queries.jsonl    {"_id", "text", "metadata"}; metadata.filter applies filters
    TASK_DIR/qrels/SPLIT.tsv  query-id, corpus-id, score (graded gains; 0 is not relevant)

Scored at the document level, averaged over the judged queries as BEIR does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import InvalidRequestError
from kb.metadata.filters import parse_filters
from kb.models import Filters, Mode, SearchRequest, SearchResponse

CUTOFF = 10
DEPTH = 100
BATCH = 32


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class Scores:
    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    queries: int

    def as_json(self) -> dict[str, Any]:
        return {
            "ndcg@10": round(self.ndcg_10, 4),
            "recall@10": round(self.recall_10, 4),
            "recall@100": round(self.recall_100, 4),
            "mrr@10": round(self.mrr_10, 4),
            "queries": self.queries,
        }


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Judgments by query; tolerates CRLF, a header line and TREC's 4-column form."""
    if not path.is_file():
        raise InvalidRequestError(f"no judgments at {path}")
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        parts = line.strip().split()
        if not parts:
            continue
        if len(parts) == 4:  # TREC: qid Q0 docid rel
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise InvalidRequestError(f"{path} line {number}: expected query-id, corpus-id, score")
        try:
            gain = int(float(parts[2]))
        except ValueError:
            if number == 1:
                continue  # the header
            raise InvalidRequestError(
                f"{path} line {number}: score {parts[2]!r} is not a number"
            ) from None
        qrels.setdefault(parts[0], {})[parts[1]] = gain
    return qrels


def read_queries(path: Path, wanted: set[str]) -> list[Query]:
    """The queries whose ids are in `wanted`, with their metadata.filter if any."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidRequestError(f"{path} line {number}: not valid JSON ({exc.msg})") from exc
        query_id = str(raw.get("_id", ""))
        if query_id not in wanted:
            continue
        metadata = raw.get("metadata") or {}
        spec = metadata.get("filter") if isinstance(metadata, dict) else None
        try:
            filters = parse_filters(spec) if isinstance(spec, dict) else Filters()
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{path} query {query_id}: {exc.message}") from exc
        queries.append(Query(query_id, str(raw.get("text", "")), filters))
    return queries


def corpus_ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_text(encoding="utf-8-sig").split("\n"):
        if line.strip():
            try:
                ids.append(str(json.loads(line)["_id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return ids


def ndcg(ranked: Sequence[str], gains: Mapping[str, int], k: int = CUTOFF) -> float:
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: Sequence[str], gains: Mapping[str, int], k: int) -> float:
    relevant = {d for d, g in gains.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], gains: Mapping[str, int], k: int = CUTOFF) -> float:
    for i, d in enumerate(ranked[:k]):
        if gains.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(
    search: Callable[[list[SearchRequest]], list[SearchResponse]],
    queries: Sequence[Query],
    qrels: Mapping[str, Mapping[str, int]],
    mode: Mode,
) -> Scores:
    """Run every judged query and average the metrics."""
    totals = [0.0, 0.0, 0.0, 0.0]
    judged = [q for q in queries if any(g > 0 for g in qrels.get(q.query_id, {}).values())]
    # A judged query with no text finds nothing: it counts, with zeros, as in BEIR.
    answerable = [q for q in judged if q.text.strip()]
    for start in range(0, len(answerable), BATCH):
        batch = answerable[start : start + BATCH]
        requests = [SearchRequest(q.text, q.filters, mode, DEPTH) for q in batch]
        for query, response in zip(batch, search(requests), strict=True):
            ranked = [p.document_id for p in response.results]
            gains = qrels[query.query_id]
            totals[0] += ndcg(ranked, gains)
            totals[1] += recall(ranked, gains, CUTOFF)
            totals[2] += recall(ranked, gains, DEPTH)
            totals[3] += reciprocal_rank(ranked, gains)
    n = len(judged)
    means = [t / n if n else 0.0 for t in totals]
    return Scores(means[0], means[1], means[2], means[3], n)
