"""Values worked out for one state of the store, kept until a write changes its generation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class GenerationCache(Generic[V]):
    """The `kept` latest values by key, for the store generation they were made in; a value of
    an older generation is never returned. Thread-safe: the server's threads share it."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._generation = -1
        self._lock = threading.Lock()

    def get(self, generation: int, key: Hashable, make: Callable[[], V]) -> V:
        with self._lock:
            if self._generation == generation and key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()  # outside the lock: it may read the store for a while
        with self._lock:
            if self._generation != generation:
                self._values.clear()  # a write made every kept value stale
                self._generation = generation
            self._values[key] = value
            while len(self._values) > self._kept:
                self._values.popitem(last=False)
        return value
