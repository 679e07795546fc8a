"""Messages and results carried across a post/redirect/get: kept in memory for the browser
session that made the change, shown once by the page it is sent to.

Keyed by the session's CSRF token (secret, one per session), so one user's results are never
shown to another; a restart forgets them, as it forgets the sessions themselves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import Request

from api.ui.auth import page_session

MAX_SESSIONS = 1000  # the oldest sessions' unread messages go first


class Flashes:
    def __init__(self) -> None:
        self._kept: OrderedDict[str, dict[str, list[Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str, kind: str, item: Any) -> None:
        with self._lock:
            self._kept.setdefault(key, {}).setdefault(kind, []).append(item)
            self._kept.move_to_end(key)
            while len(self._kept) > MAX_SESSIONS:
                self._kept.popitem(last=False)

    def pop(self, key: str, kind: str) -> list[Any]:
        with self._lock:
            kinds = self._kept.get(key, {})
            items = kinds.pop(kind, [])
            if not kinds:
                self._kept.pop(key, None)
        return items


def _store(request: Request) -> Flashes:
    flashes: Flashes = request.app.state.ui_flashes
    return flashes


def flash(request: Request, item: Any, kind: str = "message") -> None:
    """Keep `item` for the next page this browser session opens that shows `kind`."""
    session = page_session(request)
    if session is not None:
        _store(request).add(session.csrf, kind, item)


def take(request: Request, kind: str = "message") -> list[Any]:
    session = page_session(request)
    return _store(request).pop(session.csrf, kind) if session is not None else []
