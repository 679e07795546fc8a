"""What the `kb` command prints: tables, results, JSON and progress.

Off a terminal (a pipe, a log file) nothing is wrapped, cut or ellipsised: a path or an id stays
whole on its line, for grep and for the next command; progress there is a plain line now and
then, never a bar's control codes.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.schemas.core import SearchResponsePublic
from kb.models import SearchResponse
from kb.settings import Settings

# soft_wrap: long lines are the terminal's to wrap, never split in the output itself. emoji off:
# a path holding ":name:" is printed as it is.
err = Console(stderr=True, soft_wrap=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)
# Wide enough for any row: a table printed off a terminal is as wide as its longest row.
UNBOUNDED = 1_000_000

Advance = Callable[..., None]  # advance(steps=1)


@contextmanager
def progress(
    total: int | None, *, every: float, doing: str = "ingesting", unit: str = "files"
) -> Iterator[Advance]:
    """Progress on stderr, which never mixes with what stdout prints (`--json`); yields
    `advance(steps=1)`. A bar on a terminal; elsewhere a line every `every` seconds (0: every
    step) once the work has lasted that long, so a long run is never silent and a short one
    prints nothing. `total` None: the count without a share of the whole."""
    if err.is_terminal:
        columns = (TextColumn(doing), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(doing, total=total)
            yield lambda steps=1: bar.advance(task, steps)
        return
    with ProgressLines(total, every, doing, unit) as lines:
        yield lines.advance


class ProgressLines:
    """`ingesting: 120/4800 files, 2.5%, 00:41 elapsed` on stderr every `every` seconds, from a
    thread of its own so that a slow step (a long OCR, a batch being embedded) is not silent."""

    def __init__(self, total: int | None, every: float, doing: str, unit: str) -> None:
        self.total, self.every, self.doing, self.unit = total, every, doing, unit
        self.done = 0
        self._started = time.monotonic()
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)

    def __enter__(self) -> ProgressLines:
        if self.every > 0:
            self._ticker.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopped.set()
        if self._ticker.is_alive():
            self._ticker.join()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.every == 0:
            self._write()

    def line(self) -> str:
        minutes, seconds = divmod(int(time.monotonic() - self._started), 60)
        hours, minutes = divmod(minutes, 60)
        elapsed = f"{minutes:02d}:{seconds:02d}"
        elapsed = f"{hours}:{elapsed} elapsed" if hours else f"{elapsed} elapsed"
        if not self.total:
            return f"{self.doing}: {self.done} {self.unit}, {elapsed}"
        share = f"{100 * self.done / self.total:.1f}%"
        return f"{self.doing}: {self.done}/{self.total} {self.unit}, {share}, {elapsed}"

    def _tick(self) -> None:
        while not self._stopped.wait(self.every):
            self._write()

    def _write(self) -> None:
        err.print(self.line(), markup=False, highlight=False)


def print_table(table: Table, whole: Collection[str] = ()) -> None:
    """`table` on stdout, no cell ever ellipsised. The columns named in `whole` (ids, names: what
    the next command needs) keep every cell on one line, the others giving way on a narrow
    terminal; off a terminal the table is as wide as its longest row."""
    for column in table.columns:
        column.overflow = "fold"
        if column.header in whole:
            column.min_width = max(
                (out.render_str(str(cell)).cell_len for cell in column.cells), default=0
            )
    if out.is_terminal:
        out.print(table)
    else:
        # rich would guess 80 columns for a pipe and wrap or cut the table to fit.
        Console(file=out.file, width=UNBOUNDED, highlight=False, emoji=False).print(table)


def settings_table() -> str:
    """The settings table of docs/settings.md, generated from `Settings` so the two never drift."""
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `KB_{name.upper()}` | `{field.default}` | {field.description} |")
    return "\n".join(lines)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def print_page(total: int, limit: int, offset: int, items: list[Any]) -> None:
    """One page of a longer listing, as every `--json` listing prints it."""
    print_json({"total": total, "limit": limit, "offset": offset, "items": items})


def pages(start: int, end: int) -> str:
    return f"p. {start}" if start == end else f"pp. {start}-{end}"


def print_results(response: SearchResponse, limit: int, offset: int, as_json: bool) -> None:
    if as_json:
        print_json(SearchResponsePublic.of(response, limit, offset).model_dump())
        return
    for notice in response.notices:
        err.print(f"[dim]{escape(notice)}[/]")
    if response.suggestions:
        hints = " ".join(f"--filter '{s.key}={s.value}'" for s in response.suggestions)
        err.print(f"[dim]suggested filters: {escape(hints)}[/]")
    if not response.results:
        out.print("no precedents found")
        return
    for rank, precedent in enumerate(response.results, start=offset + 1):
        out.print(
            f"\n[bold]{rank}. {escape(precedent.title)}[/]  [dim]{precedent.doc_type} · "
            f"{precedent.date or 'no date'} · {escape(precedent.document_id)} · "
            f"score {precedent.score:.4f}[/]"
        )
        for passage in precedent.passages:
            snippet = re.sub(r"</?mark>", "", passage.snippet)
            marked = rich_snippet(passage.snippet)
            out.print(
                f"   [cyan]{pages(passage.page_start, passage.page_end)}[/] "
                f"{marked or escape(snippet)}"
            )
    out.print(f"\n{len(response.results)} of {response.total} precedents")


def rich_snippet(snippet: str) -> str:
    parts = re.split(r"(<mark>.*?</mark>)", snippet)
    return "".join(
        f"[bold yellow]{escape(html.unescape(p[6:-7]))}[/]"
        if p.startswith("<mark>")
        else escape(html.unescape(p))
        for p in parts
    )
