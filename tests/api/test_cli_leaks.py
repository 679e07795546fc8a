"""The leak matrix on the command line: `kb search|list|show|similar --as NAME` show each
user exactly the documents they may see, and a hidden document is refused exactly like a
missing one. Every command with `--as` must be covered here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from api.cli import cli
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.api.leak_corpus import (
    BY_NAME,
    DOCS,
    LIVE,
    MISSING,
    PEOPLE,
    Person,
    assert_no_trace,
    build,
    near_ids,
    relation_ends,
)

ENV = {"COLUMNS": "1000", "HF_HUB_OFFLINE": "1", "KB_STORE": None}
COVERED = {
    "search",
    "list",
    "show",
    "similar",
    "packs show",
    "packs list",
    "packs suggest",
    "packs export",
    "facets",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli-leaks")
    settings, kb, _ = build(root, embedder)
    kb.close()
    yield settings.store


def run(store: Path, person: Person, *args: str) -> Result:
    return CliRunner(env=ENV).invoke(cli, ["--store", str(store), *args, "--as", person.name])


def ok_json(store: Path, person: Person, *args: str) -> Any:
    result = run(store, person, *args, "--json")
    assert result.exit_code == 0, (person.name, args, result.output, result.exception)
    body = json.loads(result.stdout)
    assert_no_trace(person, body)
    return body


def commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_acting_as_a_user_is_covered() -> None:
    acting = {
        name
        for name, command in commands(cli)
        if any(isinstance(p, click.Option) and "--as" in p.opts for p in command.params)
    }
    assert acting == COVERED, "a command with --as must be added to the CLI leak matrix"


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_list_and_search_show_exactly_what_a_user_may_see(store: Path, name: str) -> None:
    person = BY_NAME[name]
    visible = person.visible()
    listing = ok_json(store, person, "list", "--limit", "100")
    assert listing["total"] == len(visible)
    assert {d["document_id"] for d in listing["items"]} == visible
    # Every secret word at once (keyword search is an OR): hits are exactly the visible ones.
    secrets = " ".join(d.secret for d in DOCS)
    found = ok_json(store, person, "search", secrets, "--mode", "keyword", "--limit", "100")
    assert {r["document_id"] for r in found["results"]} == visible
    assert found["total"] == len(visible)
    hybrid = ok_json(store, person, "search", "ceasefire monitors", "--limit", "100")
    assert {r["document_id"] for r in hybrid["results"]} == visible
    assert hybrid["total"] == len(visible)
    # The tables, too.
    for args in (("list",), ("search", secrets, "--mode", "keyword")):
        result = run(store, person, *args)
        assert result.exit_code == 0, result.output
        assert_no_trace(person, result.output.replace(secrets, ""))


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_show_and_similar_answer_a_hidden_document_like_a_missing_one(
    store: Path, name: str
) -> None:
    person = BY_NAME[name]
    visible = person.visible()
    missing = {command: run(store, person, command, MISSING) for command in ("show", "similar")}
    for doc in LIVE:
        if doc.document_id in visible:
            shown = ok_json(store, person, "show", doc.document_id)
            assert shown["title"] == doc.title
            assert {r["document_id"] for r in shown["relations"]} == relation_ends(
                person, doc.document_id
            )
            assert shown["near_duplicates"] == near_ids(person, doc)
            if doc.document_id == "open-accord":  # one similar per user keeps this quick
                similar = ok_json(store, person, "similar", doc.document_id, "--limit", "100")
                assert {r["document_id"] for r in similar["results"]} == visible - {"open-accord"}
            continue
        for command in ("show", "similar"):
            result = run(store, person, command, doc.document_id)
            assert result.exit_code == missing[command].exit_code != 0, result.output
            assert result.output == missing[command].output.replace(MISSING, doc.document_id)
            assert_no_trace(person, result.output, echoed=doc.document_id)


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_a_pack_shows_only_what_a_user_may_see(store: Path, embedder: Embedder, name: str) -> None:
    with KnowledgeBase(Settings(store=store), embedder=embedder) as kb:
        existing = [p for p in kb.packs() if p.title == "Everything"]
        if existing:
            pack_id = existing[0].pack_id
        else:
            pack_id = kb.create_pack("Everything", "max").pack_id
            for document_id in sorted(d.document_id for d in LIVE):
                kb.add_to_pack(pack_id, document_id, note=f"read {document_id}")
    person = BY_NAME[name]
    shown = ok_json(store, person, "packs", "show", str(pack_id))
    visible = person.visible()
    assert [i["document_id"] for i in shown["items"]] == sorted(visible)
    assert shown["withheld"] == len(LIVE) - len(visible)
    (listed,) = [p for p in ok_json(store, person, "packs", "list") if p["pack_id"] == pack_id]
    assert (listed["item_count"], listed["withheld"]) == (len(visible), shown["withheld"])


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_facets_count_only_what_a_user_may_see(store: Path, name: str) -> None:
    person = BY_NAME[name]
    visible = [d for d in LIVE if d.document_id in person.visible()]
    body = ok_json(store, person, "facets")
    assert body["total"] == len(visible)
    regions = {v["value"]: v["count"] for v in body["facets"]["region"]}
    assert regions == {d.region: 1 for d in visible}
    levels = {v["value"]: v["count"] for v in body["facets"]["classification"]}
    assert sum(levels.values()) == len(visible)


@pytest.mark.parametrize("name", [p.name for p in PEOPLE])
def test_suggestions_and_exports_hold_only_what_a_user_may_see(
    store: Path, embedder: Embedder, name: str
) -> None:
    person = BY_NAME[name]
    suggested = ok_json(store, person, "packs", "suggest", "ceasefire monitors", "--limit", "50")
    assert {i["document_id"] for i in suggested["items"]} == person.visible()
    table = run(store, person, "packs", "suggest", "ceasefire monitors", "--limit", "50")
    assert table.exit_code == 0 and table.stdout
    assert_no_trace(person, table.output)
    with KnowledgeBase(Settings(store=store), embedder=embedder) as kb:
        existing = [p.pack_id for p in kb.packs() if p.title == "All of it"]
        pack_id = existing[0] if existing else kb.create_pack("All of it", "max").pack_id
        if not existing:
            for doc in LIVE:
                kb.add_to_pack(pack_id, doc.document_id, note=f"read {doc.codename}")
    exported = run(store, person, "packs", "export", str(pack_id), "--format", "md", "-o", "-")
    assert exported.exit_code == 0, exported.output
    assert_no_trace(person, exported.stdout)
    assert all((d.title in exported.stdout) == person.sees(d) for d in LIVE)
