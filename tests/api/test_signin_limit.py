"""The failed sign-in limit: on its own, on a clock the test moves; and over a real server,
which client address it counts (behind a proxy or not). The rest of its HTTP side is in
test_auth.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from api.signin_limit import SignInLimiter
from kb.embedding.embedder import Embedder
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from tests.api.conftest import bearer, served


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_let_in_again_once_its_failures_are_a_window_old() -> None:
    clock = Clock()
    limiter = SignInLimiter(3, window=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.failed("10.0.0.1")
        clock.now += 10

    assert limiter.retry_after("10.0.0.1") == 30  # the first failure is 30 s from expiring
    assert limiter.retry_after("10.0.0.2") is None  # other addresses are not affected
    clock.now += 30
    assert limiter.retry_after("10.0.0.1") is None
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 10  # still two recent ones: 3 again


def test_memory_stays_bounded_under_many_addresses() -> None:
    clock = Clock()
    limiter = SignInLimiter(2, window=60, clock=clock)
    for n in range(25_000):
        limiter.failed(f"address-{n}")
    assert len(limiter) <= 10_000
    assert limiter.retry_after("address-24999") is None  # one failure is under the limit
    limiter.failed("address-24999")
    assert limiter.retry_after("address-24999") == 60


# -- over a real server: which address the limit counts --------------------------------------

WRONG = 15  # more than the default limit of failures a minute


@contextmanager
def site(tmp_path: Path, embedder: Embedder, **options: Any) -> Iterator[httpx.Client]:
    """A client of the app served as `kb serve` serves it, over loopback."""
    settings = Settings(store=tmp_path / "store", **options)
    with (
        KnowledgeBase(settings, embedder=embedder) as kb,
        served(create_app(settings, kb=kb)) as (host, port),
        httpx.Client(base_url=f"http://{host}:{port}") as http,
    ):
        yield http


def wrong_key(http: httpx.Client, n: int, forwarded_for: str) -> int:
    headers = {**bearer(f"kb_guess-{n}"), "X-Forwarded-For": forwarded_for}
    return http.get("/stats", headers=headers).status_code


def test_x_forwarded_for_from_a_peer_not_named_a_proxy_is_ignored(
    tmp_path: Path, embedder: Embedder
) -> None:
    limit = Settings().signin_failures_per_minute
    with site(tmp_path, embedder) as http:
        statuses = [wrong_key(http, n, f"203.0.113.{n}") for n in range(WRONG)]
    # Fifteen made-up client addresses, one real one: the limit counts the real one.
    assert statuses == [401] * limit + [429] * (WRONG - limit)


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    tmp_path: Path, embedder: Embedder
) -> None:
    limit = Settings().signin_failures_per_minute
    with site(tmp_path, embedder, trusted_proxies="127.0.0.1,10.0.0.0/8") as http:
        # Each forwarded client is counted on its own: none reaches the limit.
        assert {wrong_key(http, n, f"203.0.113.{n}") for n in range(WRONG)} == {401}
        # The right-most address not a proxy is the client: one that adds made-up addresses
        # in front of its own (each proxy appends the peer it saw) is still counted as itself.
        statuses = [
            wrong_key(http, n, f"192.0.2.{n}, 198.51.100.2, 10.1.2.3") for n in range(WRONG)
        ]
        assert statuses == [401] * limit + [429] * (WRONG - limit)
        assert wrong_key(http, 0, "198.51.100.3") == 401  # another client is not held back
