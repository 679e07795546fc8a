"""What the `kb` command prints: tables, results, JSON and progress bars."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.schemas import SearchResponsePublic
from kb.models import SearchResponse
from kb.settings import Settings

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


@contextmanager
def progress(total: int, show: bool, doing: str = "ingesting") -> Iterator[Any]:
    """A bar on the terminal; yields `advance(steps=1)`."""
    if not (show and err.is_terminal):
        yield lambda steps=1: None
        return
    columns = (TextColumn(doing), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(doing, total=total)
        yield lambda steps=1: progress.advance(task, steps)


def settings_table() -> str:
    """The README's settings table, generated from `Settings` so the two never drift."""
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
