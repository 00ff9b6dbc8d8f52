"""``LogTail``: read what a log gained since last time, whatever the log does meanwhile.

Each ``read()`` costs one ``stat`` when nothing changed. It reads at most ``max_read`` bytes (a
multi-GB log is caught up chunk by chunk, never loaded whole), holds a partial last line until
its newline arrives, and notices a log that was truncated, replaced (rotation: another inode) or
removed. Lines longer than ``max_line`` are replaced by a short placeholder; undecodable bytes
become U+FFFD.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..formatting import format_size

MiB = 1024 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Bytes kept from just before the offset: if they change, the log was rewritten in place
# (e.g. logrotate's copytruncate, then new output) even though it is not shorter.
ANCHOR = 64


@dataclass
class TailRead:
    """What one ``LogTail.read()`` found."""

    lines: list[str] = field(default_factory=list)
    start: int = 0  # byte offset of the first line
    end: int = 0  # byte offset after the last complete line: where the next read starts
    size: int = 0  # size of the log when read
    reset: bool = False  # the log restarted (truncated or replaced): lines are from its beginning
    more: bool = False  # bytes are left to read (the read was bounded)
    missing: bool = False  # the log does not exist (yet, or any more)
    notes: list[str] = field(default_factory=list)


class LogTail:
    def __init__(self, path: str | os.PathLike, offset: int = 0, max_read: int = 4 * MiB, max_line: int = MiB):
        self.path = Path(path)
        self.offset = offset
        self.max_read = max_read
        self.max_line = max_line
        self._identity: tuple[int, int] | None = None
        self._anchor = b""
        self._partial = b""
        self._skipping = 0  # bytes of an over-long line dropped so far (0: not in one)
        self._missing = False

    def _restart(self) -> None:
        self.offset = 0
        self._anchor = b""
        self._partial = b""
        self._skipping = 0

    def read(self) -> TailRead:
        result = TailRead(start=self.offset, end=self.offset)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            result.missing = True
            self._missing = True
            gone = "disappeared" if self._identity is not None else "does not exist yet"
            result.notes.append(f"the log {self.path.name} {gone}; waiting for it")
            return result
        except OSError as exc:
            result.missing = True
            result.notes.append(f"cannot read the log {self.path.name}: {exc.strerror or exc}")
            return result
        identity = (st.st_dev, st.st_ino)
        if self._missing and self._identity is not None:
            # Whatever is there now is another file, even if the file system reused the inode.
            result.reset = True
            result.notes.append(f"the log {self.path.name} is back; reading it from its start")
        elif self._identity is not None and identity != self._identity:
            result.reset = True
            result.notes.append(f"the log {self.path.name} was replaced (rotated); reading the new one from its start")
        elif st.st_size < self.offset + len(self._partial):
            result.reset = True
            result.notes.append(f"the log {self.path.name} was truncated; reading it again from its start")
        self._missing = False
        self._identity = identity
        if result.reset:
            self._restart()
        result.size = st.st_size
        consumed_to = self.offset + len(self._partial) + self._skipping
        if st.st_size == consumed_to:
            result.start = result.end = self.offset
            return result
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            result.notes.append(f"cannot open the log {self.path.name}: {exc.strerror or exc}")
            return result
        try:
            if self._anchor and os.pread(fd, len(self._anchor), self.offset - len(self._anchor)) != self._anchor:
                result.reset = True
                result.notes.append(f"the log {self.path.name} was rewritten; reading it again from its start")
                self._restart()
                consumed_to = 0
            chunk = os.pread(fd, min(self.max_read, st.st_size - consumed_to), consumed_to)
        finally:
            os.close(fd)
        result.start = self.offset
        self._consume(chunk, result)
        result.end = self.offset
        result.more = self.offset + len(self._partial) + self._skipping < st.st_size
        return result

    def _consume(self, chunk: bytes, result: TailRead) -> None:
        lines: list[str] = []
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                self._skipping += len(chunk)
                result.lines = lines
                return
            self._skip_done(self._skipping + newline + 1, lines, result)
            self._anchor = chunk[max(0, newline + 1 - ANCHOR) : newline + 1]
            chunk = chunk[newline + 1 :]
        data = self._partial + chunk if self._partial else chunk
        last = data.rfind(b"\n")
        complete, rest = (data[: last + 1], data[last + 1 :]) if last >= 0 else (b"", data)
        if complete:
            lines.extend(self._decode(complete, result))
            self.offset += len(complete)
            self._anchor = (self._anchor + complete[-ANCHOR:])[-ANCHOR:]
        if len(rest) > self.max_line:
            self._skipping = len(rest)
            self._partial = b""
        else:
            self._partial = rest
        result.lines = lines

    def _skip_done(self, skipped: int, lines: list[str], result: TailRead) -> None:
        lines.append(
            f"[a line of {format_size(skipped)} was not read: lines over {format_size(self.max_line)} are skipped]"
        )
        result.notes.append(f"skipped a line of {format_size(skipped)} (longer than {format_size(self.max_line)})")
        self.offset += skipped
        self._skipping = 0

    def _decode(self, complete: bytes, result: TailRead) -> list[str]:
        text = complete.decode("utf-8", "replace")
        lines = text.split("\n")
        lines.pop()  # after the final newline
        if "\r" in text:  # CRLF endings, or progress bars redrawn with \r: keep what a terminal shows
            lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]
        if "\x1b" in text:  # colours and cursor moves (Keras 3, tqdm, rich): a terminal shows none
            lines = [_ANSI.sub("", line) for line in lines]
        if "\x00" in text or "\ufffd" in text:
            binary = sum(1 for line in lines if "\x00" in line or "\ufffd" in line)
            lines = [line.replace("\x00", "\ufffd") for line in lines]
            result.notes.append(f"{binary} line{'s' if binary > 1 else ''} with binary data (shown with \ufffd)")
        if len(complete) > self.max_line and max(map(len, lines)) > self.max_line:
            long = [i for i, line in enumerate(lines) if len(line) > self.max_line]
            for i in long:
                size = len(lines[i].encode("utf-8", "replace"))
                lines[i] = (
                    f"[a line of {format_size(size)} was not read: lines over {format_size(self.max_line)} are skipped]"
                )
                result.notes.append(f"skipped a line of {format_size(size)} (longer than {format_size(self.max_line)})")
        return lines
