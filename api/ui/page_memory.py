"""What the pages remember for one browser session between requests: the pack last added to (so
the next "Add to pack" picks it) and messages to show once on the next page (after a redirect).

Kept in memory beside the sessions themselves (a restart forgets both), keyed by the session's
CSRF token, which is unique to the session and never sent in a URL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import Request

from api.ui.auth import page_session

MAX_SESSIONS = 10_000  # the oldest memories go first; a forgotten one costs a default choice
MAX_FLASHES = 5


@dataclass
class Memory:
    last_pack: int | None = None
    flashes: list[str] = field(default_factory=list)


class PageMemory:
    def __init__(self) -> None:
        self._memories: OrderedDict[str, Memory] = OrderedDict()
        self._lock = threading.Lock()

    def _of(self, key: str) -> Memory:
        memory = self._memories.pop(key, None) or Memory()
        self._memories[key] = memory
        while len(self._memories) > MAX_SESSIONS:
            self._memories.popitem(last=False)
        return memory

    def remember_pack(self, key: str, pack_id: int) -> None:
        with self._lock:
            self._of(key).last_pack = pack_id

    def last_pack(self, key: str) -> int | None:
        with self._lock:
            memory = self._memories.get(key)
            return memory.last_pack if memory else None

    def flash(self, key: str, message: str) -> None:
        with self._lock:
            flashes = self._of(key).flashes
            flashes.append(message)
            del flashes[:-MAX_FLASHES]

    def take_flashes(self, key: str) -> list[str]:
        with self._lock:
            memory = self._memories.get(key)
            if memory is None:
                return []
            taken, memory.flashes = memory.flashes, []
            return taken


_create_lock = threading.Lock()


def memory_of(request: Request) -> tuple[PageMemory, str] | None:
    """The app's page memory and this session's key in it; None without a session."""
    session = page_session(request)
    if session is None:
        return None
    with _create_lock:  # made on first use so the app needs no change to hold it
        memory: PageMemory | None = getattr(request.app.state, "page_memory", None)
        if memory is None:
            memory = request.app.state.page_memory = PageMemory()
    return memory, session.csrf


def flash(request: Request, message: str) -> None:
    found = memory_of(request)
    if found is not None:
        found[0].flash(found[1], message)


def take_flashes(request: Request) -> list[str]:
    found = memory_of(request)
    return found[0].take_flashes(found[1]) if found is not None else []
