"""Readers: bytes to pages, or an InputError that names the file."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.readers import (
    ReadOptions,
    Record,
    read_bytes,
    read_file,
    read_pdf,
    read_records,
    read_text,
)
from ingest.sandbox import Limits, Sandbox
from kb.errors import (
    CorruptFileError,
    EmptyInputError,
    EncryptedError,
    InputError,
    NoTextLayerError,
    ParseLimitError,
)
from tests.conftest import SHARED, shared_corpus
from tests.docs import (
    make_corrupt_pdf,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_scanned_pdf,
    write,
)
from tests.tools import tool_path

PAGES = [
    "The Parties agree to a ceasefire across the northern provinces.",
    "Cantonment sites shall open within thirty days of signature.",
    "A joint commission shall verify the withdrawal of all forces.",
]


# -- PDF -------------------------------------------------------------------------------


def test_read_pdf_gives_text_per_page_numbered_from_one() -> None:
    content = read_pdf("accord.pdf", make_pdf(PAGES, title="Northern Accord"))

    assert [page.number for page in content.pages] == [1, 2, 3]
    assert [" ".join(page.text.split()) for page in content.pages] == PAGES
    assert content.title == "Northern Accord"


def test_read_pdf_without_a_title_has_none() -> None:
    assert read_pdf("accord.pdf", make_pdf(PAGES[:1])).title is None


def test_read_pdf_opens_an_aes_encrypted_file_with_an_empty_user_password() -> None:
    content = read_pdf("open.pdf", make_encrypted_pdf("", PAGES[:2]))

    assert [" ".join(page.text.split()) for page in content.pages] == PAGES[:2]


def test_read_pdf_refuses_a_password_protected_file_naming_it() -> None:
    with pytest.raises(EncryptedError) as caught:
        read_pdf("locked-accord.pdf", make_encrypted_pdf("s3cret", PAGES))

    assert caught.value.source == "locked-accord.pdf"
    assert caught.value.message.startswith("locked-accord.pdf: ")
    assert "password" in caught.value.reason


def test_read_pdf_refuses_a_scanned_file_naming_it() -> None:
    with pytest.raises(NoTextLayerError) as caught:
        read_pdf("scan.pdf", make_scanned_pdf(3))

    assert caught.value.message.startswith("scan.pdf: ")
    assert "3 page(s)" in caught.value.reason
    assert "OCR" in caught.value.reason


def test_read_pdf_refuses_a_truncated_file() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_pdf("cut.pdf", make_corrupt_pdf())

    assert caught.value.message.startswith("cut.pdf: ")


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_read_pdf_refuses_empty_bytes(data: bytes) -> None:
    with pytest.raises(EmptyInputError) as caught:
        read_pdf("nothing.pdf", data)

    assert caught.value.source == "nothing.pdf"


def test_read_pdf_refuses_bytes_that_are_not_a_pdf() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_pdf("fake.pdf", b"<html><body>404 Not Found</body></html>")

    assert caught.value.message == "fake.pdf: not a PDF (no %PDF header)"


def test_read_pdf_accepts_junk_before_the_header() -> None:
    content = read_pdf("prefixed.pdf", b"\r\n  " + make_pdf(PAGES[:1]))

    assert " ".join(content.pages[0].text.split()) == PAGES[0]


def test_read_pdf_keeps_a_mostly_blank_page_among_pages_with_text() -> None:
    content = read_pdf("mixed.pdf", make_pdf([PAGES[0], " ", PAGES[1]]))

    assert [page.number for page in content.pages] == [1, 2, 3]
    assert content.pages[1].text.strip() == ""


def test_read_bytes_and_read_file_choose_the_reader_by_suffix(tmp_path: Path) -> None:
    pdf = write(tmp_path, "Accord.PDF", make_pdf(PAGES[:1]))
    text = write(tmp_path, "notes.md", "# Notes\n\nSome notes.")

    assert " ".join(read_file(pdf).pages[0].text.split()) == PAGES[0]
    assert read_file(text).pages[0].text == "# Notes\n\nSome notes."
    with pytest.raises(CorruptFileError):
        read_bytes("accord.pdf", b"plain text, not a PDF")


SPACED = "Health partners report damage,  and \u00a0about\t\t40%   of facilities closed.  "
TIDY = "Health partners report damage, and about 40% of facilities closed."


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("spaced.txt", f"{SPACED}\n\n\n\n  {SPACED}\n".encode()),
        ("spaced.md", f"#   Damage\n\n{SPACED}\n".encode()),
        ("spaced.html", f"<h1>Damage</h1><pre>{SPACED}</pre><p>{SPACED}</p>".encode()),
        ("spaced.docx", make_docx([("h1", "Damage"), ("p", SPACED)])),
        ("spaced.pdf", make_pdf([SPACED, SPACED])),
    ],
)
def test_every_reader_gives_pages_with_single_spaces(name: str, data: bytes) -> None:
    content = read_bytes(name, data)

    for page in content.pages:
        assert TIDY in page.text, page.text
        assert not re.search(r"[^\S\n]{2}|\t|\u00a0|\n\n\n| \n|\n ", page.text), page.text


# -- text ------------------------------------------------------------------------------


def test_read_text_splits_pages_at_form_feeds() -> None:
    content = read_text("a.txt", b"First page.\fSecond page.\f\fFourth page.")

    assert [(p.number, p.text) for p in content.pages] == [
        (1, "First page."),
        (2, "Second page."),
        (3, ""),
        (4, "Fourth page."),
    ]
    assert content.title is None


def test_read_text_drops_a_utf8_byte_order_mark() -> None:
    content = read_text("bom.txt", "\ufeffAccord de Lomé".encode())

    assert content.pages[0].text == "Accord de Lomé"


def test_read_text_falls_back_to_windows_1252() -> None:
    data = "Accord de Lomé \u2013 l\u2019accord".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    assert read_text("old.txt", data).pages[0].text == "Accord de Lomé \u2013 l\u2019accord"


def test_read_text_refuses_bytes_that_are_neither_utf8_nor_windows_1252() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_text("odd.txt", b"abc \x81\x8d\x90 def")

    assert caught.value.message.startswith("odd.txt: not UTF-8 or Windows-1252 text")


def test_read_text_normalises_line_endings() -> None:
    content = read_text("crlf.txt", b"Line one\r\nLine two\rLine three")

    assert content.pages[0].text == "Line one\nLine two\nLine three"


def test_read_text_refuses_nul_bytes() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_text("binary.txt", b"PK\x03\x04\x00\x00 word document")

    assert caught.value.message == "binary.txt: binary content in a text file"


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t ", "\ufeff \n".encode(), b"\f\f \f"])
def test_read_text_refuses_whitespace_only(data: bytes) -> None:
    with pytest.raises(EmptyInputError) as caught:
        read_text("blank.md", data)

    assert caught.value.source == "blank.md"


# -- records ---------------------------------------------------------------------------


def jsonl(*lines: object, ending: str = "\n") -> bytes:
    return ending.join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()


def test_read_records_yields_records_and_errors_line_by_line() -> None:
    data = jsonl(
        {"_id": "d1", "title": "Accord", "text": "Forces withdraw.", "metadata": {"year": 1998}},
        "{not json",
        {"title": "No id", "text": "Orphan text."},
        {"_id": "d4", "title": "", "text": "   "},
        {"_id": 5, "text": "Numbered id."},
    )

    items = list(read_records("corpus.jsonl", data))

    assert items[0] == Record("d1", "Accord", "Forces withdraw.", {"year": 1998})
    assert isinstance(items[1], CorruptFileError)
    assert items[1].source == "corpus.jsonl line 2"
    assert "not valid JSON" in items[1].reason
    assert isinstance(items[2], CorruptFileError)
    assert items[2].message == 'corpus.jsonl line 3: a record needs an "_id"'
    assert isinstance(items[3], EmptyInputError)
    assert items[3].message.startswith("corpus.jsonl line 4: ")
    assert items[4] == Record("5", "", "Numbered id.", {})
    assert len(items) == 5


def test_read_records_skips_blank_lines_but_keeps_line_numbers() -> None:
    data = jsonl({"_id": "a", "text": "One."}, "", "   ", "[1, 2]")

    items = list(read_records("c.jsonl", data))

    assert len(items) == 2
    assert isinstance(items[1], InputError)
    assert items[1].source == "c.jsonl line 4"


def test_read_records_accepts_crlf_line_endings() -> None:
    data = jsonl({"_id": "a", "text": "One."}, {"_id": "b", "text": "Two."}, "oops", ending="\r\n")

    items = list(read_records("c.jsonl", data))

    assert items[:2] == [Record("a", "", "One.", {}), Record("b", "", "Two.", {})]
    assert isinstance(items[2], CorruptFileError) and items[2].source == "c.jsonl line 3"


def test_read_records_refuses_non_string_text() -> None:
    (item,) = read_records("c.jsonl", jsonl({"_id": "a", "text": ["not", "a", "string"]}))

    assert isinstance(item, CorruptFileError)
    assert item.message == 'c.jsonl line 1: "title" and "text" must be strings'


def test_read_records_keeps_a_record_whose_text_holds_a_unicode_line_separator() -> None:
    record = {"_id": "a", "title": "T", "text": "Article 1.\u2028Article 2.\x85Article 3."}
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode()

    items = list(read_records("c.jsonl", data))

    assert items == [Record("a", "T", "Article 1.\u2028Article 2.\x85Article 3.", {})]


# -- hostile input: the pdf-robustness corpus ------------------------------------------

MANIFEST = SHARED / "pdf-robustness" / "manifest.csv"


def manifest_rows() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return [{"file": "files/absent.pdf"}]  # the test skips, naming the corpus
    with MANIFEST.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def hostile_pdfs(long: bool = True) -> list[object]:
    """One parameter per manifest row; the long documents (seconds each) marked slow, or
    left out when `long` is false."""
    return [
        pytest.param(
            row,
            id=Path(row["file"]).name,
            marks=[pytest.mark.slow] if int(row.get("pypdf_pages") or 0) >= 10 else [],
        )
        for row in manifest_rows()
        if long or int(row.get("pypdf_pages") or 0) < 10
    ]


def expected_outcome(row: dict[str, str]) -> type[InputError] | str | None:
    """What the manifest's pypdf probe makes unambiguous: an error class, "text", or None."""
    tags = row["tags"]
    error = row["pypdf_error"]
    chars = int(row["pypdf_text_chars_first30p"] or 0)
    pages = int(row["pypdf_pages"] or 0)
    if error.startswith("FileNotDecryptedError") or "needs-password" in tags:
        return EncryptedError
    if error.startswith("PdfReadError"):
        return CorruptFileError
    if "no-text-layer" in tags or (not error and pages and chars == 0):
        return NoTextLayerError
    if pages and chars >= 30 * min(pages, 30):  # plenty on every page, on average
        return "text"
    return None


