"""A reading pack as PDF, drawn by fpdf2 (pure Python: no external binary).

Text is set in Source Sans Pro, a TrueType font under the SIL Open Font License shipped on PyPI
by `font-source-sans-pro` (a dependency): fpdf2's built-in fonts know Latin-1 only, and
trainers' notes and titles hold é, –, “ ” and ’. Should that package be missing, the PDF is
still made with Helvetica, typographic marks replaced by their ASCII look-alikes and any other
character outside Latin-1 by '?', and a warning is logged: a degraded PDF beats none.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from kb.packs.exported import PackExport

log = logging.getLogger(__name__)

FAMILY = "SourceSans"
STYLES = {"": "Regular", "B": "Bold", "I": "It", "BI": "BoldIt"}
ASCII_MARKS = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "·": "-"}
)
GREY = (90, 90, 90)
BLACK = (20, 20, 20)


def font_folder() -> Path | None:
    """The folder of Source Sans Pro's TTF files, or None when the package is not installed."""
    spec = importlib.util.find_spec("font_source_sans_pro")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "files"
    found = all((folder / f"SourceSansPro-{s}.ttf").is_file() for s in STYLES.values())
    return folder if found else None


class PackPDF(FPDF):
    """A4 pages numbered in the footer, in the Unicode font where there is one."""

    def __init__(self, fonts: Path | None) -> None:
        super().__init__(format="A4")
        self.unicode = fonts is not None
        if fonts is not None:
            for style, name in STYLES.items():
                self.add_font(FAMILY, style, str(fonts / f"SourceSansPro-{name}.ttf"))
        self.family = FAMILY if fonts is not None else "helvetica"
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=18)

    def style(self, size: float, style: str = "", colour: tuple[int, int, int] = BLACK) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)

    def text_of(self, text: str) -> str:
        if self.unicode:
            return text
        return text.translate(ASCII_MARKS).encode("latin-1", "replace").decode("latin-1")

    def block(self, text: str, height: float = 6.0, indent: float = 0.0) -> None:
        """A paragraph from the left margin (plus `indent`), wrapped; the cursor left below."""
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent,
            height,
            self.text_of(text),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def footer(self) -> None:
        self.set_y(-12)
        self.style(8, colour=GREY)
        self.cell(0, 6, f"{self.page_no()}", align="C")


def render_pdf(export: PackExport, fonts: Path | None = None, find_fonts: bool = True) -> bytes:
    """The export as PDF bytes. `fonts`: a folder of the SourceSansPro-*.ttf files (found in
    the installed package unless `find_fonts` is False: then Helvetica, Latin-1 only)."""
    folder = fonts if fonts is not None or not find_fonts else font_folder()
    if folder is None:
        log.warning(
            "font-source-sans-pro is not installed: the PDF uses Helvetica, and characters "
            "outside Latin-1 are replaced"
        )
    pdf = PackPDF(folder)
    pdf.set_title(pdf.text_of(export.pack.title))
    _cover(pdf, export)
    _readings(pdf, export)
    _bibliography(pdf, export)
    return bytes(pdf.output())


def _cover(pdf: PackPDF, export: PackExport) -> None:
    pack = export.pack
    pdf.add_page()
    pdf.ln(30)
    pdf.style(26, "B")
    pdf.block(pack.title, height=11)
    pdf.ln(6)
    if pack.audience:
        pdf.style(12, "B")
        pdf.block("Audience")
        pdf.style(12)
        pdf.block(pack.audience)
        pdf.ln(3)
    if pack.objectives:
        pdf.style(12, "B")
        pdf.block("Learning objectives")
        pdf.style(12)
        for objective in pack.objectives:
            pdf.block(f"•  {objective}", indent=4)
        pdf.ln(3)
    pdf.style(11, "I", GREY)
    pdf.block(f"Exported {export.exported} · {len(export.items)} readings")
    for note in (export.withheld_note, export.gone_note):
        if note:
            pdf.ln(4)
            pdf.style(11, "B", (150, 90, 20))
            pdf.block(note)


def _readings(pdf: PackPDF, export: PackExport) -> None:
    pdf.add_page()
    pdf.style(18, "B")
    pdf.block("Readings", height=9)
    pdf.ln(3)
    for item in export.items:
        pdf.style(13, "B")
        pdf.block(f"{item.number}. {item.title}", height=6.5)
        pdf.style(10, "I", GREY)
        pdf.block(item.citation, height=5)
        pdf.ln(2)
        if item.note:
            pdf.style(11, "B")
            pdf.block("Trainer's note", height=5.5)
            pdf.style(11)
            pdf.block(item.note, height=5.5)
            pdf.ln(2)
        if item.passage:
            pdf.style(9.5, "I", GREY)
            heading = f" “{item.heading}”" if item.heading else ""
            pages = f", {item.passage_pages}" if item.passage_pages else ""
            source = (
                "The whole document; its opening" + (f" ({item.passage_pages})" if pages else "")
                if item.whole_document
                else f"Passage{heading}{pages}"
            )
            pdf.block(source + ":", height=5)
            pdf.style(10.5)
            pdf.block(item.passage, height=5.2, indent=6)
        pdf.ln(6)


def _bibliography(pdf: PackPDF, export: PackExport) -> None:
    pdf.add_page()
    pdf.style(18, "B")
    pdf.block("Bibliography", height=9)
    pdf.ln(3)
    pdf.style(11)
    for n, entry in enumerate(export.bibliography, start=1):
        pdf.block(f"{n}. {entry}", height=5.5)
        pdf.ln(1.5)
