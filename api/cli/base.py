"""The `kb` command group, its shared options and the context every command receives."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from kb.access import Viewer
from kb.errors import InvalidRequestError
from kb.knowledge_base import KnowledgeBase
from kb.metadata.filters import parse_filters, split_pairs
from kb.metadata.schema import MetadataSchema, is_list_field, split_list
from kb.models import MAX_ID, Filters
from kb.settings import Settings
from kb.users import Users


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
        self.actor = f"cli:{user_name()}"

    @contextmanager
    def open(self, allow_model_change: bool = False) -> Iterator[KnowledgeBase]:
        kb = KnowledgeBase(self.settings, allow_model_change=allow_model_change)
        try:
            yield kb
        finally:
            kb.close()

    def users(self) -> Users:
        return Users(self.settings)

    def viewer(self, name: str | None) -> Viewer | None:
        """The user named by `--as`, who must exist and be enabled; None (full rights: whoever
        holds the store's files holds everything) without it."""
        if name is None:
            return None
        with self.users() as users:
            return users.viewer(name)


def user_name() -> str:
    """Who runs the command, for the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


pass_context = click.make_pass_decorator(Context)
ID = click.IntRange(1, MAX_ID)  # a pack, item or passage id
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
as_option = click.option(
    "--as",
    "as_user",
    metavar="NAME",
    help="Act as this user (`kb users list`): see only what they may see. Without it, full rights.",
)
filter_option = click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Filter (repeatable): doc_type, date_from, date_to, classification, a relation label, "
    "KEY_min / KEY_max (a number or a date), or a metadata key (a schema field or a key of a "
    "document you may see); a repeated key means any of its values. An unknown key or a bad "
    "value exits 2.",
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


def filters_of(pairs: tuple[str, ...]) -> Filters:
    return parse_filters(split_pairs(pairs))


def metadata_of(pairs: tuple[str, ...], schema: MetadataSchema) -> dict[str, Any]:
    """`--meta KEY=VALUE` pairs as metadata: a repeated key gives a list, and each value of a
    list field of the schema is split on semicolons, as every other way in splits it."""
    metadata: dict[str, Any] = {}
    for key, values in split_pairs(pairs).items():
        if is_list_field(schema, key):
            metadata[key] = [item for value in values for item in split_list(value)]
        else:
            metadata[key] = values[0] if len(values) == 1 else values
    return metadata


@contextmanager
def bad_input_as_usage() -> Iterator[None]:
    """A query, filter or bound the core refuses is a usage error: its reason and exit 2, as
    click answers an option it refuses itself."""
    try:
        yield
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from exc
