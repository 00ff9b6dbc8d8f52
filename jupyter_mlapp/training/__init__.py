"""Live training plots: tail a log, parse its metrics, chart them.

In a notebook::

    from jupyter_mlapp.training import TrainingMonitor
    TrainingMonitor(job)                  # a Job, a job id, or a log file path
    TrainingMonitor("train.log", parsers=[r"iter (?P<step>\\d+) loss (?P<loss>\\S+)", *default_parsers()])
"""

from __future__ import annotations

import typing

from .metrics import MetricStore, Series, read_metrics
from .parsers import (
    JSONLinesParser,
    KerasParser,
    KeyValueParser,
    MetricParser,
    RegexParser,
    default_parsers,
    parse_lines,
)
from .tail import LogTail

if typing.TYPE_CHECKING:
    from .widgets import TrainingMonitor

__all__ = [
    "JSONLinesParser",
    "KerasParser",
    "KeyValueParser",
    "LogTail",
    "MetricParser",
    "MetricStore",
    "RegexParser",
    "Series",
    "TrainingMonitor",
    "default_parsers",
    "parse_lines",
    "read_metrics",
]


def __getattr__(name):
    # Lazy: the server imports this package for its REST API and has no use for widgets.
    if name == "TrainingMonitor":
        from .widgets import TrainingMonitor

        return TrainingMonitor
    raise AttributeError(name)
