"""Preparing upcoming files in a background thread while the caller embeds and writes.

Parsing happens in the worker subprocess (`ingest.sandbox`), so the thread mostly waits on a
pipe with the GIL released, and text files and records are cheap: the two cores then parse
and embed at once instead of in turn. Items come out in input order through a bounded queue,
so a slow writer holds back the reader rather than memory filling with parsed files.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")

_DONE = object()
POLL_SECONDS = 0.1  # how often a blocked producer looks whether it should stop


class Prefetch(Generic[S, T]):
    """`prepare(source)` for each source, run ahead in one thread, yielded in order.

    Use as a context manager: leaving it (normally, on an exception or on Ctrl-C in the
    consumer) stops the thread, calls `abort` so a parse under way ends now rather than at
    its time limit, and joins the thread. An exception raised by `prepare` is raised again
    in the consumer."""

    def __init__(
        self,
        sources: Iterable[S],
        prepare: Callable[[S], Iterable[T]],
        depth: int,
        abort: Callable[[], None] | None = None,
    ) -> None:
        self._sources = sources
        self._prepare = prepare
        self._abort = abort
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ingest-prefetch", daemon=True)

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._items()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End the producer and wait for it; safe to call more than once."""
        if not self._thread.is_alive():
            return
        self._stop.set()
        if self._abort is not None:
            self._abort()
        while self._thread.is_alive():
            self._drain()  # a producer blocked on a full queue sees the stop once it can put
            self._thread.join(POLL_SECONDS)

    def _items(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                break
            yield item  # type: ignore[misc]  # everything else in the queue is a T
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            for source in self._sources:
                for item in self._prepare(source):
                    if not self._put(item):
                        return
                if self._stop.is_set():
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._error = exc
        self._put(_DONE)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
