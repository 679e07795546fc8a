"""Exporting a pack: Markdown, self-contained HTML and a PDF read back by pypdf, rendered to
images by pypdfium2 and (where Tesseract is installed) read by OCR; viewer-aware, with markup
in titles and notes kept as text."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from io import BytesIO

import pypdfium2
import pytest
from pypdf import PdfReader

from kb.access import Viewer
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import ChunkDraft, DocumentDraft
from kb.packs.export import PackExport, file_name, gather, render
from kb.packs.pdf import render_pdf
from kb.settings import Settings

GUEST = Viewer("guest", "trainer", "public")
PASSAGE = (
    "Unarmed monitors of the joint commission shall verify the withdrawal of heavy weapons "
    "from the valley roads within thirty days."
)
OTHER_PAGE = "The commission shall meet every Monday in the town hall of Verenne."
SECRET = "The envoy proposed an amnesty for the quartzite brigade in a closed session."
TITLE = "Ceasefire monitoring — “first” course <script>alert('t')</script>"
NOTE = "Read this before the café session – it’s short <b>bold</b> & <img src=x onerror=y>"


def draft(
    document_id: str, title: str, pages: list[str], level: str, doc_type: str, date: str
) -> DocumentDraft:
    chunks = tuple(
        ChunkDraft(n, text, f"Article {n + 1}", n + 1, n + 1, 0, len(text))
        for n, text in enumerate(pages)
    )
    return DocumentDraft(
        document_id=document_id,
        title=title,
        doc_type=doc_type,
        source_name=f"{document_id}.pdf",
        sha256=document_id,
        metadata={"region": "Aurel Highlands"},
        date=date,
        chunks=chunks,
        classification=level,
    )


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> KnowledgeBase:
    settings = Settings(store=tmp_path_factory.mktemp("export") / "store")
    base = KnowledgeBase(settings, embedder=embedder)
    base.add(
        [
            draft(
                "accord",
                "Valdoria Ceasefire Accord <i>1998</i>",
                [OTHER_PAGE, PASSAGE],
                "public",
                "agreement",
                "1998-03-14",
            ),
            draft(
                "secret-talks",
                "Quartzite Channel Minutes",
                [SECRET],
                "confidential",
                "evaluation",
                "2004-05-05",
            ),
            draft(
                "review",
                "Évaluation of the monitoring mission",
                [OTHER_PAGE + " Again."],
                "public",
                "evaluation",
                "2002-06-30",
            ),
        ],
        "setup",
    )
    return base


@pytest.fixture(scope="module")
def pack_id(kb: KnowledgeBase) -> int:
    pack = kb.create_pack(TITLE, "trainer", "new mediators", ("Compare monitoring designs",))
    passage = kb.chunks("accord")[1].chunk_id
    kb.add_to_pack(pack.pack_id, "accord", passage, NOTE)
    kb.add_to_pack(pack.pack_id, "secret-talks", note="the quartzite minutes")
    kb.add_to_pack(pack.pack_id, "review")
    return pack.pack_id


def text_of_pdf(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_export_holds_cover_items_citations_and_bibliography(
    kb: KnowledgeBase, pack_id: int
) -> None:
    export = gather(kb, pack_id, GUEST)
    assert [i.document_id for i in export.items] == ["accord", "review"]
    assert export.withheld == 1 and export.withheld_note.startswith("1 item was withheld")
    accord, review = export.items
    assert accord.citation == "Valdoria Ceasefire Accord <i>1998</i>. Agreement, 1998-03-14, p. 2."
    assert (accord.passage, accord.heading, accord.whole_document) == (PASSAGE, "Article 2", False)
    assert review.whole_document and review.passage.startswith("The commission shall meet")
    assert export.exported == datetime.now(UTC).date().isoformat()
    assert export.bibliography == (
        "Valdoria Ceasefire Accord <i>1998</i>. Agreement, 1998-03-14.",
        "Évaluation of the monitoring mission. Evaluation, 2002-06-30.",
    )
    assert file_name(export.pack, "pdf") == (
        f"pack-{pack_id}-ceasefire-monitoring-first-course-script-alert-t-script.pdf"
    )


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_each_format_shows_what_the_viewer_may_see_and_counts_the_rest(
    kb: KnowledgeBase, pack_id: int, fmt: str
) -> None:
    data = render(gather(kb, pack_id, GUEST), fmt)
    text = flat(text_of_pdf(data) if fmt == "pdf" else data.decode())
    if fmt == "html":
        text = flat(re.sub(r"<[^>]+>", " ", text).replace("&amp;", "&"))
    for expected in (
        "new mediators",
        "Compare monitoring designs",
        f"Exported {datetime.now(UTC).date().isoformat()}",
        "1 item was withheld",
        "Agreement, 1998-03-14, p. 2",
        "Evaluation, 2002-06-30",
        "Bibliography",
        "Unarmed monitors of the joint commission shall verify",
        "within thirty days",
        "Read this before the caf",
    ):
        assert expected in text, (fmt, expected, text[:2000])
    for hidden in ("quartzite", "Quartzite", "secret-talks", "2004-05-05", "amnesty"):
        assert hidden not in text, (fmt, hidden)
    full = render(gather(kb, pack_id), fmt)
    full_text = text_of_pdf(full) if fmt == "pdf" else full.decode()
    assert "Quartzite Channel Minutes" in full_text and "withheld:" not in full_text


def test_markup_in_titles_and_notes_stays_text(kb: KnowledgeBase, pack_id: int) -> None:
    html = render(gather(kb, pack_id, GUEST), "html").decode()
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html
    assert "&lt;i&gt;1998&lt;/i&gt;" in html and "&lt;img src=x onerror=y&gt;" in html
    # Self-contained: nothing is fetched when the file is opened.
    tags = re.findall(r"<[^>]+>", html)
    assert not [t for t in tags if re.search(r"\b(src|href)\s*=|^<link", t, re.IGNORECASE)]
    assert not re.search(r"@import|url\(|https?://", html, re.IGNORECASE)
    markdown = render(gather(kb, pack_id, GUEST), "md").decode()
    assert "<script>" not in markdown and r"\<script\>" in markdown
    assert r"\<b\>bold\</b\>" in markdown


def test_the_pdf_keeps_unicode_and_its_pages_render(kb: KnowledgeBase, pack_id: int) -> None:
    data = render(gather(kb, pack_id, GUEST), "pdf")
    text = text_of_pdf(data)
    for word in ("“first”", "café", "–", "it’s", "Évaluation"):
        assert word in text, word
    document = pypdfium2.PdfDocument(data)
    assert len(document) == 3  # cover, readings, bibliography
    for n in range(len(document)):
        image = document[n].render(scale=1).to_pil().convert("L")
        darkest, lightest = image.getextrema()  # type: ignore[misc]
        assert lightest == 255 and darkest < 100, n  # white paper with ink on it


@pytest.mark.needs("tesseract")  # without it, pypdf's text checks above still run
def test_the_rendered_pdf_reads_back_by_ocr(kb: KnowledgeBase, pack_id: int) -> None:
    import pytesseract

    document = pypdfium2.PdfDocument(render(gather(kb, pack_id, GUEST), "pdf"))
    page = document[1].render(scale=300 / 72).to_pil()
    read = flat(pytesseract.image_to_string(page, lang="eng"))
    assert "Unarmed monitors of the joint commission shall verify" in read, read
    assert "Agreement, 1998-03-14, p. 2" in read, read


def test_without_the_font_package_the_pdf_falls_back_to_latin_1(
    kb: KnowledgeBase, pack_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    export: PackExport = gather(kb, pack_id, GUEST)
    with caplog.at_level(logging.WARNING, logger="kb.packs.pdf"):
        data = render_pdf(export, find_fonts=False)
    assert "font-source-sans-pro is not installed" in caplog.text
    text = text_of_pdf(data)
    assert '"first"' in text and "café" in text and "it's" in text
    assert PASSAGE[:40] in flat(text)
