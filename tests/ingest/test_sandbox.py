"""The bounded parsing worker: same pages as in process, refusals carried over, limits enforced
by killing the worker, and the next file read by a fresh one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from ingest.readers import ReadOptions, read_bytes
from ingest.sandbox import Limits, Sandbox, read_bounded, shared_sandbox
from kb.embedding.embedder import Embedder
from kb.errors import EncryptedError, ParseLimitError
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.conftest import shared_corpus
from tests.docs import make_docx, make_encrypted_pdf, make_image_pdf, make_pdf, write

FILES = {
    "accord.pdf": make_pdf(["Article 1. A ceasefire.", "Article 2. Cantonment."], title="Accord"),
    "accord.docx": make_docx([("h1", "Article 1"), ("p", "Forces withdraw.")], title="Accord"),
    "accord.html": b"<title>Accord</title><h1>Article 1</h1><p>Forces withdraw.</p>",
}
TEXTS = {
    "accord.md": b"# Article 1\n\nForces  withdraw.\fArticle 2. Cantonment.",
    "accord.txt": "Article 1. Forces withdraw \u2013 in\tsafety.".encode("cp1252"),
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(Limits()) as box:
        yield box


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_worker_reads_what_the_reader_reads_in_process(sandbox: Sandbox, name: str) -> None:
    assert sandbox.read(name, FILES[name], ReadOptions()) == read_bytes(name, FILES[name])


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_text_and_markdown_are_read_in_the_bounded_worker_too(tmp_path: Path, name: str) -> None:
    # Limits of their own, so that this test's shared worker is new and did nothing before.
    settings = Settings(store=tmp_path / "store", parse_timeout_seconds=117.0 + len(name))
    worker = shared_sandbox(Limits.from_settings(settings))
    assert worker.last_peak_mb == 0.0

    content = read_bounded(name, TEXTS[name], settings)

    assert content == read_bytes(name, TEXTS[name])
    assert worker.last_peak_mb > 0.0  # the worker's memory was measured: it read the file
    worker.close()


def test_a_refusal_in_the_worker_keeps_its_class_and_reason(sandbox: Sandbox) -> None:
    with pytest.raises(EncryptedError) as caught:
        sandbox.read("locked.pdf", make_encrypted_pdf("s3cret", ["Secret."]), ReadOptions())

    assert caught.value.message == "locked.pdf: the PDF is encrypted and needs a password"


def test_a_worker_over_the_memory_limit_is_killed_and_the_next_file_gets_a_new_one() -> None:
    # Below what the worker itself occupies: the first look at its memory stops it.
    with Sandbox(Limits(memory_mb=30)) as box:
        for _ in range(2):
            with pytest.raises(ParseLimitError) as caught:
                box.read("accord.pdf", FILES["accord.pdf"], ReadOptions())
            assert caught.value.message == (
                "accord.pdf: needed more than 30 MiB to parse (KB_PARSE_MEMORY_MB)"
            )


@pytest.mark.needs("tesseract")  # only OCR renders the bomb's image
def test_a_decompression_bomb_is_refused_within_the_memory_limit() -> None:
    bomb = shared_corpus("pdf-robustness") / "files" / "ocrmypdf__hugemono.pdf"

    with Sandbox(Limits(memory_mb=300)) as box:
        with pytest.raises(ParseLimitError) as caught:
            box.read(bomb.name, bomb.read_bytes(), ReadOptions(ocr=True))
        assert caught.value.reason == "needed more than 300 MiB to parse (KB_PARSE_MEMORY_MB)"
        assert box.read("accord.html", FILES["accord.html"], ReadOptions()).title == "Accord"


@pytest.mark.needs("tesseract")
def test_ingest_refuses_a_file_over_the_time_limit_and_carries_on(
    tmp_path: Path, embedder: Embedder
) -> None:
    # Tesseract needs seconds for these pages; 0.5 s is far too little, far more than the rest.
    settings = Settings(store=tmp_path / "store", parse_timeout_seconds=0.5)
    folder = tmp_path / "inbox"
    write(folder, "slow-scan.pdf", make_image_pdf([["Page of a long scan."]] * 6))
    for name, data in FILES.items():
        write(folder, name.replace("accord", "accord-" + name.split(".")[1]), data)

    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [folder])

    reason = "took longer than 0.5 s to parse (KB_PARSE_TIMEOUT_SECONDS)"
    slow = str(folder / "slow-scan.pdf")
    assert [(o.source, o.reason) for o in report.failed] == [(slow, reason)]
    assert report.counts()["added"] == 3
