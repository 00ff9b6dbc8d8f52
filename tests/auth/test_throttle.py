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
    return LoginThrottle(free_attempts=5, max_delay=900, forget_after=86400, clock=clock)


def attempts_admitted(throttle, username, address, tries=100) -> int:
    admitted = 0
    for _ in range(tries):
        try:
            throttle.admit(username, address)
        except TooManyAttempts:
            continue
        admitted += 1
    return admitted


def test_after_five_failures_the_delays_double_up_to_the_longest(throttle, clock):
    assert attempts_admitted(throttle, "ann", "10.0.0.1") == 5
    delays = []
    for _ in range(14):
        with pytest.raises(TooManyAttempts) as err:
            throttle.admit("ANN", "10.0.0.1")
        assert err.value.status == 429 and "Too many failed sign-in attempts" in err.value.message
        delays.append(err.value.retry_after)
        clock.now += err.value.retry_after
        throttle.admit("ann", "10.0.0.1")
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    assert "try again in 15 minutes" in err.value.message
    throttle.admit("bob", "10.0.0.1")  # other accounts are not affected


def test_a_burst_is_counted_as_it_is_admitted(throttle):
    # No failure is reported between the attempts (their hashes are still running): each
    # admitted attempt counts until it succeeds.
    assert attempts_admitted(throttle, "ann", "10.0.0.1", tries=24) == 5


def test_an_address_that_signed_in_before_is_not_locked_out_by_others(throttle, clock):
    throttle.admit("ann", "10.0.0.1")
    throttle.success("ann", "10.0.0.1")
    for i in range(50):  # an attack from many addresses
        attempts_admitted(throttle, "ann", f"10.0.1.{i}", tries=3)
    throttle.admit("ann", "10.0.0.1")  # the owner's address: as if nothing happened
    with pytest.raises(TooManyAttempts):
        throttle.admit("ann", "10.0.0.2")  # a new address waits: the account stays protected
    throttle.success("ann", "10.0.0.1")


def test_failures_from_one_address_do_not_lock_out_everyone_behind_it(throttle):
    assert attempts_admitted(throttle, "ann", "10.0.0.1") == 5
    for name in ("bob", "cid", "dan"):  # behind the same NAT
        throttle.admit(name, "10.0.0.1")
        throttle.success(name, "10.0.0.1")


def test_spraying_many_accounts_from_one_address_is_slowed_too(throttle):
    admitted = sum(attempts_admitted(throttle, f"user{i}", "10.0.0.1", tries=1) for i in range(100))
    assert admitted == throttle.address_free_attempts


def test_failures_are_forgotten_a_day_after_the_last(throttle, clock):
    attempts_admitted(throttle, "ann", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        throttle.admit("ann", "10.0.0.1")
    clock.now += 86400 + 1
    assert attempts_admitted(throttle, "ann", "10.0.0.1") == 5


def test_a_success_starts_over(throttle):
    for _ in range(4):
        throttle.admit("ann", "10.0.0.1")
    throttle.success("ann", "10.0.0.1")
    assert attempts_admitted(throttle, "ann", "10.0.0.1") == 5


def test_random_usernames_cannot_fill_memory(throttle):
    throttle.max_keys = 100
    for i in range(1000):
        attempts_admitted(throttle, f"user{i}", f"10.0.{i // 250}.{i % 250}", tries=1)
        throttle.success(f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(throttle._counts) <= 100 and len(throttle._known) <= 100
