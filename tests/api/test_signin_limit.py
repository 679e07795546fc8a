"""The failed sign-in limit on its own, on a clock the test moves (the HTTP side is in
test_auth.py)."""

from __future__ import annotations

from api.signin_limit import SignInLimiter


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
