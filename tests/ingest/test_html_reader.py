"""HTML pages: headings, title, what is dropped, encodings."""

from __future__ import annotations

import pytest

from ingest.chunking import chunk_pages
from ingest.html_reader import read_html
from kb.errors import CorruptFileError, EmptyInputError

PAGE = b"""<!DOCTYPE html><html><head><title>Lom\xc3\xa9 Accord | Archive</title>
<meta charset="utf-8"><script>var tracking = "ceasefire";</script><style>p {}</style></head>
<body><nav><a href="/">Home</a> | <a href="/about">About us</a></nav>
<h1>The  Lom\xc3\xa9
   Accord</h1><p>The Parties
   agree to a   ceasefire.<br>It starts at noon.</p><!-- an editor's note -->
<h2>Article 2</h2><div>Refugees return voluntarily.</div><p># 1 priority: the wounded.</p>
<table><tr><th>Site</th><th>Capacity</th></tr><tr><td>Kenema</td><td>500</td></tr></table>
<form><input name="q"><button>Search</button></form></body></html>"""


def test_read_html_keeps_text_and_headings_and_drops_scripts_styles_navigation() -> None:
    content = read_html("accord.html", PAGE)

    assert content.title == "Lomé Accord | Archive"
    assert content.pages[0].text == (
        "# The Lomé Accord\n\n"
        "The Parties agree to a ceasefire.\nIt starts at noon.\n\n"
        "## Article 2\n\n"
        "Refugees return voluntarily.\n\n"
        "1 priority: the wounded.\n\n"
        "Site | Capacity\n\nKenema | 500"
    )


def test_the_chunker_uses_html_headings() -> None:
    chunks = chunk_pages(read_html("accord.html", PAGE).pages)

    assert [c.heading for c in chunks] == ["The Lomé Accord", "Article 2"]
    assert chunks[0].text == "The Parties agree to a ceasefire. It starts at noon."


def test_read_html_takes_the_first_h1_without_a_title_and_honours_a_declared_charset() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><h1>Accord de Lomé</h1>'
    content = read_html("lome.htm", (page + "<p>Texte.</p></body></html>").encode("cp1252"))

    assert content.title == "Accord de Lomé"
    assert content.pages[0].text == "# Accord de Lomé\n\nTexte."


@pytest.mark.parametrize(
    "data", [b"", b"  \n", b"<html><script>x()</script><nav>Home</nav></html>"]
)
def test_read_html_refuses_a_page_without_text(data: bytes) -> None:
    with pytest.raises(EmptyInputError) as caught:
        read_html("blank.html", data)

    assert caught.value.source == "blank.html"


def test_read_html_refuses_binary_content() -> None:
    with pytest.raises(CorruptFileError) as caught:
        read_html("photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    assert caught.value.message == "photo.html: binary content in an HTML file"


SUBSETS = [
    b'<!DOCTYPE html [ <!ENTITY org "the Commission"> <!ELEMENT note ANY> ]>\n'
    b"<html><body><p>Refugees return voluntarily.</p></body></html>",
    b'<?xml version="1.0" encoding="utf-8"?>\n<!-- exported -->\n'
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "xhtml1-strict.dtd" [\n'
    b'  <!ENTITY bracket "]>">\n  <!ATTLIST p id ID #IMPLIED>\n]>\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Refugees return voluntarily.</p>'
    b"</body></html>",
    "<!DOCTYPE x [ <!ENTITY a '<p>injected</p>'> ]><p>Refugees return voluntarily.</p>".encode(
        "utf-16"
    ),
]


@pytest.mark.parametrize("data", SUBSETS)
def test_an_internal_dtd_subset_leaves_nothing_in_the_text(data: bytes) -> None:
    text = read_html("entities.xhtml", data).pages[0].text

    assert text == "Refugees return voluntarily."


def test_a_doctype_inside_the_body_is_left_to_the_parser() -> None:
    # Only the prolog's DOCTYPE is cut: text that merely looks like one is kept as text.
    data = b"<p>Write &lt;!DOCTYPE x [ ]&gt; at the top.</p>"
    assert read_html("howto.html", data).pages[0].text == "Write <!DOCTYPE x [ ]> at the top."
