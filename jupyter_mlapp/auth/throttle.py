"""Brute-force protection for logins: too many failures for an account or from an address
within a window, and further attempts are refused until the window has moved on."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from ..errors import MLAppError


class TooManyAttempts(MLAppError):
    status = 429

    def __init__(self, retry_after: float):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"Too many failed sign-in attempts for this account or from this address; "
            f"try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            {"retry_after": math.ceil(retry_after)},
        )
        self.retry_after = math.ceil(retry_after)


class LoginThrottle:
    """Failures are counted per username and per client address.

    After ``max_failures`` failures within ``window`` seconds under either key, attempts are
    refused until the oldest of those failures is ``window`` seconds old. A success clears both
    keys. Refused attempts are not checked, so they neither count nor cost a password hash.
    """

    #: Keys kept at most; the oldest are forgotten first, so random usernames cannot fill memory.
    max_keys = 50_000

    def __init__(self, max_failures: int = 5, window: float = 15 * 60, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    @staticmethod
    def keys(username: str | None, address: str | None) -> list[tuple[str, str]]:
        keys = []
        if username:
            keys.append(("user", username.strip().lower()[:200]))
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, username: str | None, address: str | None) -> None:
        """Raise TooManyAttempts while either key is locked."""
        now = self.clock()
        wait = 0.0
        for key in self.keys(username, address):
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                wait = max(wait, times[-self.max_failures] + self.window - now)
        if wait > 0:
            raise TooManyAttempts(wait)

    def failure(self, username: str | None, address: str | None) -> None:
        now = self.clock()
        for key in self.keys(username, address):
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def success(self, username: str | None, address: str | None) -> None:
        for key in self.keys(username, address):
            self._failures.pop(key, None)