# The long documents are read through the worker below, the same reader on the same bytes.
@pytest.mark.parametrize("row", hostile_pdfs(long=False))
def test_read_pdf_reads_or_refuses_every_hostile_pdf(row: dict[str, str]) -> None:
    path = shared_corpus("pdf-robustness") / row["file"]
    expected = expected_outcome(row)

    try:
        content = read_pdf(path.name, path.read_bytes())
    except InputError as exc:
        assert exc.message.startswith(f"{path.name}: ")
        assert exc.source == path.name
        if expected is not None:
            assert type(exc) is expected, exc.message
        return
    assert expected in (None, "text"), f"read although the manifest says {expected}"
    assert [p.number for p in content.pages] == list(range(1, len(content.pages) + 1))
    assert any(len(p.text.strip()) >= 20 for p in content.pages)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits(timeout_seconds=120, memory_mb=1024)) as box:
        yield box


@pytest.mark.parametrize("row", hostile_pdfs())
def test_every_hostile_pdf_is_read_or_refused_within_bounds_with_ocr(
    row: dict[str, str], sandbox: Sandbox
) -> None:
    """Through the bounded worker, OCR on (KB_OCR=auto, the default): where Tesseract is,
    scans may now be read; where it is not, they are refused saying how to install it. A file
    over the limits is refused as such; the worker carries on with the next file."""
    path = shared_corpus("pdf-robustness") / row["file"]
    expected = expected_outcome(row)

    try:
        content = sandbox.read(path.name, path.read_bytes(), ReadOptions(ocr=True))
    except InputError as exc:
        assert exc.message.startswith(f"{path.name}: ")
        if expected in (EncryptedError, CorruptFileError, NoTextLayerError):
            assert type(exc) in (expected, ParseLimitError), exc.message
        if type(exc) is NoTextLayerError and tool_path("tesseract") is None:
            assert "apt-get install tesseract-ocr" in exc.reason, exc.reason
        return
    assert expected not in (EncryptedError, CorruptFileError), f"read, expected {expected}"
    assert [p.number for p in content.pages] == list(range(1, len(content.pages) + 1))
    assert any(len(p.text.strip()) >= 20 for p in content.pages)
    if expected is NoTextLayerError:
        assert any(p.ocr for p in content.pages), "a scan read without OCR"


