"""A limit on failed sign-ins per client address: after too many wrong keys, 429 for a while.

Only failures count (a wrong or disabled key), so a busy client with a good key is never
slowed; while an address is over the limit every attempt from it is refused, a good key too,
or the answer would tell a guesser when they had found one. In memory, per server process:
a restart forgets it, which costs a guesser nothing they could use. (Request-rate libraries
such as slowapi count every request, not failures; this is the few lines that need.)
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Addresses remembered at most; beyond it the ones with no recent failure are forgotten first.
MAX_ADDRESSES = 10_000


class SignInLimiter:
    def __init__(
        self,
        failures: int,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many addresses are remembered."""
        return len(self._seen)

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        with self._lock:
            recent = self._recent(address)
            if recent is None or len(recent) < self.failures:
                return None
            return max(1, math.ceil(recent[0] + self.window - self.clock()))

    def failed(self, address: str) -> None:
        with self._lock:
            recent = self._recent(address)
            if recent is None:
                if len(self._seen) >= MAX_ADDRESSES:
                    self._forget_stale()
                recent = self._seen[address] = deque()
            recent.append(self.clock())
            while len(recent) > self.failures:
                recent.popleft()

    def _recent(self, address: str) -> deque[float] | None:
        recent = self._seen.get(address)
        if recent is None:
            return None
        cutoff = self.clock() - self.window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if not recent:
            del self._seen[address]
            return None
        return recent

    def _forget_stale(self) -> None:
        cutoff = self.clock() - self.window
        for address in [a for a, r in self._seen.items() if not r or r[-1] <= cutoff]:
            del self._seen[address]
        if len(self._seen) >= MAX_ADDRESSES:
            # Still full of live addresses (a spread-out attack): drop the oldest half.
            for address in sorted(self._seen, key=lambda a: self._seen[a][-1])[
                : MAX_ADDRESSES // 2
            ]:
                del self._seen[address]
