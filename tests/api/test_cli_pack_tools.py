"""`kb packs suggest` and `kb packs export`: the JSON contract relied on outside the repo, the
pack filled from suggestions, and files written in each format."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.users import Users
from tests.api.corpus import ALL_IDS, AUREL, DDR
from tests.api.test_cli import ok, ok_json, run, store  # noqa: F401  (the fixture)


def test_suggest_prints_the_contract(store: Path) -> None:  # noqa: F811
    body = ok_json(
        store,
        "packs",
        "suggest",
        "ceasefire monitoring",
        "--filter",
        "region=Aurel Highlands",
        "--limit",
        "2",
    )
    assert list(body) == ["theme", "items"] and body["theme"] == "ceasefire monitoring"
    assert {i["document_id"] for i in body["items"]} == {AUREL, DDR}  # the region filter held
    for item in body["items"]:
        assert {"document_id", "chunk_id", "title", "why"} <= set(item)
        assert isinstance(item["chunk_id"], int) and isinstance(item["title"], str)
        assert item["why"].endswith(".") and "Aurel Highlands" in body["items"][0]["why"]
    dated = ok_json(store, "packs", "suggest", "peace", "--limit", "5", "--order", "chronological")
    dates = [i["date"] for i in dated["items"]]
    assert len(dates) == len(ALL_IDS) and dates == sorted(dates)
    table = ok(store, "packs", "suggest", "ceasefire monitoring", "--limit", "2").stdout
    assert AUREL in table and "why" in table
    assert run(store, "packs", "suggest", "peace", "--order", "alphabetical").exit_code == 2


def test_suggestions_go_into_a_pack_with_their_why(store: Path) -> None:  # noqa: F811
    pack_id = str(ok_json(store, "packs", "create", "Monitoring")["pack_id"])
    body = ok_json(
        store, "packs", "suggest", "ceasefire monitoring", "--limit", "3", "--into", pack_id
    )
    shown = ok_json(store, "packs", "show", pack_id)
    assert [(i["document_id"], i["chunk_id"], i["note"]) for i in shown["items"]] == [
        (i["document_id"], i["chunk_id"], i["why"]) for i in body["items"]
    ]
    missing = run(store, "packs", "suggest", "peace", "--into", "999")
    assert missing.exit_code == 1 and "no pack 999" in str(missing.exception)


def test_export_writes_each_format(store: Path, tmp_path: Path) -> None:  # noqa: F811
    pack_id = str(
        ok_json(store, "packs", "create", "Monitoring", "--audience", "mediators")["pack_id"]
    )
    ok(store, "packs", "add", pack_id, AUREL, "--note", "the agreement")
    for fmt in ("md", "html", "pdf"):
        target = tmp_path / f"pack.{fmt}"
        result = ok(store, "packs", "export", pack_id, "--format", fmt, "-o", str(target))
        assert f"wrote {target}" in result.stdout
        text = (
            " ".join(p.extract_text() for p in PdfReader(target).pages)
            if fmt == "pdf"
            else target.read_text()
        )
        assert "Aurel Highlands Ceasefire Agreement" in text and "the agreement" in text
        assert "mediators" in text and "Bibliography" in text
    printed = ok(store, "packs", "export", pack_id, "--format", "md", "-o", "-").stdout
    assert printed.startswith("# Monitoring")
    assert run(store, "packs", "export", pack_id, "--format", "pdf", "-o", "-").exit_code == 2
    assert run(store, "packs", "export", "999", "-o", str(tmp_path / "x.md")).exit_code == 1
    assert not (tmp_path / "x.md").exists()


def test_export_as_a_user_withholds_what_they_may_not_see(
    store: Path,  # noqa: F811
    embedder: Embedder,
) -> None:
    with Users(Settings(store=store)) as users:
        users.add("pat", "trainer", "internal")
    with KnowledgeBase(Settings(store=store), embedder=embedder) as kb:
        kb.edit(DDR, {"classification": "confidential"}, "test")
    pack_id = str(ok_json(store, "packs", "create", "Mixed")["pack_id"])
    ok(store, "packs", "add", pack_id, AUREL)
    ok(store, "packs", "add", pack_id, DDR)
    text = ok(store, "packs", "export", pack_id, "-o", "-", "--as", "pat").stdout
    assert "Aurel Highlands Ceasefire Agreement" in text
    assert "1 item was withheld" in text and "Reintegration" not in text
