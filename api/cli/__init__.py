"""The `kb` command: ingest, search, inspect and serve a Precedent store.

Each module registers its commands on the one group in `api.cli.base`.
"""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from api.cli import (  # noqa: F401  (registers the commands)
    curation,
    documents,
    maintenance,
    model,
    pack_tools,
    packs,
    search,
    system,
    users,
)
from api.cli.base import cli
from api.cli.terminal import err
from kb.errors import KBError

__all__ = ["cli", "main"]


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
