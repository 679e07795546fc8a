"""`kb ingest`, `list`, `show` and `delete`: documents in and out of a store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import (
    Context,
    as_option,
    bad_input_as_usage,
    cli,
    filter_option,
    filters_of,
    json_option,
    metadata_of,
    pass_context,
)
from api.cli.terminal import err, out, pages, print_json, print_page, print_table, progress
from api.schemas.core import DocumentDetailPublic, DocumentPublic
from ingest.metadata import check_doc_type
from ingest.outcomes import ItemOutcome
from ingest.pipeline import IngestOptions, collect_files, count_items, ingest_files
from kb.access import LEVELS, check_groups
from kb.metadata.schema import load_schema
from kb.models import DOC_TYPES
from kb.search.searcher import MAX_LIMIT, MAX_OFFSET


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--type", "doc_type", type=click.Choice(DOC_TYPES), help="Document type for all files."
)
@click.option(
    "--meta", multiple=True, metavar="KEY=VALUE", help="Metadata for all files (repeatable)."
)
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Check each file's metadata against the metadata schema (KB_METADATA_SCHEMA).",
)
@click.option(
    "--classification",
    type=click.Choice(LEVELS),
    help="Classification of every file (over a sidecar's); who may see them.",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="GROUP",
    help="A need-to-know group for every file (repeatable): only its members see them.",
)
@json_option
@pass_context
def ingest(
    ctx: Context,
    paths: tuple[Path, ...],
    doc_type: str | None,
    meta: tuple[str, ...],
    validate: bool,
    classification: str | None,
    groups: tuple[str, ...],
    as_json: bool,
) -> None:
    """Add files and folders (recursively): .pdf, .docx, .html, .txt, .md, BEIR .jsonl records.

    Metadata comes from a NAME.meta.json sidecar beside each file, overridden by --type and
    --meta, and is checked against the metadata schema of the document type: a file that
    breaks it fails, naming the field, and the others go on. BEIR records are bulk imports in
    their own vocabularies and are not checked. The same content again is a no-op; changed
    content replaces the document. Exits 1 if any file failed.
    """
    if doc_type:
        check_doc_type(doc_type, "--type")
    schema = load_schema(ctx.settings.metadata_schema)
    metadata = metadata_of(meta, schema)
    files, missing = collect_files(list(paths))
    total = count_items(files) + len(missing)
    every = ctx.settings.progress_seconds
    with ctx.open() as kb, progress(total, every=every) as advance:

        def on_item(outcome: ItemOutcome) -> None:
            advance()
            if outcome.status == "failed" and not as_json:
                err.print(
                    f"[red]failed[/] {escape(outcome.source)}: {escape(outcome.reason or '')}"
                )

        report = ingest_files(
            kb,
            files,
            IngestOptions(
                doc_type=doc_type,
                metadata=metadata,
                schema=schema if validate else None,
                actor=ctx.actor,
                classification=classification,
                groups=check_groups(groups) if groups else None,
            ),
            on_item,
            missing,
        )
        counts = report.counts()
        if counts["added"] or counts["updated"]:
            kb.update_keyword_index()  # searches after this command find the new text at once
    if as_json:
        print_json(
            {
                **counts,
                "not_parsed": report.not_parsed,
                "failures": [{"source": o.source, "reason": o.reason} for o in report.failed],
            }
        )
    else:
        err.print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if report.failed:
        sys.exit(1)


@cli.command(name="list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, MAX_OFFSET))
@filter_option
@as_option
@json_option
@pass_context
def list_(
    ctx: Context,
    limit: int,
    offset: int,
    filters: tuple[str, ...],
    as_user: str | None,
    as_json: bool,
) -> None:
    """Current documents, newest first."""
    viewer = ctx.viewer(as_user)  # refuses an unknown or disabled user
    with bad_input_as_usage(), ctx.open() as kb:
        total, documents = kb.list_documents(filters_of(filters), limit, offset, viewer)
    if as_json:
        print_page(
            total, limit, offset, [DocumentPublic.model_validate(d).model_dump() for d in documents]
        )
        return
    table = Table("document_id", "type", "date", "title", "passages")
    for d in documents:
        table.add_row(
            escape(d.document_id), d.doc_type, d.date or "", escape(d.title), str(d.chunk_count)
        )
    print_table(table, whole=("document_id",))
    out.print(f"{len(documents)} of {total} documents")


@cli.command()
@click.argument("document_id")
@click.option("--chunks/--no-chunks", default=False, help="Also print every passage.")
@as_option
@json_option
@pass_context
def show(ctx: Context, document_id: str, chunks: bool, as_user: str | None, as_json: bool) -> None:
    """A document's metadata (and passages)."""
    viewer = ctx.viewer(as_user)  # refuses an unknown or disabled user
    with ctx.open() as kb:
        document = kb.get_document(document_id, viewer)
        passages = kb.chunks(document_id, viewer)
        links = kb.relations(document_id, viewer)
        near = kb.near_duplicates(document_id, viewer)
    if as_json:
        body = DocumentDetailPublic.model_validate(
            {**document.__dict__, "chunks": passages, "relations": links, "near_duplicates": near}
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
    for r in links:
        out.print(f"{r.label} {escape(r.document_id)}: {escape(r.title)}")
    if near:
        out.print(f"near-duplicates: {escape(', '.join(near))}")
    out.print(f"version {document.version}, {len(passages)} passages")
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
    """Move a document to the trash: gone from search at once, restorable with
    `kb trash restore` until purged (KB_TRASH_DAYS)."""
    with ctx.open() as kb:
        purge_after = kb.purge_after(kb.delete(document_id, ctx.actor))
    if as_json:
        print_json({"document_id": document_id, "deleted": True, "purge_after": purge_after})
    else:
        err.print(f"moved {escape(document_id)} to the trash (restorable until {purge_after})")
