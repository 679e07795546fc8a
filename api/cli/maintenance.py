"""`kb check`, `backup`, `restore` and `migrate`: keeping a store safe, and moving it."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import Context, cli, json_option, pass_context
from api.cli.terminal import err, out, print_json, print_table, progress
from kb.backup import backup_store, restore_store
from kb.knowledge_base import KnowledgeBase
from kb.transfer import compare_searches, source_rows, transfer_store

force_option = click.option(
    "--force", is_flag=True, help="Overwrite a store that is already there."
)


@cli.command()
@json_option
@pass_context
def check(ctx: Context, as_json: bool) -> None:
    """Verify the store: every document whole, its passages, vectors and keyword index rows
    in agreement, the FAISS index holding exactly the stored vectors. Exits 1 on a problem."""
    with ctx.open() as kb:
        problems = kb.check()
        stats = kb.stats()
        notes = kb.check_notes()
    if as_json:
        print_json(
            {
                "ok": not problems,
                "problems": problems,
                "notes": notes,
                "documents": stats.documents,
                "chunks": stats.chunks,
                "index_vectors": stats.index_vectors,
            }
        )
    elif problems:
        for problem in problems:
            err.print(f"[red]problem:[/] {escape(problem)}")
    for note in [] if as_json else notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if not as_json and not problems:
        out.print(
            f"ok: {stats.documents} documents, {stats.chunks} passages, "
            f"{stats.index_vectors} index vectors, all in agreement"
        )
    if problems:
        sys.exit(1)


@cli.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@force_option
@json_option
@pass_context
def backup(ctx: Context, destination: Path, force: bool, as_json: bool) -> None:
    """Copy the store to the folder DESTINATION while it stays in use (readers and writers
    go on; the copy is one consistent snapshot). The backup is itself a store:
    `kb --store DESTINATION search ...` works on it. The FAISS cache is rebuilt, not copied."""
    embedded_only(ctx, "backup")
    report = backup_store(ctx.settings.store, destination, force=force)
    if as_json:
        print_json(asdict(report))
    else:
        err.print(
            f"backed up {report.documents} documents ({report.chunks} passages, generation "
            f"{report.generation}) to {escape(str(destination))}"
        )


@cli.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@force_option
@json_option
@pass_context
def restore(ctx: Context, source: Path, force: bool, as_json: bool) -> None:
    """Replace the store (--store) with the backup in SOURCE (a folder made by `kb backup`,
    another store's folder, or its kb.sqlite). Refuses a store holding documents unless
    --force. Waits for a running writer; servers see the restored store at their next query."""
    embedded_only(ctx, "restore")
    report = restore_store(
        source, ctx.settings.store, wait_seconds=ctx.settings.write_wait_seconds, force=force
    )
    if as_json:
        print_json(asdict(report))
    else:
        err.print(
            f"restored {report.documents} documents ({report.chunks} passages) from "
            f"{escape(str(source))} into {escape(str(ctx.settings.store))}"
        )


@cli.command()
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, path_type=Path),
    help="The embedded store to move (default: --store).",
)
@click.option("--to", "url", required=True, help="The empty PostgreSQL database: postgresql://...")
@json_option
@pass_context
def migrate(ctx: Context, source: Path | None, url: str, as_json: bool) -> None:
    """Move an embedded store into an empty PostgreSQL database (with pgvector), every row with
    its ids, in one transaction; then ask both the same searches and print the comparison.
    Afterwards serve with KB_DATABASE_URL set to the database (and --store naming a folder for
    that server's caches). The embedded store is not changed."""
    origin = source if source is not None else ctx.settings.store
    # The database's side of the comparison keeps its caches apart from the embedded store's.
    with tempfile.TemporaryDirectory(prefix="kb-migrate-") as scratch:
        every = ctx.settings.progress_seconds
        with progress(source_rows(origin), every=every, doing="copying", unit="rows") as advance:
            report = transfer_store(origin, url, Path(scratch), lambda _, n: advance(n))
        target = ctx.settings.model_copy(update={"database_url": url, "store": Path(scratch)})
        embedded = ctx.settings.model_copy(update={"store": origin, "database_url": None})
        with KnowledgeBase(embedded) as before:
            with KnowledgeBase(target, embedder=before.embedder) as after:
                report = compare_searches(before, after, report)
    if as_json:
        print_json(asdict(report))
        return
    table = Table("table", "rows", title=f"{escape(report.source)} → {escape(report.destination)}")
    for name, count in report.rows.items():
        table.add_row(name, str(count))
    print_table(table, whole=("table",))
    out.print(f"original files: {report.originals}")
    out.print(
        f"searches with the same results: {report.same_results} of {report.searches}"
        + "".join(f"\n  differs: {escape(d)}" for d in report.differences)
    )


def embedded_only(ctx: Context, command: str) -> None:
    if ctx.settings.database_url:
        raise click.UsageError(
            f"`kb {command}` is for the embedded store; with KB_DATABASE_URL set the store is "
            "the PostgreSQL database: use PostgreSQL's own backups (pg_dump, replication)"
        )
