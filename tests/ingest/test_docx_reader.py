"""Word files made with python-docx: headings, tables, pages, refusals."""

from __future__ import annotations

import pytest

from ingest.chunking import chunk_pages
from ingest.docx_reader import read_docx
from kb.errors import CorruptFileError, EmptyInputError, EncryptedError
from tests.docs import make_docx


def test_read_docx_gives_headings_as_markdown_paragraphs_and_table_rows() -> None:
    content = read_docx(
        "accord.docx",
        make_docx(
            [
                ("title", "Lomé Peace Accord"),
                ("h1", "Article 1: Ceasefire"),
                ("p", "The Parties agree to a ceasefire across the northern provinces."),
                ("h2", "Cantonment"),
                ("table", "Site|Capacity;Kenema|500"),
            ],
            title="Lomé Accord (signed)",
        ),
    )

    assert content.title == "Lomé Accord (signed)"
    assert content.pages[0].text.split("\n\n") == [
        "# Lomé Peace Accord",
        "# Article 1: Ceasefire",
        "The Parties agree to a ceasefire across the northern provinces.",
        "## Cantonment",
        "Site | Capacity",
        "Kenema | 500",
    ]


def test_the_chunker_keeps_word_headings_and_hard_page_breaks_number_pages() -> None:
    content = read_docx(
        "accord.docx",
        make_docx(
            [
                ("h1", "Article 1"),
                ("p", "Forces withdraw to the cantonment sites."),
                ("break", ""),
                ("h1", "Article 2"),
                ("p", "# Refugees return voluntarily, a body line despite its hash."),
            ]
        ),
    )

    chunks = chunk_pages(content.pages)

    assert [(c.heading, c.page_start, c.text) for c in chunks] == [
        ("Article 1", 1, "Forces withdraw to the cantonment sites."),
        ("Article 2", 2, "Refugees return voluntarily, a body line despite its hash."),
    ]
    assert content.title is None


def test_read_docx_refuses_a_zip_that_is_not_a_word_file() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_docx("minutes.docx", b"PK\x03\x04 not really a document")

    assert caught.value.message.startswith("minutes.docx: not a readable .docx file")


def test_read_docx_refuses_an_old_binary_doc_and_an_encrypted_file() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    with pytest.raises(CorruptFileError) as old:
        read_docx("old.docx", ole + b"WordDocument")
    with pytest.raises(EncryptedError) as locked:
        read_docx("locked.docx", ole + "EncryptedPackage".encode("utf-16-le"))

    assert "old binary Word (.doc)" in old.value.reason
    assert locked.value.message == "locked.docx: the Word file is encrypted and needs a password"


def test_read_docx_refuses_a_document_without_text() -> None:
    with pytest.raises(EmptyInputError):
        read_docx("blank.docx", make_docx([("p", "   ")]))
    with pytest.raises(EmptyInputError):
        read_docx("nothing.docx", b"")
