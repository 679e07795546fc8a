"""A reading pack made ready to hand out: its cover, its items with full citations and the
passages quoted, and a bibliography, as Markdown, self-contained HTML (Jinja2 templates in
kb/packs/templates) or PDF (kb.packs.pdf). What is exported is what `kb.pack(pack_id, viewer)`
shows:
items the viewer may not see are counted as withheld, and nothing else is said of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from kb.access import Viewer
from kb.errors import InvalidRequestError, NotFoundError
from kb.models import Chunk, Document, Pack, PackItem
from kb.packs.exported import ExportItem, PackExport, cite
from kb.packs.pdf import render_pdf

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

Format = Literal["md", "html", "pdf"]
FORMATS: tuple[Format, ...] = ("md", "html", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
MAX_QUOTE_CHARS = 2400  # a passage longer than this is cut (with an ellipsis) in the export
OPENING_CHARS = 400
TYPE_NAMES = {
    "agreement": "Agreement",
    "evaluation": "Evaluation",
    "lessons-learned": "Lessons-learned report",
    "other": "Document",
}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def gather(kb: KnowledgeBase, pack_id: int, viewer: Viewer | None = None) -> PackExport:
    """The pack as the viewer may see it, with each item's document and passage."""
    pack = kb.pack(pack_id, viewer)
    items: list[ExportItem] = []
    gone = 0
    for item in pack.items:
        try:
            document = kb.get_document(item.document_id, viewer)
        except NotFoundError:
            gone += 1  # shown by kb.pack, so visible: in the trash or purged since
            continue
        items.append(_item(len(items) + 1, item, document, kb.chunks(item.document_id, viewer)))
    return PackExport(
        pack=pack,
        exported=datetime.now(UTC).date().isoformat(),
        items=tuple(items),
        bibliography=bibliography(items),
        withheld=pack.withheld,
        gone=gone,
    )


def _item(number: int, item: PackItem, document: Document, chunks: list[Chunk]) -> ExportItem:
    chosen = [c for c in chunks if c.chunk_id == item.chunk_id]
    summary = document.metadata.get("summary")
    if chosen:
        passage, opening = chosen[0].text, chosen
    elif isinstance(summary, str) and summary.strip():
        passage, opening = summary, []
    else:
        opening = _opening(chunks)
        passage = "\n\n".join(c.text for c in opening)
    shown = opening[0] if opening else None
    if chosen or not chunks:
        pages = page_range(shown.page_start, shown.page_end) if shown else ""
    else:  # the whole document: all its pages
        pages = page_range(min(c.page_start for c in chunks), max(c.page_end for c in chunks))
    return ExportItem(
        number=number,
        document_id=document.document_id,
        title=document.title,
        doc_type=TYPE_NAMES.get(document.doc_type, document.doc_type.capitalize()),
        date=document.date,
        pages=pages,
        note=item.note,
        heading=shown.heading if shown else None,
        passage=shorten(passage),
        passage_pages=page_range(shown.page_start, opening[-1].page_end) if shown else "",
        whole_document=not chosen,
    )


def _opening(chunks: list[Chunk]) -> list[Chunk]:
    """A whole document's first passages, enough to read (a first passage is often a byline)."""
    taken: list[Chunk] = []
    for chunk in chunks:
        taken.append(chunk)
        if sum(len(c.text) for c in taken) >= OPENING_CHARS:
            break
    return taken


def page_range(start: int, end: int) -> str:
    if start <= 0:
        return ""
    return f"p. {start}" if end <= start else f"pp. {start}–{end}"


def shorten(text: str) -> str:
    text = text.strip()
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    return text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def bibliography(items: list[ExportItem]) -> tuple[str, ...]:
    """Each document once, by title: the whole document's citation."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.document_id, cite(item.title, item.doc_type, item.date))
    return tuple(sorted(seen.values(), key=str.casefold))


# -- rendering ----------------------------------------------------------------------------


def markdown_escape(text: object) -> str:
    """Markup in a title or note stays text: Markdown's special characters escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def markdown_quote(text: object) -> str:
    return "\n".join(f"> {markdown_escape(line)}".rstrip() for line in str(text).splitlines())


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("kb.packs", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_escape
    env.filters["md_quote"] = markdown_quote
    return env


ENVIRONMENT = _environment()


def render_markdown(export: PackExport) -> str:
    return ENVIRONMENT.get_template("pack.md.j2").render(export=export)


def render_html(export: PackExport) -> str:
    return ENVIRONMENT.get_template("pack.html.j2").render(export=export)


def render(export: PackExport, fmt: str) -> bytes:
    """The export in a format: md, html or pdf."""
    if fmt == "md":
        return render_markdown(export).encode()
    if fmt == "html":
        return render_html(export).encode()
    if fmt == "pdf":
        return render_pdf(export)
    raise InvalidRequestError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def file_name(pack: Pack, fmt: str) -> str:
    """pack-3-ceasefire-monitoring.pdf: ASCII only, safe in a Content-Disposition header."""
    slug = re.sub(r"[^a-z0-9]+", "-", pack.title.lower()).strip("-")[:60].strip("-")
    return f"pack-{pack.pack_id}{'-' + slug if slug else ''}.{fmt}"
