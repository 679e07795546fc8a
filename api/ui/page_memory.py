"""What the pages remember for one browser session between requests: the pack last added to (so
the next "Add to pack" picks it). Messages shown once after a redirect are `api.ui.flash`'s.

Kept in memory beside the sessions themselves (a restart forgets both), keyed by the session's
CSRF token, which is unique to the session and never sent in a URL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request

from api.ui.auth import page_session

MAX_SESSIONS = 10_000  # the oldest memories go first; a forgotten one costs a default choice


@dataclass
class Memory:
    last_pack: int | None = None


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


def memory_of(request: Request) -> tuple[PageMemory, str] | None:
    """The app's page memory (made by `api.ui.mount_ui`) and this session's key in it; None
    without a session."""
    session = page_session(request)
    if session is None:
        return None
    memory: PageMemory = request.app.state.page_memory
    return memory, session.csrf


def remember_pack(request: Request, pack_id: int) -> None:
    """The next "Add to pack" of this session picks `pack_id` first."""
    found = memory_of(request)
    if found is not None:
        found[0].remember_pack(found[1], pack_id)


def last_pack(request: Request) -> int | None:
    found = memory_of(request)
    return found[0].last_pack(found[1]) if found is not None else None
