"""Browser sessions: a signed-in user's cookie, so the web UI never keeps the API key.

Sign-in (`POST /session` with the API key) opens a session: a random token in an HttpOnly,
SameSite=Strict cookie, and a CSRF token the page sends back in `X-CSRF-Token` with every
request that changes something. Only hashes of session tokens are kept, in memory: a restart
signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "kb_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    name: str
    csrf: str
    expires: float


class Sessions:
    def __init__(self, hours: float) -> None:
        self.seconds = hours * 3600
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, name: str) -> tuple[str, Session]:
        """A new session for user `name`: its cookie token, and the session (with its CSRF)."""
        token = secrets.token_urlsafe(32)
        session = Session(name, secrets.token_urlsafe(32), time.time() + self.seconds)
        with self._lock:
            now = time.time()
            self._open = {k: s for k, s in self._open.items() if s.expires > now}
            self._open[_digest(token)] = session
        return token, session

    def find(self, token: str) -> Session | None:
        with self._lock:
            session = self._open.get(_digest(token))
        return session if session is not None and session.expires > time.time() else None

    def close(self, token: str) -> None:
        with self._lock:
            self._open.pop(_digest(token), None)


def csrf_matches(session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf, sent)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
