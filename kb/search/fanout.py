"""The independent parts of one search, run side by side.

A long brief is searched as a whole and once per aspect: four or more keyword searches, each
tens of milliseconds of SQLite work at a million passages, which lets go of the GIL. On their
own threads (and the store's pool of readers) they use every core, so the brief answers in
about the time of its longest half instead of the sum of its parts. A busy server gains no
throughput from this (its cores are taken by other requests), only shorter waits for briefs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Fanout:
    """A few worker threads shared by every search of a knowledge base."""

    def __init__(self, workers: int) -> None:
        self._pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kb-search")
            if workers > 1
            else None
        )

    def run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Each task's result, in order. The calling thread runs the first task itself; an
        error in any task is raised here once all have ended."""
        if self._pool is None or len(tasks) < 2:
            return [task() for task in tasks]
        futures = [self._pool.submit(task) for task in tasks[1:]]
        try:
            first = tasks[0]()
        finally:
            rest = [future.exception() for future in futures]  # waits for every one
        for error in rest:
            if error is not None:
                raise error
        return [first, *(future.result() for future in futures)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
