"""`kb packs suggest` and `kb packs export`: a pack proposed from a theme, and a pack handed
out as Markdown, HTML or PDF. Registered on the `packs` group of api.cli.packs."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import (
    ID,
    Context,
    as_option,
    bad_input_as_usage,
    filter_option,
    filters_of,
    json_option,
    pass_context,
)
from api.cli.packs import packs
from api.cli.terminal import out, print_json, print_table
from api.schemas.pack_tools import PackSuggestionPublic
from kb.packs.export import FORMATS, gather, render
from kb.packs.suggesting import MAX_SUGGESTIONS, ORDERS


@packs.command(name="suggest")
@click.argument("theme")
@filter_option
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, MAX_SUGGESTIONS))
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    default="relevance",
    show_default=True,
    help="How the items are ordered.",
)
@click.option(
    "--into",
    "pack_id",
    type=ID,
    metavar="PACK_ID",
    help="Append the suggestions to this pack, each with its why as the note.",
)
@as_option
@json_option
@pass_context
def suggest(
    ctx: Context,
    theme: str,
    filters: tuple[str, ...],
    limit: int,
    order: str,
    pack_id: int | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Propose items for THEME (a few words, parts separated by commas, or a paragraph):
    spread over regions, decades, types and processes, each with why it was picked."""
    viewer = ctx.viewer(as_user)
    with ctx.open() as kb:
        with bad_input_as_usage():
            suggestion = kb.suggest_pack(theme, filters_of(filters), limit, order, viewer)
        if pack_id is not None:
            items = [(i.document_id, i.chunk_id, i.why) for i in suggestion.items]
            kb.add_all_to_pack(pack_id, items, viewer)
    if as_json:
        print_json(PackSuggestionPublic.of(suggestion).model_dump())
        return
    table = Table("#", "document_id", "passage", "type", "date", "region", "why")
    for n, item in enumerate(suggestion.items, start=1):
        pages = f"{item.chunk_id} (p. {item.page_start})" if item.chunk_id is not None else ""
        table.add_row(
            str(n),
            escape(item.document_id),
            pages,
            item.doc_type,
            item.date or "",
            escape(item.region or ""),
            escape(item.why),
        )
    print_table(table, whole=("document_id", "passage"))
    if not suggestion.items:
        out.print("no documents match the theme")
    if pack_id is not None:
        out.print(f"added {len(suggestion.items)} items to pack #{pack_id}")


@packs.command(name="export")
@click.argument("pack_id", type=ID)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="md",
    show_default=True,
    help="Markdown, self-contained HTML or PDF.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write ('-': standard output, for md and html).",
)
@as_option
@pass_context
def export(ctx: Context, pack_id: int, fmt: str, output: Path, as_user: str | None) -> None:
    """Write pack PACK_ID with a cover, its items cited and quoted, and a bibliography
    (as NAME may see it with --as: items hidden from them are withheld, and counted)."""
    viewer = ctx.viewer(as_user)
    with ctx.open() as kb:
        body = render(gather(kb, pack_id, viewer), fmt)
    if str(output) == "-":
        if fmt == "pdf":
            raise click.UsageError("a PDF needs a file: -o FILE")
        click.echo(body.decode(), nl=False)
        return
    output.write_bytes(body)
    out.print(f"wrote {escape(str(output))} ({len(body)} bytes)")
