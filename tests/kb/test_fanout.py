"""A search's parts side by side: results in order, every error raised, real concurrency, and
a brief ranked the same whether its aspects run in parallel or one after another."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.models import SearchRequest
from kb.search.fanout import Fanout
from kb.settings import Settings
from tests.drafts import passage_draft


def test_results_come_back_in_task_order() -> None:
    fanout = Fanout(3)
    assert fanout.run([lambda n=n: n * n for n in range(7)]) == [n * n for n in range(7)]
    fanout.close()


def test_tasks_run_at_the_same_time() -> None:
    fanout = Fanout(2)
    both = threading.Barrier(3, timeout=10)  # the caller runs the first task, two workers more

    def meet() -> str:
        both.wait()  # would time out if the tasks ran one after another
        return threading.current_thread().name

    names = fanout.run([meet, meet, meet])
    assert len(set(names)) == 3
    fanout.close()


def test_an_error_is_raised_after_every_task_ended() -> None:
    fanout = Fanout(2)
    finished = threading.Event()

    def slow() -> None:
        finished.wait(0.2)
        finished.set()

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fanout.run([lambda: None, fail, slow])
    assert finished.is_set()
    fanout.close()


def test_one_worker_runs_everything_on_the_calling_thread() -> None:
    fanout = Fanout(1)
    me = threading.current_thread().name
    assert fanout.run([lambda: threading.current_thread().name] * 3) == [me] * 3


BRIEF = (
    "A ceasefire collapsed after three weeks and observers were too few to verify the "
    "separation of forces. Displaced families cannot return to their villages in the valley. "
    "A regional organisation offers to mediate between the government and two armed groups. "
    "Which agreements provided monitoring, sequenced withdrawal and guaranteed refugee return?"
)
TEXTS = (
    "Observers verified the separation of forces along the ceasefire line.",
    "Refugees and displaced families returned to their villages under guarantees.",
    "The regional organisation mediated talks between the government and armed groups.",
    "Withdrawal was sequenced in three phases under joint monitoring.",
    "Water sharing in the river basin was settled by a commission.",
    "Elections followed the constitutional reform after two years.",
)


def test_a_brief_ranks_the_same_in_parallel_and_in_turn(tmp_path: Path, embedder: Embedder) -> None:
    drafts = [passage_draft(n, text) for n, text in enumerate(TEXTS)]
    answers = []
    for readers in (1, 3):
        settings = Settings(store=tmp_path / "store", read_connections=readers)
        with KnowledgeBase(settings, embedder=embedder) as kb:
            if readers == 1:
                kb.add(drafts)
            for mode in ("hybrid", "keyword", "dense"):
                answers.append(kb.search(SearchRequest(BRIEF, mode=mode)))  # type: ignore[arg-type]
    assert "brief searched as a whole and as 4 aspects" in answers[0].notices
    assert answers[:3] == answers[3:]
    assert answers[0].results[0].document_id in {"doc-0", "doc-1", "doc-2", "doc-3"}
