"""Sessions: app state that survives refresh and disconnect, named snapshots, an explicit cache.

>>> from jupyter_mlapp.sessions import AppState, SessionBar, cache
>>> state = AppState("churn")                       # autoloads what this user had
>>> state.link(slider, "value", "learning_rate")    # one line per widget; autosaved
>>> SessionBar(state)                               # save / load / rename / delete snapshots
"""

from __future__ import annotations

from .cache import Cache, Expiry, cache, fingerprint
from .state import AppState, end_session

__all__ = ["AppState", "Cache", "Expiry", "SessionBar", "cache", "end_session", "fingerprint"]


def __getattr__(name):
    # The widget pulls in ipywidgets: only when asked for (the server imports this package too).
    if name == "SessionBar":
        from .widgets import SessionBar

        return SessionBar
    raise AttributeError(name)
