"""`kb edit`, `versions`, `link`, `unlink`, `audit` and `kb trash ...`: evaluators' changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from api.cli.base import (
    Context,
    bad_input_as_usage,
    cli,
    json_option,
    metadata_of,
    pass_context,
)
from api.cli.terminal import err, out, print_json, print_page, print_table
from api.schemas.core import DocumentPublic, RelationPublic
from api.schemas.curation import AuditEntryPublic, TrashedPublic, VersionPublic
from ingest.metadata import check_doc_type, normalise_changes
from kb.access import LEVELS
from kb.metadata.schema import load_schema
from kb.models import DOC_TYPES
from kb.relations import RELATION_TYPES
from kb.search.searcher import MAX_LIMIT, MAX_OFFSET


@cli.command()
@click.argument("document_id")
@click.option("--title", help="A new title.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="A new document type.")
@click.option("--date", help="A new date, YYYY[-MM[-DD]].")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Set a metadata key (repeatable).")
@click.option("--unset", multiple=True, metavar="KEY", help="Remove a metadata key (repeatable).")
@click.option("--classification", type=click.Choice(LEVELS), help="A new marking: who may see it.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="GROUP",
    help="Need-to-know groups, replacing the stored ones (repeatable): only members see it.",
)
@click.option("--no-groups", is_flag=True, help="Remove every need-to-know group.")
@json_option
@pass_context
def edit(
    ctx: Context,
    document_id: str,
    title: str | None,
    doc_type: str | None,
    date: str | None,
    meta: tuple[str, ...],
    unset: tuple[str, ...],
    classification: str | None,
    groups: tuple[str, ...],
    no_groups: bool,
    as_json: bool,
) -> None:
    """Change a document's title, type, date, metadata or marking without re-embedding it; the
    result must still meet the metadata schema of its type."""
    if groups and no_groups:
        raise click.UsageError("give --group or --no-groups, not both")
    changes: dict[str, Any] = {
        "title": title,
        "doc_type": doc_type,
        "date": date,
        "classification": classification,
        "groups": [] if no_groups else (list(groups) or None),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if doc_type:
        check_doc_type(doc_type, "--type")
    schema = load_schema(ctx.settings.metadata_schema)
    metadata: dict[str, Any] = metadata_of(meta, schema)
    metadata.update(dict.fromkeys(unset))
    if metadata:
        changes["metadata"] = metadata
    if not changes:
        raise click.UsageError(
            "nothing to change: give --title, --type, --date, --meta, --unset, --classification,"
            " --group or --no-groups"
        )
    with ctx.open() as kb:
        document = kb.edit(document_id, normalise_changes(changes), ctx.actor, schema)
    body = DocumentPublic.model_validate(document).model_dump()
    if as_json:
        print_json(body)
    else:
        err.print(f"edited {escape(document_id)}")
        out.print(f"metadata: {escape(json.dumps(body['metadata'], ensure_ascii=False))}")


@cli.command()
@click.argument("document_id")
@json_option
@pass_context
def versions(ctx: Context, document_id: str, as_json: bool) -> None:
    """The current version of a document and the earlier ones it replaced."""
    with ctx.open() as kb:
        found = kb.versions(document_id)
    rows = [
        VersionPublic.model_validate({**v.__dict__, "current": v.replaced_at is None}).model_dump()
        for v in found
    ]
    if as_json:
        print_json({"document_id": document_id, "versions": rows})
        return
    table = Table("version", "since", "replaced", "source", "passages", "sha256")
    for v in rows:
        table.add_row(
            str(v["version"]),
            v["created_at"],
            v["replaced_at"] or "(current)",
            escape(v["source_name"]),
            str(v["chunk_count"]),
            v["sha256"][:12],
        )
    print_table(table, whole=("version", "source", "sha256"))


def link_arguments(command: Callable[..., None]) -> Callable[..., None]:
    """SOURCE_ID RELATION TARGET_ID and --json, for `kb link` and `kb unlink`."""
    for decorate in reversed(
        (
            click.argument("source_id"),
            click.argument("relation", type=click.Choice(RELATION_TYPES)),
            click.argument("target_id"),
            json_option,
            pass_context,
        )
    ):
        command = decorate(command)
    return command


@cli.command()
@link_arguments
def link(ctx: Context, source_id: str, relation: str, target_id: str, as_json: bool) -> None:
    """Record that SOURCE_ID RELATION TARGET_ID, e.g. `kb link eval-2005 evaluates agr-2000`."""
    with ctx.open() as kb:
        links = kb.relate(source_id, relation, target_id, ctx.actor)
    _print_links(source_id, links, as_json)


@cli.command()
@link_arguments
def unlink(ctx: Context, source_id: str, relation: str, target_id: str, as_json: bool) -> None:
    """Remove a link recorded with `kb link`."""
    with ctx.open() as kb:
        kb.unrelate(source_id, relation, target_id, ctx.actor)
        links = kb.relations(source_id)
    _print_links(source_id, links, as_json)


def _print_links(document_id: str, links: list[Any], as_json: bool) -> None:
    rows = [RelationPublic.model_validate(r).model_dump() for r in links]
    if as_json:
        print_json({"document_id": document_id, "relations": rows})
        return
    for r in rows:
        out.print(
            f"{escape(document_id)} {r['label']} {escape(r['document_id'])}: {escape(r['title'])}"
        )
    if not rows:
        out.print(f"{escape(document_id)} has no links")


@cli.command()
@click.option("--document", "document_id", help="Changes to this document only.")
@click.option("--action", help="add, replace, edit, delete, restore, purge, relate, unrelate.")
@click.option("--actor", help="Changes by this actor only.")
@click.option(
    "--since", help="A date or ISO time (UTC unless it names a zone): changes at or after it."
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, MAX_OFFSET))
@json_option
@pass_context
def audit(
    ctx: Context,
    document_id: str | None,
    action: str | None,
    actor: str | None,
    since: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The audit log: every change, newest first, with who, when and before/after."""
    with bad_input_as_usage(), ctx.open() as kb:
        total, entries = kb.audit(document_id, action, actor, since, limit, offset)
    rows = [AuditEntryPublic.model_validate(e).model_dump() for e in entries]
    if as_json:
        print_page(total, limit, offset, rows)
        return
    table = Table("at", "actor", "action", "document", "change")
    for e in rows:
        table.add_row(
            e["at"], escape(e["actor"]), e["action"], escape(e["document_id"] or ""), _change(e)
        )
    print_table(table, whole=("at", "actor", "document"))
    out.print(f"{len(rows)} of {total} changes")


