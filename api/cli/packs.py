"""`kb packs ...`: reading packs for the training unit."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import Context, as_option, cli, json_option, pass_context
from api.schemas_packs import PackPublic
from api.terminal import out, print_json
from kb.models import Pack


@cli.group()
def packs() -> None:
    """Reading packs: ordered documents and passages with notes, for a course."""


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
        pack = kb.create_pack(title, ctx.actor, audience, objectives)
    _print(pack, as_json)


@packs.command(name="add")
@click.argument("pack_id", type=int)
@click.argument("document_id")
@click.option("--chunk", "chunk_id", type=int, help="One passage of the document (its chunk_id).")
@click.option("--note", default="", help="The trainer's note on this item.")
@json_option
@pass_context
def add(
    ctx: Context, pack_id: int, document_id: str, chunk_id: int | None, note: str, as_json: bool
) -> None:
    """Append DOCUMENT_ID (or one of its passages) to pack PACK_ID."""
    with ctx.open() as kb:
        pack = kb.add_to_pack(pack_id, document_id, chunk_id, note)
    _print(pack, as_json)


@packs.command(name="show")
@click.argument("pack_id", type=int)
@as_option
@json_option
@pass_context
def show(ctx: Context, pack_id: int, as_user: str | None, as_json: bool) -> None:
    """A pack with its items in order (as NAME sees it with --as)."""
    viewer = ctx.viewer(as_user)
    with ctx.open() as kb:
        pack = kb.pack(pack_id, viewer)
    _print(pack, as_json)


@packs.command(name="list")
@json_option
@pass_context
def list_(ctx: Context, as_json: bool) -> None:
    """Every pack, most recently changed first."""
    with ctx.open() as kb:
        found = kb.packs()
    if as_json:
        print_json([PackPublic.model_validate(p).model_dump() for p in found])
        return
    table = Table("pack_id", "title", "audience", "updated")
    for p in found:
        table.add_row(str(p.pack_id), escape(p.title), escape(p.audience), p.updated_at)
    out.print(table)


def _print(pack: Pack, as_json: bool) -> None:
    body = PackPublic.model_validate(pack).model_dump()
    if as_json:
        print_json(body)
        return
    out.print(f"[bold]#{pack.pack_id} {escape(pack.title)}[/]  {escape(pack.audience)}")
    for item in pack.items:
        passage = f" passage {item.chunk_id}" if item.chunk_id is not None else ""
        out.print(f"{item.position + 1}. {escape(item.document_id)}{passage}  {escape(item.note)}")
    if pack.withheld:
        out.print(f"({pack.withheld} items withheld: not visible to you)")
