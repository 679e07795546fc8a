"""`kb search`, `similar` and `eval`: finding precedents and scoring how well."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from api.cli.base import (
    Context,
    as_option,
    bad_input_as_usage,
    cli,
    filter_option,
    filters_of,
    json_option,
    pass_context,
)
from api.cli.terminal import out, print_json, print_results, progress
from ingest.pipeline import IngestOptions, count_items, ingest_files
from kb.evaluation import corpus_ids, evaluate, read_qrels, read_queries
from kb.models import MODES, SearchRequest, SearchResponse
from kb.search.searcher import MAX_LIMIT, MAX_OFFSET


@cli.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, MAX_OFFSET))
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@filter_option
@as_option
@json_option
@pass_context
def search(
    ctx: Context,
    query: str,
    limit: int,
    offset: int,
    mode: str,
    filters: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """Ranked precedents for QUERY (a few words or a whole brief)."""
    viewer = ctx.viewer(as_user)  # refuses an unknown or disabled user
    with bad_input_as_usage():
        request = SearchRequest(query, filters_of(filters), mode, limit, offset)  # type: ignore[arg-type]
        with ctx.open() as kb:
            response = kb.search(request, viewer)
    print_results(response, limit, offset, as_json)


@cli.command()
@click.argument("document_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@filter_option
@as_option
@json_option
@pass_context
def similar(
    ctx: Context,
    document_id: str,
    limit: int,
    filters: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """More like this: documents closest in meaning to DOCUMENT_ID."""
    viewer = ctx.viewer(as_user)  # refuses an unknown or disabled user
    with bad_input_as_usage(), ctx.open() as kb:
        response = kb.similar(document_id, filters_of(filters), limit, viewer=viewer)
    print_results(response, limit, 0, as_json)


@cli.command(name="eval")
@click.argument("task_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--split", default="test", show_default=True, help="Judgments file qrels/SPLIT.tsv.")
@json_option
@pass_context
def eval_(ctx: Context, task_dir: Path, mode: str, split: str, as_json: bool) -> None:
    """Score retrieval on a BEIR-style task: nDCG@10, recall@10/100, MRR@10.

    Ingests TASK_DIR/corpus.jsonl first if the store lacks any of it.
    """
    qrels = read_qrels(task_dir / "qrels" / f"{split}.tsv")
    queries = read_queries(task_dir / "queries.jsonl", set(qrels))
    corpus = task_dir / "corpus.jsonl"
    every = ctx.settings.progress_seconds
    with ctx.open() as kb:
        if corpus.is_file() and kb.missing(corpus_ids(corpus)):
            records = count_items([corpus])
            with progress(records, every=every, unit="records") as advance:
                ingest_files(kb, [corpus], IngestOptions(), lambda _: advance())
        with progress(None, every=every, doing="searching", unit="queries") as advance:

            def search_batch(requests: list[SearchRequest]) -> list[SearchResponse]:
                responses = kb.search_batch(requests)
                advance(len(requests))
                return responses

            scores = evaluate(search_batch, queries, qrels, mode)  # type: ignore[arg-type]
    result = {**scores.as_json(), "mode": mode}
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        out.print(f"{key}: {value}")


@cli.command()
@filter_option
@as_option
@json_option
@pass_context
def facets(ctx: Context, filters: tuple[str, ...], as_user: str | None, as_json: bool) -> None:
    """Document counts per type, region, period (decade), stage and classification among
    the documents that meet the filters (and that --as may see), most frequent first."""
    viewer = ctx.viewer(as_user)  # refuses an unknown or disabled user
    with bad_input_as_usage(), ctx.open() as kb:
        found = kb.facets(filters_of(filters), viewer)
    if as_json:
        print_json(
            {
                "total": found.total,
                "facets": {
                    name: [{"value": c.value, "count": c.count} for c in counts]
                    for name, counts in found.counts.items()
                },
            }
        )
        return
    out.print(f"{found.total} documents")
    for name, counts in found.counts.items():
        shown = ", ".join(f"{escape(c.value)} ({c.count})" for c in counts) or "-"
        out.print(f"[bold]{name}[/]: {shown}")
