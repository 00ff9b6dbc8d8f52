"""Brute-force throttling, on a clock the test moves."""

from __future__ import annotations

import pytest

from jupyter_mlapp.auth.throttle import LoginThrottle, TooManyAttempts


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(clock):
    return LoginThrottle(max_failures=5, window=900, clock=clock)


def test_five_failures_for_a_user_lock_it_from_any_address(throttle, clock):
    for i in range(5):
        throttle.check("ann", f"10.0.0.{i}")
        throttle.failure("ann", f"10.0.0.{i}")
        clock.now += 10
    with pytest.raises(TooManyAttempts) as err:
        throttle.check("ANN", "10.0.0.99")
    assert err.value.status == 429
    assert "Too many failed sign-in attempts" in err.value.message
    assert err.value.retry_after == 900 - 50
    assert "try again in 15 minutes" in err.value.message
    throttle.check("bob", "10.0.0.99")  # others are not affected


def test_five_failures_from_an_address_lock_it_for_every_user(throttle):
    for name in ("a", "b", "c", "d", "e"):
        throttle.failure(name, "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        throttle.check("f", "10.0.0.1")
    throttle.check("f", "10.0.0.2")


def test_the_lock_lifts_when_the_window_moves_on(throttle, clock):
    for _ in range(5):
        throttle.failure("ann", "10.0.0.1")
        clock.now += 60
    with pytest.raises(TooManyAttempts):
        throttle.check("ann", None)
    clock.now += 900 - 5 * 60 + 1  # the first failure is now older than the window
    throttle.check("ann", None)


def test_four_failures_then_a_success_start_over(throttle):
    for _ in range(4):
        throttle.failure("ann", "10.0.0.1")
    throttle.success("ann", "10.0.0.1")
    for _ in range(4):
        throttle.failure("ann", "10.0.0.1")
    throttle.check("ann", "10.0.0.1")


def test_random_usernames_cannot_fill_memory(throttle):
    throttle.max_keys = 100
    for i in range(1000):
        throttle.failure(f"user{i}", None)
    assert len(throttle._failures) == 100
