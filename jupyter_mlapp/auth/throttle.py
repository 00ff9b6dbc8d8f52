"""Brute-force protection for logins: growing delays after failed attempts, per account and address.

An attempt is counted when it is admitted, before its password is hashed: a burst of concurrent
attempts is throttled like the same attempts one after the other. Counts are kept per (account,
address), per account and per address; an address that signed in to an account before is judged
by its own count only, so wrong passwords from elsewhere (or from a crowd behind the same NAT)
never lock its owner out.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from ..errors import MLAppError


class TooManyAttempts(MLAppError):
    status = 429

    def __init__(self, retry_after: float):
        seconds = max(1, math.ceil(retry_after))
        wait = f"{seconds} second{'s' if seconds > 1 else ''}"
        if seconds >= 60:
            minutes = math.ceil(seconds / 60)
            wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
        super().__init__(f"Too many failed sign-in attempts; try again in {wait}.", {"retry_after": seconds})
        self.retry_after = seconds


@dataclass
class _Count:
    attempts: int = 0  # admitted and not (yet) successful
    last: float = 0.0  # when the last one was admitted


class LoginThrottle:
    """``admit`` counts an attempt or raises TooManyAttempts; ``success`` takes it back.

    Under each key, the first ``free_attempts`` attempts are admitted at once; after that each
    must wait ``base_delay`` seconds after the previous one, doubling with every further attempt,
    up to ``max_delay``. A key's count is forgotten ``forget_after`` seconds after its last
    attempt, and a success ends its (account, address) count. Refused attempts are not checked,
    so they neither count nor cost a password hash.
    """

    #: Keys (and known addresses) kept at most; the oldest are forgotten first, so random
    #: usernames or addresses cannot fill memory.
    max_keys = 50_000

    def __init__(
        self,
        free_attempts: int = 5,
        max_delay: float = 15 * 60,
        forget_after: float = 24 * 3600,
        base_delay: float = 1.0,
        address_free_attempts: int = 20,
        clock=time.monotonic,
    ):
        self.free_attempts = free_attempts
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.base_delay = base_delay
        # One address tries many accounts (password spraying) more slowly, without stopping the
        # typos of the many people a proxy or NAT puts behind one address.
        self.address_free_attempts = address_free_attempts
        self.clock = clock
        self._counts: OrderedDict[tuple, _Count] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()  # (account, address) that signed in

    @staticmethod
    def _account(username: str | None) -> str:
        return (username or "").strip().lower()[:200]  # "": the server's token on the login page

    def keys(self, username: str | None, address: str | None) -> list[tuple]:
        """The counts an attempt is judged by."""
        account, address = self._account(username), address or ""
        keys: list[tuple] = [("pair", account, address)]
        if (account, address) not in self._known:
            keys += [("account", account), ("address", address)]
        return keys

    def _wait(self, key: tuple, count: _Count, now: float) -> float:
        free = self.address_free_attempts if key[0] == "address" else self.free_attempts
        if count.attempts < free:
            return 0.0
        delay = min(self.max_delay, self.base_delay * 2 ** min(count.attempts - free, 30))
        return count.last + delay - now

    def _count(self, key: tuple, now: float) -> _Count:
        count = self._counts.get(key)
        if count is None or count.last <= now - self.forget_after:
            count = _Count()
        return count

    def admit(self, username: str | None, address: str | None) -> None:
        """Count an attempt, or raise TooManyAttempts (not counted) while a key must wait."""
        now = self.clock()
        keys = self.keys(username, address)
        counts = [self._count(key, now) for key in keys]
        wait = max(self._wait(key, count, now) for key, count in zip(keys, counts, strict=True))
        if wait > 0:
            raise TooManyAttempts(wait)
        for key, count in zip(keys, counts, strict=True):
            count.attempts += 1
            count.last = now
            self._remember(self._counts, key, count)

    def success(self, username: str | None, address: str | None) -> None:
        """The admitted attempt signed in: its address is known to the account from now on."""
        account, address = self._account(username), address or ""
        for key in self.keys(username, address)[1:]:  # the shared counts: this one was no attack
            count = self._counts.get(key)
            if count is not None:
                count.attempts = max(0, count.attempts - 1)
        self._counts.pop(("pair", account, address), None)
        self._remember(self._known, (account, address), None)

    def _remember(self, mapping: OrderedDict, key, value) -> None:
        mapping[key] = value
        mapping.move_to_end(key)
        while len(mapping) > self.max_keys:
            mapping.popitem(last=False)
