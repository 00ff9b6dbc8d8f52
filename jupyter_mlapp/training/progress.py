"""How far a training is, read from the end of its log: ``Epoch 3/10``, a Keras or tqdm bar,
``step 30/100`` or ``step=30 total=100``; and when it will be done at that pace.

Only the log's last bytes are read (``TAIL_BYTES``), so asking costs the same at any log size. A
progress bar redrawn with ``\\r`` counts as what a terminal would show: its last state.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass

TAIL_BYTES = 16 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Keras prints "Epoch 3/10" alone when the epoch starts; scripts that print it with their metrics
# print it when the epoch ends.
_EPOCH = re.compile(r"\bepoch\s*[\[(:=]?\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)
_EPOCH_ALONE = re.compile(r"^\s*epoch\s+\d+\s*/\s*\d+\s*$", re.IGNORECASE)
# Within an epoch or a run: Keras "12/32 [====>" (or its box-drawing bar), tqdm " 45%|####  | 45/100 [".
_BAR = re.compile(r"^\s*(\d+)/(\d+)\s+(?:\[|[\u2500-\u257f])")
_TQDM = re.compile(r"\d+%\|[^|]*\|\s*(\d+)/(\d+)\b")
_STEP = re.compile(r"\b(?:step|iter(?:ation)?|batch)\s*[\[(:=]?\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)
_STEP_TOTAL = re.compile(
    r"""\b(?:step|global_step|iter(?:ation)?)"?\s*[=:]\s*(\d+)\b.*?\b(?:total|total_steps|max_steps)"?\s*[=:]\s*(\d+)""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Progress:
    """Where a run is: ``fraction`` done (0-1), ``label`` (``epoch 3/10``, ``step 30/100``) and,
    when the time it ran is known, ``eta``: the seconds left at its pace so far."""

    fraction: float
    label: str
    eta: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def with_eta(self, elapsed: float | None, since_fraction: float = 0.0) -> Progress:
        """The same progress with its ETA: ``elapsed`` seconds took it from ``since_fraction``
        (0: the start of the run) to where it is."""
        gained = self.fraction - since_fraction
        if elapsed is None or elapsed <= 0 or gained <= 0:
            return Progress(self.fraction, self.label)
        return Progress(self.fraction, self.label, round(elapsed * (1 - self.fraction) / gained, 1))


def _pair(match: re.Match | None) -> tuple[int, int] | None:
    if match is None:
        return None
    done, total = int(match[1]), int(match[2])
    return (min(done, total), total) if total > 0 else None


def _inner(line: str) -> tuple[int, int] | None:
    """A bar or step count on ``line`` (not an epoch)."""
    return _pair(_BAR.match(line) or _TQDM.search(line) or _STEP.search(line) or _STEP_TOTAL.search(line))


def parse_progress(lines: list[str]) -> Progress | None:
    """The progress the last of ``lines`` tell, or None when they say nothing of it."""
    inner: tuple[int, int] | None = None
    for line in reversed(lines):
        line = _ANSI.sub("", line).rsplit("\r", 1)[-1]
        epoch = _pair(_EPOCH.search(line))
        if epoch is not None:
            n, epochs = epoch
            inner = inner or _pair(_TQDM.search(line))  # tqdm's desc "Epoch 3/10: 45%|###  | 45/100"
            # A bar after "Epoch n/N" says how far epoch n is; without one, a line of its own
            # starts the epoch and a line with metrics ends it.
            alone = n - 1 if _EPOCH_ALONE.match(line) else n
            done = n - 1 + inner[0] / inner[1] if inner is not None else alone
            return Progress(round(max(0.0, min(1.0, done / epochs)), 4), f"epoch {n}/{epochs}")
        if inner is None:
            inner = _inner(line)
            if inner is not None and not _BAR.match(line):
                # a tqdm bar or a step count of the whole run (a Keras bar belongs to an epoch above it)
                return Progress(round(inner[0] / inner[1], 4), f"step {inner[0]}/{inner[1]}")
    if inner is not None:  # a bar with no epoch line in sight
        return Progress(round(inner[0] / inner[1], 4), f"step {inner[0]}/{inner[1]}")
    return None


def log_progress(path: str | os.PathLike, elapsed: float | None = None) -> Progress | None:
    """The progress at the end of the log at ``path`` (None if it tells none, or is missing),
    with its ETA when ``elapsed`` (the seconds the run has taken so far) is given."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read(TAIL_BYTES)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first one is cut
    progress = parse_progress(lines)
    return progress.with_eta(elapsed) if progress is not None else None
