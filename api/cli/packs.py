"""`kb packs ...`: reading packs for the training unit."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import ID, Context, as_option, cli, json_option, pass_context
from api.cli.terminal import out, print_json, print_table
from api.schemas.packs import PackPublic, PackSummaryPublic
from kb.knowledge_base import KnowledgeBase
from kb.models import Pack
from kb.search.searcher import MAX_OFFSET


@cli.group()
def packs() -> None:
    """Reading packs: ordered documents and passages with notes, for a course.

    Items are named by their item_id (shown by `kb packs show`), which stays the same when
    items move."""


@packs.command(name="create")
@click.argument("title")
@click.option("--audience", default="", help="Who the pack is for.")
@click.option("--objective", "objectives", multiple=True, help="A learning objective (repeatable).")
@json_option
@pass_context
def create(
    ctx: Context, title: str, audience: str, objectives: tuple[str, ...], as_json: bool
) -> None:
    """Start a pack called TITLE; prints its pack_id."""
    with ctx.open() as kb:
        _print(kb, kb.create_pack(title, ctx.actor, audience, objectives), as_json)


@packs.command(name="add")
@click.argument("pack_id", type=ID)
@click.argument("document_id")
@click.option("--chunk", "chunk_id", type=ID, help="One passage of the document (its chunk_id).")
@click.option("--note", default="", help="The trainer's note on this item.")
@json_option
@pass_context
def add(
    ctx: Context, pack_id: int, document_id: str, chunk_id: int | None, note: str, as_json: bool
) -> None:
    """Append DOCUMENT_ID (or one of its passages, `kb show DOCUMENT_ID`) to pack PACK_ID."""
    with ctx.open() as kb:
        _print(kb, kb.add_to_pack(pack_id, document_id, chunk_id, note), as_json)


@packs.command(name="show")
@click.argument("pack_id", type=ID)
@as_option
@json_option
@pass_context
def show(ctx: Context, pack_id: int, as_user: str | None, as_json: bool) -> None:
    """A pack with its items in order (as NAME sees it with --as)."""
    viewer = ctx.viewer(as_user)
    with ctx.open() as kb:
        _print(kb, kb.pack(pack_id, viewer), as_json)


@packs.command(name="list")
@as_option
@json_option
@pass_context
def list_(ctx: Context, as_user: str | None, as_json: bool) -> None:
    """Every pack, most recently changed first, with how many items each holds."""
    viewer = ctx.viewer(as_user)
    with ctx.open() as kb:
        found = kb.packs(viewer)
    if as_json:
        print_json([PackSummaryPublic.of(p).model_dump() for p in found])
        return
    table = Table("pack_id", "title", "audience", "items", "updated")
    for p in found:
        items = f"{len(p.items)}" + (f" (+{p.withheld} withheld)" if p.withheld else "")
        table.add_row(str(p.pack_id), escape(p.title), escape(p.audience), items, p.updated_at)
    print_table(table, whole=("pack_id",))


@packs.command(name="edit")
@click.argument("pack_id", type=ID)
@click.option("--title", help="A new title.")
@click.option("--audience", help='Who the pack is for ("" for nobody in particular).')
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    help="A learning objective (repeatable); the ones given replace all the pack's objectives.",
)
@click.option("--clear-objectives", is_flag=True, help="Remove every learning objective.")
@json_option
@pass_context
def edit(
    ctx: Context,
    pack_id: int,
    title: str | None,
    audience: str | None,
    objectives: tuple[str, ...],
    clear_objectives: bool,
    as_json: bool,
) -> None:
    """Change the title, audience or objectives of pack PACK_ID; what is not given stays."""
    if clear_objectives and objectives:
        raise click.UsageError("give --objective or --clear-objectives, not both")
    replaced = () if clear_objectives else (objectives or None)
    if title is None and audience is None and replaced is None:
        raise click.UsageError("nothing to change: give --title, --audience or --objective")
    with ctx.open() as kb:
        _print(kb, kb.edit_pack(pack_id, title, audience, replaced), as_json)


@packs.command(name="delete")
@click.argument("pack_id", type=ID)
@json_option
@pass_context
def delete(ctx: Context, pack_id: int, as_json: bool) -> None:
    """Delete pack PACK_ID and its items (the documents stay)."""
    with ctx.open() as kb:
        kb.delete_pack(pack_id)
    if as_json:
        print_json({"pack_id": pack_id, "deleted": True})
    else:
        out.print(f"Deleted pack {pack_id}.")


@packs.command(name="note")
@click.argument("pack_id", type=ID)
@click.argument("item_id", type=ID)
@click.argument("text")
@json_option
@pass_context
def note(ctx: Context, pack_id: int, item_id: int, text: str, as_json: bool) -> None:
    """Replace the note of item ITEM_ID (see `kb packs show`) with TEXT ("" to clear it)."""
    with ctx.open() as kb:
        _print(kb, kb.edit_pack_item(pack_id, item_id, text), as_json)


@packs.command(name="remove")
@click.argument("pack_id", type=ID)
@click.argument("item_id", type=ID)
@json_option
@pass_context
def remove(ctx: Context, pack_id: int, item_id: int, as_json: bool) -> None:
    """Take item ITEM_ID out of pack PACK_ID; the items after it move up."""
    with ctx.open() as kb:
        _print(kb, kb.remove_from_pack(pack_id, item_id), as_json)


@packs.command(name="move")
@click.argument("pack_id", type=ID)
@click.argument("item_id", type=ID)
@click.argument("to_index", type=click.IntRange(0, MAX_OFFSET))
@json_option
@pass_context
def move(ctx: Context, pack_id: int, item_id: int, to_index: int, as_json: bool) -> None:
    """Move item ITEM_ID to place TO_INDEX (0 is the first) in pack PACK_ID."""
    with ctx.open() as kb:
        _print(kb, kb.move_pack_item(pack_id, item_id, to_index), as_json)


@packs.command(name="duplicate")
@click.argument("pack_id", type=ID)
@click.option("--title", help='Title of the copy (default: "Copy of" the title).')
@json_option
@pass_context
def duplicate(ctx: Context, pack_id: int, title: str | None, as_json: bool) -> None:
    """Copy pack PACK_ID (title, audience, objectives, items and notes); prints the copy."""
    with ctx.open() as kb:
        _print(kb, kb.duplicate_pack(pack_id, ctx.actor, title), as_json)


def _print(kb: KnowledgeBase, pack: Pack, as_json: bool) -> None:
    body = PackPublic.of(pack, *kb.pack_contents(pack))
    if as_json:
        print_json(body.model_dump())
        return
    out.print(f"[bold]#{pack.pack_id} {escape(pack.title)}[/]  {escape(pack.audience)}")
    for objective in pack.objectives:
        out.print(f"  - {escape(objective)}")
    for item in body.items:
        where = f", pages {item.page_start}-{item.page_end}" if item.page_start else ""
        passage = f" passage {item.chunk_id}{where}" if item.chunk_id is not None else ""
        title = f" {escape(item.title)}" if item.title else ""
        out.print(
            f"{item.position}. [dim]item {item.item_id}[/] {escape(item.document_id)}{title}"
            f"{passage}  {escape(item.note)}"
        )
    if pack.withheld:
        out.print(f"({pack.withheld} items withheld: not visible to you)")
