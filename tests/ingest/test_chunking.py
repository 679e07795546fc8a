"""`chunk_pages`: pages in, passages out, with their pages, headings and character spans."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from ingest.chunking import PAGE_SEPARATOR, Page, chunk_pages, clean, document_text, heading_of
from kb.models import ChunkDraft

VOCABULARY = (
    "parties agree forces withdraw monitoring ceasefire mission civilians shall the of to and "
    "camps weapons elections refugees return commission verify report lasting peace border "
    "government rebels talks mediators guarantee amnesty prisoners release schedule transition"
).split()


def sentence(rng: random.Random, words: int) -> str:
    body = [rng.choice(VOCABULARY) for _ in range(words)]
    return " ".join([body[0].capitalize(), *body[1:]]) + "."


def numbered(prefix: str, count: int) -> str:
    """One sentence of `count` distinct words: Prefix0 prefix1 ... prefixN."""
    return " ".join([f"{prefix.capitalize()}0", *(f"{prefix}{i}" for i in range(1, count))]) + "."


def words_of(chunk: ChunkDraft) -> int:
    return len(chunk.text.split())


def page_at(text: str, offset: int) -> int:
    return text.count(PAGE_SEPARATOR, 0, offset) + 1


# -- pages -----------------------------------------------------------------------------


def test_text_on_page_two_gets_page_two() -> None:
    pages = [
        Page(1, "# One\n\nThe mission opened in Kigali."),
        Page(2, "# Two\n\nThe camps closed in May."),
    ]

    chunks = chunk_pages(pages)

    assert [(c.text, c.page_start, c.page_end) for c in chunks] == [
        ("The mission opened in Kigali.", 1, 1),
        ("The camps closed in May.", 2, 2),
    ]


def test_a_chunk_can_span_two_pages() -> None:
    pages = [Page(1, "The talks began in Arusha."), Page(2, "They ended in Lusaka.")]

    (chunk,) = chunk_pages(pages)

    assert (chunk.page_start, chunk.page_end) == (1, 2)
    assert chunk.text == "The talks began in Arusha.\n\nThey ended in Lusaka."


def test_empty_pages_produce_no_chunks() -> None:
    assert chunk_pages([Page(1, ""), Page(2, "   \n\n \t \n")]) == ()
    assert chunk_pages([]) == ()


def test_an_empty_page_between_two_keeps_the_page_numbers() -> None:
    pages = [
        Page(1, "# First\n\nOn the first page."),
        Page(2, ""),
        Page(3, "# Third\n\nOn the third page."),
    ]

    chunks = chunk_pages(pages)

    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 1), (3, 3)]


# -- headings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("# Preamble", "Preamble"),
        ("### 2.1 Background ###", "2.1 Background"),
        ("ARTICLE 3 - CANTONMENT", "ARTICLE 3 - CANTONMENT"),
        ("Chapter IV", "Chapter IV"),
        ("Annex B", "Annex B"),
        ("3. Findings", "3. Findings"),
        ("2.4 Lessons learned", "2.4 Lessons learned"),
        ("GENERAL PROVISIONS", "GENERAL PROVISIONS"),
    ],
)
def test_heading_forms_are_recognised(line: str, heading: str) -> None:
    assert heading_of(line, "", "The Parties agree.") == heading


@pytest.mark.parametrize(
    ("line", "previous", "following"),
    [
        ("1. The Parties agree", "", "that all forces withdraw."),  # wrapped numbered paragraph
        ("ARTICLE 3 - CANTONMENT", "the forces named in", "Shall assemble."),  # mid-sentence
        ("The Parties agree that all forces withdraw.", "", ""),  # a sentence
        ("3. Findings,", "", ""),  # ends like body text
        ("- GENERAL PROVISIONS", "", ""),  # a bullet
        ("UN", "", ""),  # too few capitals to be a title
        ("", "", ""),
    ],
)
def test_body_lines_are_not_headings(line: str, previous: str, following: str) -> None:
    assert heading_of(line, previous, following) is None


def test_headings_label_their_chunks() -> None:
    text = (
        "# Preamble\n\nThe Parties met in Arusha.\n\n"
        "ARTICLE 3 - CANTONMENT\nAll forces shall assemble in camps.\n\n"
        "3. Findings\nThe mission found gaps.\n\n"
        "GENERAL PROVISIONS\nThis applies to all."
    )

    chunks = chunk_pages([Page(1, text)])

    assert [(c.heading, c.text) for c in chunks] == [
        ("Preamble", "The Parties met in Arusha."),
        ("ARTICLE 3 - CANTONMENT", "All forces shall assemble in camps."),
        ("3. Findings", "The mission found gaps."),
        ("GENERAL PROVISIONS", "This applies to all."),
    ]


def test_text_before_any_heading_has_no_heading() -> None:
    (first, second) = chunk_pages([Page(1, "An opening line.\n\n# Scope\n\nA scoped line.")])

    assert (first.heading, first.text) == (None, "An opening line.")
    assert (second.heading, second.text) == ("Scope", "A scoped line.")


def test_a_heading_carries_over_to_the_next_page() -> None:
    pages = [
        Page(1, "ARTICLE 2 - DISARMAMENT\nWeapons are handed in."),
        Page(2, "Camps close after."),
    ]

    (chunk,) = chunk_pages(pages)

    assert chunk.heading == "ARTICLE 2 - DISARMAMENT"
    assert (chunk.page_start, chunk.page_end) == (1, 2)


def test_a_chunk_never_crosses_a_heading_even_when_both_sections_fit() -> None:
    text = "# A\n\nShort one.\n\n# B\n\nShort two."

    chunks = chunk_pages([Page(1, text)], chunk_words=150, overlap_words=25)

    assert [(c.heading, c.text) for c in chunks] == [("A", "Short one."), ("B", "Short two.")]


def test_wrapped_numbered_paragraph_is_body_text_not_a_heading() -> None:
    text = (
        "# Terms\n\n1. The Parties agree\nthat all forces withdraw.\n\n"
        "2. Demobilisation\nshall follow."
    )

    chunks = chunk_pages([Page(1, text)])

    assert [(c.heading, c.text) for c in chunks] == [
        (
            "Terms",
            "1. The Parties agree that all forces withdraw.\n\n2. Demobilisation shall follow.",
        ),
    ]


def test_wrapped_line_starting_with_an_article_reference_is_body_text() -> None:
    text = "The guarantees set out in\nArticle 5 of the Lome Accord\nremain in force."

    (chunk,) = chunk_pages([Page(1, text)])

    assert chunk.heading is None
    assert chunk.text == "The guarantees set out in Article 5 of the Lome Accord remain in force."


# -- cleaning --------------------------------------------------------------------------


def test_clean_mends_a_word_hyphenated_across_a_line_break() -> None:
    assert clean("the with-\ndrawal of all forces") == "the withdrawal of all forces"
    assert clean("demobi-\n   lisation") == "demobilisation"


def test_clean_keeps_hyphens_inside_a_line_and_collapses_whitespace() -> None:
    assert clean("  a cease-fire\n\tin  the   north  ") == "a cease-fire in the north"


def test_hyphenation_is_mended_in_chunk_text() -> None:
    (chunk,) = chunk_pages([Page(1, "The forces shall begin with-\ndrawal at once.")])

    assert chunk.text == "The forces shall begin withdrawal at once."


# -- size and overlap ------------------------------------------------------------------


def test_chunks_are_cut_at_sentence_boundaries_within_the_word_limit() -> None:
    text = " ".join(numbered(f"s{n}w", 8) for n in range(10))  # 10 sentences of 8 words

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=0)

    assert [words_of(c) for c in chunks] == [16, 16, 16, 16, 16]
    assert all(c.text.endswith(".") for c in chunks)


def test_a_sentence_longer_than_a_chunk_is_cut_by_words() -> None:
    text = numbered("w", 45)

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=0)

    assert [words_of(c) for c in chunks] == [20, 20, 5]
    assert " ".join(c.text for c in chunks) == text


def test_overlap_never_pushes_a_chunk_over_the_word_limit() -> None:
    text = f"{numbered('a', 10)} {numbered('b', 4)} {numbered('c', 18)}"

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=5)

    assert max(words_of(c) for c in chunks) <= 20


def test_consecutive_chunks_of_a_section_share_a_sentence_with_overlap() -> None:
    text = " ".join(numbered(f"s{n}w", 8) for n in range(6))

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=10)

    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert after.text.startswith(last_sentence)
        assert after.char_start < before.char_end


def test_consecutive_chunks_share_nothing_without_overlap() -> None:
    text = " ".join(numbered(f"s{n}w", 8) for n in range(6))

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=0)

    assert len(chunks) == 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert set(before.text.split()).isdisjoint(after.text.split())
        assert after.char_start > before.char_end


def test_overlap_never_carries_text_across_a_heading() -> None:
    first = " ".join(numbered(f"s{n}w", 8) for n in range(3))
    text = f"# One\n\n{first}\n\n# Two\n\n{numbered('t', 8)}"

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=10)

    assert chunks[-1].heading == "Two"
    assert chunks[-1].text == numbered("t", 8)


def test_overlap_then_a_heading_adds_no_chunk_of_repeated_text() -> None:
    section = f"{numbered('a', 5)} {numbered('b', 5)} {numbered('c', 12)}"
    text = f"# One\n\n{section}\n\n# Two\n\n{numbered('d', 3)}"

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=15)

    assert [(c.heading, c.text) for c in chunks] == [
        ("One", f"{numbered('a', 5)} {numbered('b', 5)}"),
        ("One", f"{numbered('b', 5)} {numbered('c', 12)}"),
        ("Two", numbered("d", 3)),
    ]


# -- spans -----------------------------------------------------------------------------


def test_char_spans_point_into_the_document_text() -> None:
    pages = [
        Page(1, "# Preamble\n\nThe Parties met in Arusha. They agreed to talk."),
        Page(2, "ARTICLE 1 - CEASEFIRE\nFighting stops at dawn.\n\nMonitors deploy within days."),
    ]
    text = document_text(pages)

    chunks = chunk_pages(pages, chunk_words=6, overlap_words=0)

    assert len(chunks) >= 3
    for chunk in chunks:
        span = text[chunk.char_start : chunk.char_end]
        words = chunk.text.split()
        assert span.startswith(words[0])
        assert span.endswith(words[-1])


def test_document_text_joins_pages_with_a_form_feed() -> None:
    assert document_text([Page(1, "one"), Page(2, ""), Page(3, "three")]) == "one\f\fthree"


def test_ordinals_count_from_zero() -> None:
    text = " ".join(numbered(f"s{n}w", 8) for n in range(9))

    chunks = chunk_pages([Page(1, text)], chunk_words=20, overlap_words=5)

    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len(chunks) > 3


def test_closing_quotes_and_brackets_after_a_full_stop_are_kept() -> None:
    text = 'The envoy said "Stop the shelling." Talks resumed (see Annex 2.) The Parties signed.'

    (chunk,) = chunk_pages([Page(1, text)])

    assert chunk.text == text


# -- invariants over generated documents -----------------------------------------------


def generate(seed: int) -> tuple[list[Page], list[str], list[tuple[int, str]]]:
    """Pages of wrapped paragraphs and headings; the sentences; (offset, heading) pairs."""
    rng = random.Random(seed)
    pages: list[Page] = []
    sentences: list[str] = []
    headings: list[tuple[int, str]] = []
    offset = 0
    for number in range(1, rng.randint(1, 4) + 1):
        blocks: list[str] = []
        position = 0
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.3:
                title = rng.choice(
                    [
                        f"# Part {rng.randint(1, 9)} notes",
                        f"ARTICLE {rng.randint(1, 40)} - CANTONMENT",
                        f"{rng.randint(1, 9)}. Findings",
                        "GENERAL PROVISIONS",
                    ]
                )
                heading = title.removeprefix("# ")
                headings.append((offset + position, heading))
                block = f"{title}\n{sentence(rng, 5)}" if rng.random() < 0.5 else title
                if block != title:
                    sentences.append(block.split("\n", 1)[1])
            else:
                said = [sentence(rng, rng.randint(3, 30)) for _ in range(rng.randint(1, 5))]
                sentences.extend(said)
                words = " ".join(said).split()
                lines, width = [], rng.randint(6, 14)
                for first in range(0, len(words), width):
                    lines.append(" ".join(words[first : first + width]))
                block = "\n".join(lines)
            blocks.append(block)
            position += len(block) + 2
        text = "\n\n".join(blocks)
        pages.append(Page(number, text))
        offset += len(text) + 1
    return pages, sentences, headings


@pytest.mark.parametrize("overlap_words", [0, 10])
@pytest.mark.parametrize("seed", range(12))
def test_invariants_hold_for_generated_documents(seed: int, overlap_words: int) -> None:
    pages, sentences, headings = generate(seed)
    text = document_text(pages)
    chunk_words = 40

    chunks = chunk_pages(pages, chunk_words=chunk_words, overlap_words=overlap_words)

    check_invariants(chunks, text, sentences, headings)
    if overlap_words == 0:
        assert all(words_of(c) <= chunk_words for c in chunks)
        assert all(a.char_end < b.char_start for a, b in zip(chunks, chunks[1:], strict=False))


def check_invariants(
    chunks: Sequence[ChunkDraft], text: str, sentences: list[str], headings: list[tuple[int, str]]
) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text.strip() == chunk.text and chunk.text
        assert 0 <= chunk.char_start < chunk.char_end <= len(text)
        span = text[chunk.char_start : chunk.char_end]
        assert span.startswith(chunk.text.split()[0]) and span.endswith(chunk.text.split()[-1])
        assert chunk.page_start == page_at(text, chunk.char_start)
        assert chunk.page_end == page_at(text, chunk.char_end - 1)
        earlier = [h for at, h in headings if at < chunk.char_start]
        assert chunk.heading == (earlier[-1] if earlier else None)
        assert not any(chunk.char_start < at < chunk.char_end for at, _ in headings)
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert following.text not in previous.text  # every passage brings something new
    for said in sentences:
        assert any(said in c.text for c in chunks), f"lost: {said!r}"


def test_the_generator_makes_documents_worth_checking() -> None:
    """The property test above is only as good as its inputs: they must have headings,
    several pages and more text than one chunk holds."""
    documents = [generate(seed) for seed in range(12)]

    assert sum(len(h) for _, _, h in documents) >= 10
    assert any(len(p) >= 3 for p, _, _ in documents)
    assert max(len(chunk_pages(p, 40, 0)) for p, _, _ in documents) >= 5
