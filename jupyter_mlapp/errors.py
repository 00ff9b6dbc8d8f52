"""Errors a manager raises for bad input; handlers turn them into HTTP 4xx, widgets into a message.

Managers stay free of Tornado: they raise these, and ``web.MLAppHandler`` maps each to its status.
"""

from __future__ import annotations


class MLAppError(Exception):
    """Base of every error we expect to show to a user. ``str(err)`` is the one-line message."""

    status = 400

    def __init__(self, message: str, detail=None):
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(MLAppError, ValueError):
    status = 400


class NotSignedIn(MLAppError):
    status = 401


class Forbidden(MLAppError, PermissionError):
    status = 403


class NotFound(MLAppError, KeyError):
    status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class Conflict(MLAppError):
    status = 409


class TooLarge(MLAppError):
    status = 413


class ServerBusy(MLAppError):
    """Not now: too many app kernels, or a database another process holds locked. HTTP 503 with
    ``Retry-After``; the request may succeed when tried again."""

    status = 503

    def __init__(self, message: str, detail=None, retry_after: int = 60):
        super().__init__(message, detail)
        self.retry_after = retry_after
