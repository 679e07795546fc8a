"""A reading pack as exported: its items with their citations, counted withholdings, and the
citation form. The records every renderer (Markdown, HTML, PDF) draws from."""

from __future__ import annotations

from dataclasses import dataclass

from kb.models import Pack


@dataclass(frozen=True)
class ExportItem:
    """One item as exported: its citation, the trainer's note and the passage quoted."""

    number: int
    document_id: str
    title: str
    doc_type: str  # as read: "Agreement"
    date: str | None
    pages: str  # "p. 3", "pp. 3–4" or "" (no page known)
    note: str
    heading: str | None
    passage: str
    passage_pages: str
    whole_document: bool

    @property
    def citation(self) -> str:
        return cite(self.title, self.doc_type, self.date, self.pages)


@dataclass(frozen=True)
class PackExport:
    pack: Pack
    exported: str  # the date of export, ISO
    items: tuple[ExportItem, ...]
    bibliography: tuple[str, ...]
    withheld: int  # items the viewer may not see
    gone: int = 0  # items whose document was deleted since it was added

    @property
    def withheld_note(self) -> str:
        if not self.withheld:
            return ""
        items = "item was" if self.withheld == 1 else "items were"
        return f"{self.withheld} {items} withheld: not visible to you."

    @property
    def gone_note(self) -> str:
        if not self.gone:
            return ""
        items = "item refers to a document" if self.gone == 1 else "items refer to documents"
        return f"{self.gone} {items} deleted since it was added."


def cite(title: str, doc_type: str, date: str | None, pages: str = "") -> str:
    """'Title. Agreement, 1998-03-14, pp. 1–4.'"""
    parts = [doc_type] + [p for p in (date or "undated", pages) if p]
    return f"{title.rstrip('.')}. {', '.join(parts)}."
