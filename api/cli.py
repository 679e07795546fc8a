"""The `kb` command: ingest, search, inspect and serve a Precedent store."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from api.schemas import DocumentDetailPublic, DocumentPublic, StatsPublic
from api.terminal import err, out, pages, print_json, print_results, progress, settings_table
from ingest.metadata import check_doc_type
from ingest.pipeline import IngestOptions, ItemOutcome, collect_files, count_items, ingest_files
from kb.errors import KBError
from kb.evaluation import corpus_ids, evaluate, read_qrels, read_queries
from kb.filters import parse_filters, split_pairs
from kb.knowledge_base import KnowledgeBase
from kb.models import DOC_TYPES, MODES, Filters, SearchRequest
from kb.search import MAX_LIMIT
from kb.settings import Settings


class Context:
    def __init__(self, store: Path, verbose: bool) -> None:
        try:
            self.settings = Settings(store=store)
        except ValidationError as exc:
            problems = "; ".join(
                f"KB_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise click.UsageError(f"bad setting: {problems}") from exc
        self.verbose = verbose

    @contextmanager
    def open(self, allow_model_change: bool = False) -> Iterator[KnowledgeBase]:
        kb = KnowledgeBase(self.settings, allow_model_change=allow_model_change)
        try:
            yield kb
        finally:
            kb.close()


pass_context = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
filter_option = click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Filter (repeatable): doc_type, date_from, date_to, KEY_min, KEY_max or any metadata "
    "key; a repeated key means any of its values.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    envvar="KB_STORE",
    show_default=True,
    show_envvar=True,
    help="Folder of the knowledge base.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what happens (index rebuilds, model loads)."
)
@click.version_option("0.1.0", prog_name="kb")
@click.pass_context
def cli(ctx: click.Context, store: Path, verbose: bool) -> None:
    """Precedent: find precedents for a new crisis in past agreements, evaluations and
    lessons-learned reports."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(store, verbose)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--type", "doc_type", type=click.Choice(DOC_TYPES), help="Document type for all files."
)
@click.option(
    "--meta", multiple=True, metavar="KEY=VALUE", help="Metadata for all files (repeatable)."
)
@json_option
@pass_context
def ingest(
    ctx: Context,
    paths: tuple[Path, ...],
    doc_type: str | None,
    meta: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add files and folders (recursively): .pdf, .txt, .md and BEIR .jsonl records.

    Metadata comes from a NAME.meta.json sidecar beside each file, overridden by --type and
    --meta. The same content again is a no-op; changed content replaces the document.
    Exits 1 if any file failed.
    """
    if doc_type:
        check_doc_type(doc_type, "--type")
    metadata = {k: v[0] if len(v) == 1 else v for k, v in split_pairs(meta).items()}
    files, missing = collect_files(list(paths))
    with ctx.open() as kb, progress(count_items(files) + len(missing), not as_json) as advance:

        def on_item(outcome: ItemOutcome) -> None:
            advance()
            if outcome.status == "failed" and not as_json:
                err.print(
                    f"[red]failed[/] {escape(outcome.source)}: {escape(outcome.reason or '')}"
                )

        report = ingest_files(
            kb, files, IngestOptions(doc_type=doc_type, metadata=metadata), on_item, missing
        )
    counts = report.counts()
    if as_json:
        print_json(
            {
                **counts,
                "failures": [{"source": o.source, "reason": o.reason} for o in report.failed],
            }
        )
    else:
        err.print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if report.failed:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@filter_option
@json_option
@pass_context
def search(
    ctx: Context,
    query: str,
    limit: int,
    offset: int,
    mode: str,
    filters: tuple[str, ...],
    as_json: bool,
) -> None:
    """Ranked precedents for QUERY (a few words or a whole brief)."""
    request = SearchRequest(query, _filters(filters), mode, limit, offset)  # type: ignore[arg-type]
    with ctx.open() as kb:
        response = kb.search(request)
    print_results(response, limit, offset, as_json)


@cli.command()
@click.argument("document_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@filter_option
@json_option
@pass_context
def similar(
    ctx: Context, document_id: str, limit: int, filters: tuple[str, ...], as_json: bool
) -> None:
    """More like this: documents closest in meaning to DOCUMENT_ID."""
    with ctx.open() as kb:
        response = kb.similar(document_id, _filters(filters), limit)
    print_results(response, limit, 0, as_json)


@cli.command(name="list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@filter_option
@json_option
@pass_context
def list_(ctx: Context, limit: int, offset: int, filters: tuple[str, ...], as_json: bool) -> None:
    """Current documents, newest first."""
    with ctx.open() as kb:
        total, documents = kb.list_documents(_filters(filters), limit, offset)
    if as_json:
        print_json(
            {
                "total": total,
                "limit": limit,
                "offset": offset,
                "items": [DocumentPublic.model_validate(d).model_dump() for d in documents],
            }
        )
        return
    table = Table("document_id", "type", "date", "title", "passages")
    for d in documents:
        table.add_row(
            escape(d.document_id), d.doc_type, d.date or "", escape(d.title), str(d.chunk_count)
        )
    out.print(table)
    out.print(f"{len(documents)} of {total} documents")


@cli.command()
@click.argument("document_id")
@click.option("--chunks/--no-chunks", default=False, help="Also print every passage.")
@json_option
@pass_context
def show(ctx: Context, document_id: str, chunks: bool, as_json: bool) -> None:
    """A document's metadata (and passages)."""
    with ctx.open() as kb:
        document = kb.get_document(document_id)
        passages = kb.chunks(document_id)
    if as_json:
        body = DocumentDetailPublic.model_validate(
            {**document.__dict__, "chunks": passages}
        ).model_dump()
        print_json(body)
        return
    out.print(
        f"[bold]{escape(document.title)}[/]  ({document.doc_type}, {document.date or 'no date'})"
    )
    out.print(
        f"document_id: {escape(document.document_id)}  source: {escape(document.source_name)}"
    )
    out.print(f"metadata: {escape(json.dumps(dict(document.metadata), ensure_ascii=False))}")
    out.print(f"{len(passages)} passages")
    if chunks:
        for c in passages:
            out.print(
                f"\n[bold]#{c.chunk_id}[/] {pages(c.page_start, c.page_end)} "
                f"{escape(c.heading or '')}"
            )
            out.print(escape(c.text))


@cli.command()
@click.argument("document_id")
@json_option
@pass_context
def delete(ctx: Context, document_id: str, as_json: bool) -> None:
    """Remove a document and its passages from the store and both indexes."""
    with ctx.open() as kb:
        kb.delete(document_id)
    if as_json:
        print_json({"document_id": document_id, "deleted": True})
    else:
        err.print(f"deleted {escape(document_id)}")


@cli.command()
@json_option
@pass_context
def reindex(ctx: Context, as_json: bool) -> None:
    """Rebuild the FAISS index from the stored vectors; re-embed every passage first if the
    model setting (KB_MODEL) differs from the model the store was built with."""
    with ctx.open(allow_model_change=True) as kb:
        stats = kb.reindex()
    if as_json:
        print_json(StatsPublic.model_validate(stats).model_dump())
    else:
        err.print(f"index rebuilt: {stats.index_vectors} vectors, model {stats.model}")


@cli.command()
@json_option
@pass_context
def stats(ctx: Context, as_json: bool) -> None:
    """Counts of current documents and passages, the model and the index."""
    with ctx.open() as kb:
        result = StatsPublic.model_validate(kb.stats()).model_dump()
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        out.print(f"{key}: {value}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_context
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    err.print(f"Precedent on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(ctx.settings), host=host, port=port, log_level="info")


@cli.command(name="settings")
@json_option
@pass_context
def settings_(ctx: Context, as_json: bool) -> None:
    """Every setting (environment variable KB_NAME), its value here and what it does."""
    rows = [
        (f"KB_{name.upper()}", str(getattr(ctx.settings, name)), field.description or "")
        for name, field in Settings.model_fields.items()
    ]
    if as_json:
        print_json([{"env": env, "value": value, "help": help_} for env, value, help_ in rows])
        return
    click.echo(settings_table())


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
    with ctx.open() as kb:
        if corpus.is_file() and kb.missing(corpus_ids(corpus)):
            with progress(count_items([corpus]), not as_json) as advance:
                ingest_files(kb, [corpus], IngestOptions(), lambda _: advance())
        scores = evaluate(kb.search_batch, queries, qrels, mode)  # type: ignore[arg-type]
    result = {**scores.as_json(), "mode": mode}
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        out.print(f"{key}: {value}")


def _filters(pairs: tuple[str, ...]) -> Filters:
    return parse_filters(split_pairs(pairs))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KBError as exc:
        err.print(f"[red]error:[/] {escape(exc.message)}")
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
