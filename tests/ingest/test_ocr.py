"""OCR of scanned pages with the real Tesseract: read, marked, searchable; refused without it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.pipeline import ingest_paths
from ingest.readers import ReadOptions, read_pdf
from kb.errors import InputError, NoTextLayerError
from kb.knowledge_base import KnowledgeBase
from kb.models import SearchRequest
from tests.docs import make_image_pdf, make_pdf, write

needs_tesseract = pytest.mark.needs("tesseract")
SCAN = [
    ["Article 1. The Parties agree to a ceasefire", "monitored by unarmed observers."],
    ["Article 2. Cantonment sites shall open", "within thirty days of signature."],
]
OCR = ReadOptions(ocr=True)


def mixed_pdf() -> bytes:
    """Page 1 has a text layer, page 2 is a scan."""
    writer = PdfWriter()
    for data in (make_pdf(["The observer mission deployed to Gbarnga."]), make_image_pdf(SCAN[1:])):
        writer.append(PdfReader(io.BytesIO(data)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@needs_tesseract
def test_read_pdf_ocrs_a_scanned_pdf_and_marks_its_pages() -> None:
    content = read_pdf("scan.pdf", make_image_pdf(SCAN), OCR)

    assert [(p.number, p.ocr) for p in content.pages] == [(1, True), (2, True)]
    assert "ceasefire" in content.pages[0].text and "unarmed observers" in content.pages[0].text
    assert "Cantonment sites" in content.pages[1].text


@needs_tesseract
def test_only_the_pages_without_a_text_layer_are_ocrd() -> None:
    content = read_pdf("mixed.pdf", mixed_pdf(), OCR)

    assert [p.ocr for p in content.pages] == [False, True]
    assert content.pages[0].text.strip() == "The observer mission deployed to Gbarnga."
    assert "thirty days" in content.pages[1].text


@needs_tesseract
def test_a_language_tesseract_does_not_have_is_refused_naming_it() -> None:
    with pytest.raises(InputError) as caught:
        read_pdf("scan.pdf", make_image_pdf(SCAN[:1]), ReadOptions(ocr=True, ocr_language="qqq"))

    assert caught.value.message.startswith("scan.pdf: Tesseract has no data for language 'qqq'")


def test_without_tesseract_a_scan_is_refused_saying_how_to_enable_ocr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on this PATH

    with pytest.raises(NoTextLayerError) as caught:
        read_pdf("scan.pdf", make_image_pdf(SCAN), OCR)

    assert "none of its 2 page(s) has a text layer" in caught.value.reason
    assert "apt-get install tesseract-ocr" in caught.value.reason


def test_with_ocr_off_a_scan_is_refused_saying_how_to_turn_it_on() -> None:
    with pytest.raises(NoTextLayerError) as caught:
        read_pdf("scan.pdf", make_image_pdf(SCAN[:1]))

    assert "KB_OCR=auto" in caught.value.reason


@needs_tesseract
def test_a_scanned_pdf_is_ingested_and_its_passages_are_found_as_ocr_text(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    write(tmp_path / "inbox", "scan.pdf", make_image_pdf(SCAN))
    write(tmp_path / "inbox", "mixed.pdf", mixed_pdf())
    write(tmp_path / "inbox", "notes.md", "# Notes\n\nThe mediators met in Accra.")

    report = ingest_paths(kb, [tmp_path / "inbox"])

    assert report.counts()["added"] == 3, report.failed
    response = kb.search(SearchRequest("unarmed observers monitor the ceasefire", mode="keyword"))
    top = response.results[0]
    assert top.document_id == "scan"
    assert top.passages[0].ocr and top.passages[0].page_start == 1
    mixed = {c.page_start: c.ocr for c in kb.chunks("mixed")}
    assert mixed == {1: False, 2: True}
    assert not any(c.ocr for c in kb.chunks("notes"))
