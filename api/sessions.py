"""Browser sessions: a signed-in user's cookie, so the web UI never keeps the API key.

Sign-in (`POST /session` with the API key) opens a session: a random token in an HttpOnly,
SameSite=Strict cookie, and a CSRF token the page sends back in `X-CSRF-Token` with every
request that changes something. Only hashes of session tokens are kept, in the store
(`kb.users`): every server sharing a store knows every session, and a restart signs nobody out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from kb.users import Users

COOKIE = "kb_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    name: str
    csrf: str
    expires: float


class Sessions:
    def __init__(self, hours: float, users: Users) -> None:
        self.seconds = hours * 3600
        self._users = users

    def open(self, name: str) -> tuple[str, Session]:
        """A new session for user `name`: its cookie token, and the session (with its CSRF)."""
        token = secrets.token_urlsafe(32)
        session = Session(name, secrets.token_urlsafe(32), time.time() + self.seconds)
        self._users.open_session(_digest(token), session.name, session.csrf, session.expires)
        return token, session

    def find(self, token: str) -> Session | None:
        found = self._users.find_session(_digest(token))
        return None if found is None else Session(*found)

    def close(self, token: str) -> None:
        self._users.close_session(_digest(token))


def csrf_matches(session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf, sent)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