@pytest.mark.needs("tesseract")
def test_a_scanned_two_column_page_of_the_corpus_is_ocrd_into_searchable_words(
    sandbox: Sandbox,
) -> None:
    path = shared_corpus("pdf-robustness") / "files" / "ocrmypdf__linn.pdf"

    (page,) = sandbox.read(path.name, path.read_bytes(), ReadOptions(ocr=True)).pages

    assert page.ocr and len(page.text.split()) > 100


def test_the_manifest_decides_most_hostile_pdfs() -> None:
    """Guard the oracle above: most files must have an unambiguous expectation."""
    shared_corpus("pdf-robustness")
    outcomes = [expected_outcome(row) for row in manifest_rows()]

    assert outcomes.count(EncryptedError) >= 5
    assert outcomes.count(CorruptFileError) >= 2
    assert outcomes.count(NoTextLayerError) >= 10
    assert outcomes.count("text") >= 15


def test_an_encrypted_pdf_with_an_empty_owner_password_opens() -> None:
    """r6-user-password.pdf has a user password but an empty owner password: pypdf's
    decrypt("") matches the owner password, so it opens like an unprotected file."""
    path = shared_corpus("pdf-robustness") / "files" / "pypdf__r6-user-password.pdf"

    content = read_pdf(path.name, path.read_bytes())

    assert len(content.pages) == 1 and content.pages[0].text.strip()


def test_an_encrypted_pdf_with_an_empty_user_password_is_not_refused_as_encrypted() -> None:
    folder = shared_corpus("pdf-robustness") / "files"

    content = read_pdf("r6.pdf", (folder / "pypdf__r6-empty-password.pdf").read_bytes())

    assert content.pages[0].text.strip()


def test_running_page_number_footers_are_not_text() -> None:
    data = make_pdf(
        [
            "Article 1. The ceasefire holds.\nPage 1 of 2",
            "Article 2. In 2001 the parties met.\n- 2 -",
        ]
    )
    pages = read_pdf("footers.pdf", data).pages
    assert "Page 1 of 2" not in pages[0].text and "The ceasefire holds." in pages[0].text
    assert "- 2 -" not in pages[1].text and "In 2001 the parties met." in pages[1].text
