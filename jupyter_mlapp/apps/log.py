"""The app's log: what the notebook's cells print or display while Voila serves it as an app.

In JupyterLab a notebook shows every cell's output, as it should. Served as an app, the same
outputs (an author's debug prints, a ``df.head()`` left in a cell, warnings) would stand above
the app, for every viewer. From the first cell of a notebook that creates an ``App`` (the mlapp
Voila template starts the log there; ``App(...)`` starts it where no template did), each cell's
stdout, stderr and displays are captured (IPython's ``capture_output``, entered before a cell
runs and left after it) and kept here: editors and admins read them in the app's folded "Log",
viewers get none of it (nothing is sent to their browser). The app's own widget is displayed
past the capture (``paused``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from IPython.core.displayhook import CapturingDisplayHook
from IPython.utils.capture import capture_output

MAX_OUTPUTS = 200  # the log keeps the latest outputs only: a loop that prints cannot grow it without bound

_LOGS: WeakKeyDictionary = WeakKeyDictionary()  # shell -> its CellLog


class CellLog:
    """Captures the outputs of the cells run after it starts (one per kernel: ``for_shell``).

    ``keep=False`` (a viewer's kernel) still captures, so nothing reaches the page, but keeps
    nothing. ``outputs`` are nbformat outputs (``stream``, ``display_data``), ready for an
    ``ipywidgets.Output``; listeners are called with them after each cell.
    """

    def __init__(self, shell, keep: bool):
        self.shell = shell
        self.keep = keep
        self.outputs: deque[dict] = deque(maxlen=MAX_OUTPUTS)
        self.listeners: list[Callable[[tuple[dict, ...]], None]] = []
        self._capture: tuple | None = None  # (the context, its CapturedIO, the cell result's hook it replaced)
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)
        self.start()  # the rest of the cell that started the log

    @classmethod
    def for_shell(cls, shell, keep: bool) -> CellLog:
        """The kernel's log (made on first use; a re-run cell must not capture twice)."""
        if shell not in _LOGS:
            _LOGS[shell] = cls(shell, keep)
        return _LOGS[shell]

    def _pre_run_cell(self, info=None) -> None:
        self.start()

    def _post_run_cell(self, result=None) -> None:
        self.stop()
        if self.keep and self.listeners:
            outputs = tuple(self.outputs)
            for listener in list(self.listeners):
                listener(outputs)

    def start(self) -> None:
        if self._capture is None:
            context = capture_output()
            captured = context.__enter__()
            # A cell's last value (``df.head()``) goes out through the hook IPython's display trap
            # installs while the cell runs, not through sys.displayhook: capture it there too.
            hook = self.shell.display_trap.hook
            self.shell.display_trap.hook = CapturingDisplayHook(
                shell=self.shell, outputs=self.shell.display_pub.outputs
            )
            self._capture = (context, captured, hook)

    def stop(self) -> None:
        capture, self._capture = self._capture, None
        if capture is None:
            return
        context, captured, hook = capture
        self.shell.display_trap.hook = hook
        context.__exit__(None, None, None)
        if self.keep:
            self._collect(captured)

    @contextmanager
    def paused(self):
        """Outputs in this block go to the page (the app's own widget), not to the log."""
        active = self._capture is not None
        self.stop()
        try:
            yield
        finally:
            if active:
                self.start()

    def _collect(self, captured) -> None:
        for name in ("stdout", "stderr"):
            text = getattr(captured, name)
            if text:
                self.outputs.append({"output_type": "stream", "name": name, "text": text})
        for output in captured.outputs:
            self.outputs.append({"output_type": "display_data", "data": output.data, "metadata": output.metadata or {}})
