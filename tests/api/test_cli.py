"""The `kb` command: in-process with CliRunner, and the installed console script end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from api.cli import cli, main
from ingest.pipeline import ingest_paths
from kb.embedding.backends import make_embedder
from kb.embedding.embedder import Embedder
from kb.errors import NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.settings import DEFAULT_MODEL, Settings
from tests.api.contract import assert_search_shape, ids
from tests.api.corpus import ALL_IDS, AUREL, COASTAL, DDR, NEWEST_FIRST, write_corpus
from tests.docs import make_corrupt_pdf, make_encrypted_pdf, make_scanned_pdf, write

KB = Path(sys.executable).parent / "kb"
# A wide console, so rich never folds a long tmp path across lines.
ENV = {"COLUMNS": "1000", "HF_HUB_OFFLINE": "1", "KB_STORE": None}


def run(store: Path, *args: str) -> Result:
    return CliRunner(env=ENV).invoke(cli, ["--store", str(store), *args])


def ok(store: Path, *args: str) -> Result:
    result = run(store, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def ok_json(store: Path, *args: str) -> Any:
    return json.loads(ok(store, *args, "--json").stdout)


@pytest.fixture
def store(tmp_path: Path, embedder: Embedder) -> Path:
    """A store folder holding the corpus (built with the session's model, then closed)."""
    settings = Settings(store=tmp_path / "store")
    with KnowledgeBase(settings, embedder=embedder) as kb:
        report = ingest_paths(kb, [write_corpus(tmp_path / "corpus")])
    assert report.counts()["added"] == len(ALL_IDS)
    return settings.store


# -- help -----------------------------------------------------------------------------------


def test_the_group_has_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    for name in cli.commands:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help(name: str) -> None:
    command = cli.commands[name]
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and name in result.output
    assert command.help, f"{name} has no help text"
    for parameter in command.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            assert parameter.opts[-1] in result.output or parameter.help is not None


# -- ingest ---------------------------------------------------------------------------------


def bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    write(folder, "good.md", "# Good\n\nMonitors walked the ceasefire line every morning.\n")
    write(folder, "broken.pdf", make_corrupt_pdf())
    write(folder, "minutes.odt", b"PK\x03\x04 not really a document")
    return folder


def test_ingest_reports_each_bad_file_and_exits_1(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = run(store, "ingest", str(bad_folder(tmp_path)))

    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    broken = [line for line in lines if "broken.pdf" in line]
    assert len(broken) == 1 and "failed" in broken[0] and "damaged" in broken[0], lines
    odt = [line for line in lines if "minutes.odt" in line]
    assert len(odt) == 1 and "unsupported file type" in odt[0], lines
    assert "1 added, 0 updated, 0 unchanged, 0 duplicate, 2 failed" in lines
    assert not any("good.md" in line for line in lines)
    assert ok_json(store, "stats")["documents"] == 1


def test_ingest_json_prints_counts_and_failures(tmp_path: Path) -> None:
    store = tmp_path / "store"
    folder = bad_folder(tmp_path)
    result = run(store, "ingest", str(folder), "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("added", "updated", "unchanged", "failed")} == {
        "added": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 2,
    }
    failures = {Path(f["source"]).name: f["reason"] for f in report["failures"]}
    assert set(failures) == {"broken.pdf", "minutes.odt"}
    assert all(reason for reason in failures.values())

    again = json.loads(run(store, "ingest", str(folder / "good.md"), "--json").stdout)
    assert (again["unchanged"], again["added"], again["failures"]) == (1, 0, [])


def test_ingest_strips_bidirectional_controls_from_names(tmp_path: Path) -> None:
    store = tmp_path / "store"
    folder = tmp_path / "inbox"
    write(folder, "minutes\u202edm.md", "Monitors walked the ceasefire line every morning.\n")
    write(folder, "empty\u2067\u200f.txt", "")
    result = run(store, "ingest", str(folder))

    assert result.exit_code == 1, result.output
    failed = [line for line in result.stderr.splitlines() if "failed" in line and "empty" in line]
    assert len(failed) == 1 and "empty.txt" in failed[0], result.stderr
    for mark in ("\u202e", "\u2067", "\u200f"):
        assert mark not in result.stderr
    shown = ok_json(store, "list")["items"]
    assert [d["source_name"] for d in shown] == ["minutesdm.md"]


def test_ingest_type_and_meta_apply_to_every_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    folder = tmp_path / "inbox"
    write(folder, "one.md", "# One\n\nA truce between fishermen of two villages.\n")
    write(folder, "two.txt", "Water rights along the upper river were shared by rota.\n")
    ok(
        store,
        "ingest",
        str(folder),
        "--type",
        "lessons-learned",
        "--meta",
        "region=Upper River",
        "--meta",
        "date=2020",
    )

    listed = ok_json(store, "list", "--filter", "region=upper river")
    assert listed["total"] == 2
    assert {d["doc_type"] for d in listed["items"]} == {"lessons-learned"}


def test_ingest_of_a_missing_path_fails_naming_it(tmp_path: Path) -> None:
    result = run(tmp_path / "store", "ingest", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert any("nowhere" in line and "no such file" in line for line in result.stderr.splitlines())


def test_ingest_rejects_an_unknown_type(tmp_path: Path) -> None:
    result = run(tmp_path / "store", "ingest", str(tmp_path), "--type", "treaty")
    assert result.exit_code == 2
    assert "treaty" in result.output


# -- reading --------------------------------------------------------------------------------


def test_search_json_has_the_contract_shape(store: Path) -> None:
    body = ok_json(
        store,
        "search",
        "ceasefire monitoring",
        "--limit",
        "3",
        "--mode",
        "hybrid",
        "--filter",
        "doc_type=agreement",
    )
    assert_search_shape(body)
    assert body["query"] == "ceasefire monitoring"
    assert (body["mode"], body["limit"], body["total"]) == ("hybrid", 3, 2)
    assert ids(body) == [AUREL, COASTAL]


def test_search_prints_a_readable_table(store: Path) -> None:
    result = ok(store, "search", "cantonment", "--mode", "keyword")
    assert "Aurel Highlands Ceasefire Agreement" in result.stdout
    assert "p. 1" in result.stdout and "cantonment" in result.stdout
    assert "<mark>" not in result.stdout
    assert "1 of 1 precedents" in result.stdout
    nothing = ok(store, "search", "cantonment", "--mode", "keyword", "--filter", "region=Nowhere")
    assert "no precedents found" in nothing.stdout


def test_search_paging_matches_a_bigger_page(store: Path) -> None:
    def page(limit: str, offset: str) -> list[str]:
        return ids(
            ok_json(
                store, "search", "peace", "--limit", limit, "--offset", offset, "--mode", "dense"
            )
        )

    whole, first, second = page("4", "0"), page("2", "0"), page("2", "2")
    assert first + second == whole and len(set(whole)) == 4


def test_list_json_pages_newest_first(store: Path) -> None:
    listed = ok_json(store, "list")
    assert listed["total"] == 5
    assert [d["document_id"] for d in listed["items"]] == list(NEWEST_FIRST)
    page = ok_json(store, "list", "--limit", "2", "--offset", "1")
    assert [d["document_id"] for d in page["items"]] == list(NEWEST_FIRST[1:3])
    agreements = ok_json(store, "list", "--filter", "doc_type=agreement")
    assert agreements["total"] == 2


def test_show_json_has_the_passages(store: Path) -> None:
    shown = ok_json(store, "show", AUREL)
    assert shown["document_id"] == AUREL and shown["doc_type"] == "agreement"
    assert len(shown["chunks"]) == shown["chunk_count"] >= 2
    assert all(c["page_start"] == c["page_end"] == 1 for c in shown["chunks"])
    text = ok(store, "show", AUREL, "--chunks").stdout
    assert "cantonment sites" in text and "p. 1" in text


def test_similar_json_leaves_out_the_document_itself(store: Path) -> None:
    body = ok_json(store, "similar", AUREL)
    assert_search_shape(body)
    assert set(ids(body)) == ALL_IDS - {AUREL}
    filtered = ok_json(store, "similar", AUREL, "--filter", "region=aurel highlands")
    assert ids(filtered) == [DDR]


def test_show_of_a_missing_document_fails(store: Path) -> None:
    result = run(store, "show", "missing-doc")
    assert result.exit_code == 1
    assert isinstance(result.exception, NotFoundError)


def test_main_prints_an_error_line_for_a_core_error(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["kb", "--store", str(store), "show", "missing-doc"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: no document 'missing-doc'" in captured.err


def test_main_exits_2_on_a_usage_error(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["kb", "--store", str(store), "search"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "QUERY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("search", "peace", "--filter", "year_min=abc"), "year_min takes a number or a date"),
        (("search", "peace", "--filter", "colour=blue"), "unknown filter key 'colour'"),
        (("search", "x" * 20_001), "the limit is 20,000 (KB_MAX_QUERY_CHARS)"),
        (("list", "--filter", "date_from=2020-13-45"), "date_from takes one real date"),
        (("facets", "--filter", "colour=blue"), "unknown filter key 'colour'"),
        (("similar", AUREL, "--filter", "colour=blue"), "unknown filter key 'colour'"),
        (("packs", "suggest", "peace", "--filter", "colour=blue"), "unknown filter key"),
        (("packs", "suggest", "x " * 10_001), "the theme is 20,002 characters long"),
        (("audit", "--since", "garbage"), "since takes a date"),
        (("search", "peace", "--offset", str(2**63)), "--offset"),
        (("packs", "show", "12345678901234567890123"), "PACK_ID"),
    ],
)
def test_bad_input_is_a_usage_error_naming_it(
    store: Path, args: tuple[str, ...], says: str
) -> None:
    result = run(store, *args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert says in result.stderr


# -- writing --------------------------------------------------------------------------------


def test_delete_drops_the_document_from_stats_and_search(store: Path) -> None:
    before = ok_json(store, "stats")
    chunk_count = ok_json(store, "show", AUREL)["chunk_count"]

    deleted = ok_json(store, "delete", AUREL)
    assert (deleted["document_id"], deleted["deleted"]) == (AUREL, True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+\+00:00", deleted["purge_after"])

    after = ok_json(store, "stats")
    assert after["documents"] == before["documents"] - 1 == 4
    assert after["chunks"] == before["chunks"] - chunk_count
    assert after["index_vectors"] == after["chunks"]
    assert AUREL not in ids(ok_json(store, "search", "ceasefire cantonment"))
    assert isinstance(run(store, "show", AUREL).exception, NotFoundError)
    assert isinstance(run(store, "delete", AUREL).exception, NotFoundError)


def test_reindex_json_rebuilds_the_index(store: Path) -> None:
    before = ok_json(store, "stats")
    for name in ("index.faiss", "faiss.index"):
        (store / name).unlink(missing_ok=True)

    rebuilt = ok_json(store, "reindex")

    assert rebuilt == before
    assert rebuilt["index_vectors"] == rebuilt["chunks"] > 0
    assert rebuilt["model"] == make_embedder(Settings()).name and rebuilt["dimension"] == 384
    assert rebuilt["model"].startswith(DEFAULT_MODEL)
    assert ids(ok_json(store, "search", "cantonment", "--mode", "dense"))[0] == AUREL


# -- eval -----------------------------------------------------------------------------------

TASK_CORPUS = [
    {
        "_id": "d1",
        "title": "Highlands ceasefire",
        "text": "Unarmed observers monitored the "
        "ceasefire line and the withdrawal of heavy weapons.",
        "metadata": {"year": 1998},
    },
    {
        "_id": "d2",
        "title": "Ceasefire violations report",
        "text": "Monitors counted violations of the ceasefire along the valley roads.",
        "metadata": {"year": 2003},
    },
    {
        "_id": "d3",
        "title": "Fisheries revenue",
        "text": "Provincial assemblies receive a share of revenue from fisheries and ports.",
        "metadata": {"year": 2005},
    },
    {
        "_id": "d4",
        "title": "Land restitution",
        "text": "Returning refugees recovered land and property through mobile restitution courts.",
        "metadata": {"year": 2010},
    },
    {
        "_id": "d5",
        "title": "Refugee return in the nineties",
        "text": "Refugees returned to their villages and claimed their land and property.",
        "metadata": {"year": 1995},
    },
    {
        "_id": "d6",
        "title": "Women in mediation",
        "text": "Women's organisations joined the "
        "mediation team and shaped the agenda of the talks.",
        "metadata": {"year": 2019},
    },
]
TASK_QUERIES = [
    {"_id": "q1", "text": "monitoring a ceasefire"},
    {
        "_id": "q2",
        "text": "refugees recovering land and property",
        "metadata": {"filter": {"year_min": 2000}},
    },
    {"_id": "q3", "text": "women's participation in mediation"},
    {"_id": "q4", "text": "a query nobody judged"},
]
TASK_QRELS = ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q1\td2\t1", "q2\td4\t2", "q3\td6\t1"]


def beir_task(folder: Path) -> Path:
    lines = (json.dumps(record) for record in TASK_CORPUS)
    write(folder, "corpus.jsonl", "\n".join(lines) + "\n")
    write(folder, "queries.jsonl", "\n".join(json.dumps(q) for q in TASK_QUERIES) + "\n")
    write(folder, "qrels/test.tsv", ("\r\n".join(TASK_QRELS) + "\r\n").encode())
    return folder


def test_eval_scores_a_beir_task_and_ingests_it_once(tmp_path: Path) -> None:
    store = tmp_path / "store"
    task = beir_task(tmp_path / "task")

    scores = ok_json(store, "eval", str(task))

    assert {"ndcg@10", "recall@10", "recall@100", "mrr@10", "queries"} <= set(scores)
    assert scores["queries"] == 3  # the judged queries; q4 has no judgments
    for metric in ("ndcg@10", "recall@10", "recall@100", "mrr@10"):
        assert 0.0 <= scores[metric] <= 1.0, (metric, scores)
    assert scores["recall@100"] == 1.0  # six documents: every relevant one is retrieved
    assert scores["mrr@10"] == 1.0  # and each query's best document comes first
    stats = ok_json(store, "stats")
    assert stats["documents"] == len(TASK_CORPUS)

    assert ok_json(store, "eval", str(task)) == scores
    assert ok_json(store, "stats")["generation"] == stats["generation"]


def test_eval_applies_a_query_filter(tmp_path: Path) -> None:
    store = tmp_path / "store"
    task = beir_task(tmp_path / "task")
    # Judge the 1995 return as the better answer: the year_min=2000 filter must hide it.
    qrels = [*TASK_QRELS[:3], "q2\td5\t2", "q2\td4\t1"]
    write(task, "qrels/test.tsv", "\r\n".join(qrels) + "\r\n")

    scores = ok_json(store, "eval", str(task))

    assert scores["queries"] == 2
    assert scores["recall@100"] == pytest.approx(0.75)  # q1 finds both, q2 only d4 of d4, d5


# -- the installed console script ----------------------------------------------------------


def kb(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "1000"}
    env.pop("KB_STORE", None)
    done = subprocess.run([str(KB), *args], capture_output=True, text=True, env=env, check=False)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.mark.slow
def test_the_console_script_end_to_end(tmp_path: Path) -> None:
    assert KB.is_file(), f"the console script is not installed at {KB}"
    store = str(tmp_path / "store")
    folder = write_corpus(tmp_path / "corpus")

    ingested = kb("--store", store, "ingest", str(folder))
    assert "5 added, 0 updated, 0 unchanged, 0 duplicate, 0 failed" in ingested.stderr

    found = json.loads(
        kb(
            "--store",
            store,
            "search",
            "ceasefire monitoring",
            "--json",
            "--limit",
            "3",
            "--mode",
            "hybrid",
            "--filter",
            "doc_type=agreement",
        ).stdout
    )
    assert_search_shape(found)
    assert ids(found) == [AUREL, COASTAL]
    assert all(r["doc_type"] == "agreement" for r in found["results"])

    stats = json.loads(kb("--store", store, "stats", "--json").stdout)
    assert stats["documents"] == 5 and stats["model"] == make_embedder(Settings()).name
    assert stats["chunks"] == stats["index_vectors"] > 5

    kb("--store", store, "delete", AUREL)
    after = json.loads(kb("--store", store, "stats", "--json").stdout)
    assert after["documents"] == 4
    assert after["chunks"] < stats["chunks"]

    missing = kb("--store", store, "show", AUREL, check=False)
    assert missing.returncode == 1
    assert f"error: document '{AUREL}' is in the trash" in missing.stderr
    assert missing.stdout == ""


def test_ingest_names_every_class_of_bad_file_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    write(folder, "locked.pdf", make_encrypted_pdf("secret", ["Confidential annex text."]))
    write(folder, "scan.pdf", make_scanned_pdf())
    write(folder, "cut.pdf", make_corrupt_pdf())
    write(folder, "blank.txt", "  \n")
    write(folder, "minutes.odt", b"PK\x03\x04")
    write(folder, "huge.md", "# Huge\n\n" + "word " * 400_000)
    write(folder, "fine.md", "# Fine\n\nMonitors walked the ceasefire line.\n")
    env = {**ENV, "KB_MAX_UPLOAD_MB": "1"}
    result = CliRunner(env=env).invoke(cli, ["--store", str(tmp_path / "s"), "ingest", str(folder)])
    assert result.exit_code == 1, result.output
    expected = {
        "locked.pdf": "encrypted",
        "scan.pdf": "text layer",
        "cut.pdf": "damaged",
        "blank.txt": "empty",
        "minutes.odt": "unsupported file type",
        "huge.md": "MiB limit",
    }
    lines = result.stderr.splitlines()
    for name, reason in expected.items():
        found = [line for line in lines if name in line]
        assert len(found) == 1 and reason in found[0], (name, lines)
    assert "1 added, 0 updated, 0 unchanged, 0 duplicate, 6 failed" in lines


def test_stats_shows_the_index_kind_and_recall_on_request(store: Path) -> None:
    assert ok_json(store, "stats")["index_kind"] == "exact"
    approximate = {**ENV, "KB_ANN_THRESHOLD": "2"}  # the corpus has more passages: HNSW
    rebuilt = CliRunner(env=approximate).invoke(cli, ["--store", str(store), "reindex", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert json.loads(rebuilt.stdout)["index_kind"] == "hnsw"
    measured = CliRunner(env=approximate).invoke(
        cli, ["--store", str(store), "stats", "--json", "--recall", "20"]
    )
    stats = json.loads(measured.stdout)
    assert stats["index_kind"] == "hnsw" and stats["recall_queries"] == min(20, stats["chunks"])
    assert 0.9 <= stats["recall_at_10"] <= 1.0


def test_ingesting_the_same_file_again_keeps_its_type_and_metadata(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    note = write(tmp_path, "note.md", "# Kassel\n\nThe observers walked the line twice a week.\n")
    given = ["--meta", "region=Kassel", "--meta", "date=2020-01-02", "--meta", "programme=P1"]
    kb("--store", store, "ingest", str(note), "--type", "evaluation", *given)

    again = kb("--store", store, "ingest", str(note))

    assert "0 added, 0 updated, 1 unchanged" in again.stderr
    shown = json.loads(kb("--store", store, "show", "note", "--json").stdout)
    assert shown["doc_type"] == "evaluation"
    assert {k: shown["metadata"][k] for k in ("region", "date", "programme")} == {
        "region": "Kassel",
        "date": "2020-01-02",
        "programme": "P1",
    }


def test_kb_ingest_refuses_a_text_file_over_the_default_text_limit_at_once(
    tmp_path: Path,
) -> None:
    limit = Settings().max_text_mb
    folder = tmp_path / "inbox"
    # Just over the default; a NUL byte in it: read, it would be refused as binary instead.
    size = int(limit * 1048576) + 4096
    write(folder, "transcripts.txt", b"\x00" + b"Talks resumed at noon.\n" * (size // 23))
    write(folder, "fine.md", "# Fine\n\nMonitors walked the ceasefire line.\n")

    done = kb("--store", str(tmp_path / "store"), "ingest", str(folder), check=False)

    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    refused = [line for line in lines if "transcripts.txt" in line]
    assert len(refused) == 1 and refused[0].startswith("failed "), lines
    mib = (folder / "transcripts.txt").stat().st_size / 1048576
    assert refused[0].endswith(
        f"transcripts.txt: {mib:.3g} MiB is over the {limit:g} MiB limit for text, Markdown "
        "and HTML files (KB_MAX_TEXT_MB)"
    ), refused[0]
    assert "1 added, 0 updated, 0 unchanged, 0 duplicate, 1 failed" in lines
