"""PDF layout: titles from /Title or the largest heading, never a running header or a page
label; running lines and scattered words out of the passages. PDFs are made here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from ingest.chunking import chunk_pages
from ingest.pipeline import IngestOptions, prepare_file
from ingest.readers import read_bytes
from kb.settings import Settings
from tests.conftest import shared_corpus
from tests.docs import make_pdf

HEADER = "LATIN AMERICA & THE CARIBBEAN"
TITLE = "Hurricane Response Situation Report No. 7"
BODY = [
    "Flooding has cut the coastal road between the two provinces. Relief convoys now take the "
    "mountain pass, which adds a day to every delivery of food and medicine.",
    "Mobile clinics reached four districts this week. Health partners report damage to twelve "
    "facilities, and about 40% of them remain closed to patients.",
    "Shelters hold eleven thousand people. Water trucking continues in the three largest sites "
    "while the municipal network is repaired.",
    "Funding received covers a third of the appeal. Partners ask for support to logistics and "
    "to the repair of schools before the term begins.",
]


def make_report(
    *,
    title: str | None = TITLE,
    title_size: int = 24,
    header_size: int = 12,
    metadata_title: str | None = None,
) -> bytes:
    """An agency report: a running header and a "Page | N" footer on every page, its title
    in large type on page 1 only, body text in small type."""
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    if metadata_title is not None:
        pdf.set_title(metadata_title)
    for number, text in enumerate(BODY, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", header_size)
        pdf.cell(0, header_size * 0.6, HEADER, new_x="LMARGIN", new_y="NEXT")
        if number == 1 and title:
            pdf.set_font("Helvetica", "B", title_size)
            pdf.multi_cell(0, title_size * 0.5, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-20)
        pdf.set_font("Helvetica", size=8)
        pdf.cell(0, 6, f"Page | {number}")
    return bytes(pdf.output())


def test_a_running_header_and_page_labels_are_neither_the_title_nor_text() -> None:
    content = read_bytes("sitrep.pdf", make_report())

    assert content.title == TITLE
    for page in content.pages:
        assert HEADER not in page.text and "Page |" not in page.text, page.text
    assert [p.number for p in content.pages] == [1, 2, 3, 4]
    assert "coastal road" in content.pages[0].text and "term begins" in content.pages[3].text


def test_a_running_header_drawn_larger_than_the_title_is_still_not_the_title() -> None:
    content = read_bytes("sitrep.pdf", make_report(title_size=20, header_size=28))
    assert content.title == TITLE


def test_the_document_gets_the_heading_as_its_title_through_the_pipeline(
    tmp_path: Path,
) -> None:
    settings = Settings(store=tmp_path / "store")
    draft = prepare_file("sitrep.pdf", make_report(), {}, IngestOptions(), settings)
    assert draft.title == TITLE


def test_without_a_large_heading_the_title_is_never_a_running_line(tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "store")
    draft = prepare_file("sitrep-7.pdf", make_report(title=None), {}, IngestOptions(), settings)
    assert draft.title not in (HEADER, "Page | 1")
    assert not re.search(r"LATIN AMERICA|Page \|", draft.title)


def test_the_pdf_metadata_title_wins_when_it_names_the_document() -> None:
    declared = "Coastal Provinces Flooding: Situation Report No. 7"
    content = read_bytes("sitrep.pdf", make_report(metadata_title=declared))
    assert content.title == declared


@pytest.mark.parametrize(
    "declared",
    [
        "Microsoft Word - sitrep_7_final.docx",
        "untitled",
        "PowerPoint Presentation",
        "sitrep-7-final",
        "Binder1.pdf",
        "Quarterly Budget Template",  # another document's: none of its words are here
    ],
)
def test_a_metadata_title_that_names_no_document_gives_way_to_the_heading(
    declared: str,
) -> None:
    content = read_bytes("sitrep.pdf", make_report(metadata_title=declared))
    assert content.title == TITLE


# -- words drawn one by one ----------------------------------------------------------------

WORDS = (
    "Major hospitals suffered severe damage, and about 40% of all health facilities were "
    "closed. Mobile teams now visit the shelters twice a week and refer the gravest cases to "
    "the regional hospital."
)


def make_scattered_pdf(text: str) -> bytes:
    """A page drawn as some word processors export it: every word and every space in a text
    object of its own, which pypdf reads as "word\\n \\nword"."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    operators = []
    x, y = 72.0, 100.0
    for word in text.split():
        for piece in (word, " "):
            operators.append(f"BT /F1 11 Tf 1 0 0 -1 {x:.2f} {y:.2f} Tm 0 -11 Td ({piece}) Tj ET")
            x += 5.5 * len(piece)
        if x > 480:
            x, y = 72.0, y + 14
    stream = DecodedStreamObject()
    stream.set_data("\n".join(operators).encode())
    page.replace_contents(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_words_drawn_one_by_one_read_as_sentences() -> None:
    data = make_scattered_pdf(WORDS)
    assert "damage,\n \nand" in (PdfReader(io.BytesIO(data)).pages[0].extract_text() or "")

    content = read_bytes("unfpa.pdf", data)
    chunks = chunk_pages(content.pages)

    assert len(chunks) == 1
    assert chunks[0].text == WORDS
    assert chunks[0].heading is None


def test_passages_of_a_pdf_have_single_spaces() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Health partners report damage,  and  about  40%\tof facilities closed.")
    content = read_bytes("spaced.pdf", bytes(pdf.output()))

    assert "damage, and about 40% of facilities closed." in content.pages[0].text
    for chunk in chunk_pages(content.pages):
        assert "  " not in chunk.text and "\t" not in chunk.text


# -- real situation reports ----------------------------------------------------------------


def situation_report(prefix: str) -> bytes:
    folder = shared_corpus("reliefweb-humanitarian-reports") / "pdfs"
    return next(folder.glob(f"{prefix}_*.pdf")).read_bytes()


@pytest.mark.parametrize(
    ("prefix", "begins"),
    [
        ("4185497", "WFP HAITI Situation Report #1"),  # was "Page | 1", its running footer
        ("4194684", "LATIN AMERICA & THE CARIBBEAN: Weekly Situation Update"),  # was the kicker
        ("4197285", "HAITI: Hurricane Melissa Response"),  # not a section: "HIGHLIGHTS"
    ],
)
def test_situation_reports_get_their_own_titles(prefix: str, begins: str) -> None:
    title = read_bytes(f"{prefix}.pdf", situation_report(prefix)).title or ""
    assert title.startswith(begins), title


def test_a_situation_report_drawn_word_by_word_reads_as_sentences() -> None:
    content = read_bytes("4188743.pdf", situation_report("4188743"))
    text = " ".join(chunk.text for chunk in chunk_pages(content.pages))
    assert "severe damage, and about 40% of all health facilities" in text
    assert "  " not in text


def test_numbered_headings_on_each_page_are_not_running_lines() -> None:
    pages = [f"Article {n}\nThe parties agree to clause {n} of the settlement." for n in (1, 2, 3)]
    pdf = make_pdf(pages)
    content = read_bytes("accord.pdf", pdf)
    firsts = [p.text.splitlines()[0] for p in content.pages]
    assert firsts == ["Article 1", "Article 2", "Article 3"]