def _change(entry: dict[str, Any]) -> str:
    """What an audit entry changed, field by field; metadata key by key."""
    if entry["action"] == "add":
        after = entry["after"] or {}
        return escape(
            f"version {after.get('version')}: {after.get('title')} ({after.get('doc_type')})"
        )
    before, after = _flat(entry["before"] or {}), _flat(entry["after"] or {})
    if entry["action"] == "replace":
        version = after.pop("version", None)
        before.pop("version", None)
        fields = _changes(before, after)
        return escape(f"version {version}: new content" + (f"; {fields}" if fields else ""))
    return escape(_changes(before, after))


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = [
        f"{k}: {json.dumps(before.get(k), ensure_ascii=False)} -> "
        f"{json.dumps(after.get(k), ensure_ascii=False)}"
        for k in sorted(set(before) | set(after))
        if k != "sha256" and before.get(k) != after.get(k)
    ]
    return "; ".join(parts)


def _flat(fields: dict[str, Any]) -> dict[str, Any]:
    metadata = fields.get("metadata")
    flat = {k: v for k, v in fields.items() if k != "metadata"}
    if isinstance(metadata, dict):
        flat.update({f"metadata.{k}": v for k, v in metadata.items()})
    return flat


@cli.group()
def trash() -> None:
    """Deleted documents: list them, restore them, purge them for good."""


@trash.command(name="list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, MAX_OFFSET))
@json_option
@pass_context
def trash_list(ctx: Context, limit: int, offset: int, as_json: bool) -> None:
    """Documents in the trash, most recently deleted first."""
    with ctx.open() as kb:
        total, documents = kb.trash(limit, offset)
        rows = [
            TrashedPublic.model_validate(
                {**d.__dict__, "purge_after": kb.purge_after(d)}
            ).model_dump()
            for d in documents
        ]
    if as_json:
        print_page(total, limit, offset, rows)
        return
    table = Table("document_id", "title", "deleted", "by", "purge after")
    for d in rows:
        table.add_row(
            escape(d["document_id"]),
            escape(d["title"]),
            d["deleted_at"],
            escape(d["deleted_by"] or ""),
            d["purge_after"],
        )
    print_table(table, whole=("document_id", "by"))
    out.print(f"{len(rows)} of {total} documents in the trash")


@trash.command(name="restore")
@click.argument("document_ids", nargs=-1, required=True)
@json_option
@pass_context
def trash_restore(ctx: Context, document_ids: tuple[str, ...], as_json: bool) -> None:
    """Bring documents back from the trash, searchable again."""
    with ctx.open() as kb:
        for document_id in document_ids:
            kb.restore(document_id, ctx.actor)
    if as_json:
        print_json({"restored": list(document_ids)})
    else:
        err.print(f"restored {', '.join(escape(d) for d in document_ids)}")


@trash.command(name="purge")
@click.argument("document_ids", nargs=-1)
@click.option(
    "--expired", is_flag=True, help="Purge what has been in the trash over KB_TRASH_DAYS."
)
@json_option
@pass_context
def trash_purge(ctx: Context, document_ids: tuple[str, ...], expired: bool, as_json: bool) -> None:
    """Remove documents in the trash for good: text, passages, vectors and versions."""
    if bool(document_ids) == expired:
        raise click.UsageError("give DOCUMENT_IDS or --expired")
    with ctx.open() as kb:
        if expired:
            purged = kb.purge_expired(ctx.actor)
        else:
            for document_id in document_ids:
                kb.purge(document_id, ctx.actor)
            purged = list(document_ids)
    if as_json:
        print_json({"purged": purged})
    else:
        err.print(f"purged {len(purged)} documents")
