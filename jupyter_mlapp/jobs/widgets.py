"""``JobTable``: the live table of jobs, and ``EnvPicker``: choose an environment.

The table refreshes itself about once a second on the kernel's event loop. It keeps one row of
widgets per job and only changes the values that changed, so nothing flickers and an open log
or a pending confirmation survives the refresh.
"""

from __future__ import annotations

import asyncio
import datetime
import html

import ipywidgets as widgets
from traitlets import Unicode

from ..errors import MLAppError
from ..formatting import format_duration, format_size
from ..stylesheet import stylesheet
from ..training.progress import log_progress
from .store import ACTIVE, Job

LOG_TAIL = 32 * 1024
COLUMNS = (  # (title, width)
    ("Name", "13%"),
    ("Command", "10%"),
    ("Environment", "7%"),
    ("State", "8%"),
    ("Started", "8%"),
    ("Runtime", "7%"),
    ("Progress", "10%"),
    ("CPU %", "6%"),
    ("Memory", "7%"),
    ("Exit", "5%"),
    ("", "19%"),
)


def format_time(stamp: float | None) -> str:
    return datetime.datetime.fromtimestamp(stamp).strftime("%H:%M:%S") if stamp else ""


def _cell(width: str) -> widgets.Label:
    return widgets.Label(layout=widgets.Layout(width=width, min_width="0"))


class _Row(widgets.HBox):
    """One job's row: labels updated in place, a log, a kill and a remove button."""

    def __init__(self, job: Job, table: JobTable):
        self.staff = table.manager.is_staff
        self.cells = [_cell(width) for title, width in COLUMNS[:-1] if title != "Progress"]
        # What the log says of how far the job is (Epoch 3/10, a tqdm bar): a bar and the time left.
        self.progress = widgets.FloatProgress(min=0, max=1, layout=widgets.Layout(width="95%", height="10px"))
        self.progress_text = widgets.Label(layout=widgets.Layout(width="95%", min_width="0"))
        progress = widgets.VBox([self.progress, self.progress_text], layout=widgets.Layout(width=COLUMNS[6][1]))
        progress.add_class("mlapp-jobs-progress")
        self.log_button = widgets.Button(description="Log", icon="file-text-o", tooltip="Show this job's log")
        self.kill_button = widgets.Button(
            description="Kill",
            icon="stop",
            button_style="danger",
            tooltip="SIGTERM, then SIGKILL after the grace period",
        )
        self.remove_button = widgets.Button(
            description="Remove", icon="trash", tooltip="Remove this finished job and its log"
        )
        self.log_button.on_click(lambda _: table.show_log(self.job_id))
        self.kill_button.on_click(lambda _: table.kill(self.job_id))
        self.remove_button.on_click(lambda _: table.ask_remove(self.job_id))
        actions = widgets.HBox(
            [self.log_button, self.kill_button, self.remove_button], layout=widgets.Layout(width=COLUMNS[-1][1])
        )
        super().__init__([*self.cells[:6], progress, *self.cells[6:], actions])
        self.add_class("mlapp-jobs-row")
        self.job_id = job.id
        self.state = ""
        self.update(job)

    def update(self, job: Job) -> None:
        running = job.state == "running"
        values = (
            job.name,
            " ".join(job.command),
            where(job),
            job.state,
            format_time(job.started_at),
            format_duration(job.runtime),
            f"{job.cpu_percent:.0f}" if running and job.cpu_percent is not None else "",
            format_size(job.memory) if running else "",
            str(job.exit_code) if job.exit_code is not None else (job.signal or ""),
        )
        for cell, value in zip(self.cells, values, strict=False):
            if cell.value != value:  # unchanged values send nothing: no flicker
                cell.value = value
        if job.state != self.state:
            state_cell = self.cells[3]
            state_cell.remove_class(f"mlapp-state-{self.state}")
            state_cell.add_class("mlapp-state")
            state_cell.add_class(f"mlapp-state-{job.state}")
            self.remove_class(f"mlapp-job-{self.state}")
            self.add_class(f"mlapp-job-{job.state}")
            self.state = job.state
            # A viewer controls only the template jobs they started (the manager says why otherwise).
            mine = self.staff or job.template is not None
            self.kill_button.disabled = job.finished or not mine
            self.remove_button.disabled = not job.finished or not mine
        self._show_progress(job)
        tip = job.reason or " ".join(job.command)
        if self.cells[1].tooltip != tip:
            self.cells[1].tooltip = tip

    def _show_progress(self, job: Job) -> None:
        progress = log_progress(job.log_path, job.runtime) if job.state == "running" else None
        self.progress.layout.visibility = "visible" if progress else "hidden"
        text = ""
        if progress:
            left = f" · {format_duration(progress.eta)} left" if progress.eta is not None else ""
            text = f"{progress.fraction:.0%}{left}"
            if self.progress.value != progress.fraction:
                self.progress.value = progress.fraction
            self.progress_text.tooltip = progress.label
        if self.progress_text.value != text:
            self.progress_text.value = text


class JobTable(widgets.VBox):
    """The jobs of the app's user: ``JobTable()`` in a notebook or a Voila app.

    It refreshes every ``interval`` seconds while shown. ``max_rows`` bounds the rows drawn
    (active jobs first, then the most recent ones).
    """

    def __init__(self, manager=None, interval: float = 1.0, max_rows: int = 100, autorefresh: bool = True, **kwargs):
        super().__init__(**kwargs)
        if manager is None:
            from . import manager as default_manager

            manager = default_manager()
        self.manager = manager
        self.interval = interval
        self.max_rows = max_rows
        self.add_class("mlapp-jobs")
        self._rows: dict[str, _Row] = {}
        self._log_job: str | None = None
        self._log_offset: int | None = None
        self._task: asyncio.Task | None = None

        self.message = widgets.HTML()
        self.message.add_class("mlapp-jobs-message")
        self.summary = widgets.Label()
        self.kill_all_button = widgets.Button(
            description="Kill all",
            icon="stop-circle",
            button_style="danger",
            tooltip="Kill every queued and running job",
        )
        self.kill_all_button.on_click(lambda _: self.ask_kill_all())
        self.clear_button = widgets.Button(
            description="Clear finished", icon="trash", tooltip="Remove the jobs that have ended, and their logs"
        )
        self.clear_button.on_click(lambda _: self.ask_clear_finished())
        # One confirmation for every action that cannot be undone; _confirmed runs the one asked.
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(description="Yes", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self._on_confirm = None
        self.confirm_button.on_click(lambda _: self._confirmed())
        self.cancel_button.on_click(lambda _: self._confirm(False))
        self.confirmation = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_button], layout=widgets.Layout(display="none")
        )
        self.confirmation.add_class("mlapp-jobs-confirm")
        toolbar = widgets.HBox([self.summary, self.kill_all_button, self.clear_button, self.confirmation])
        toolbar.add_class("mlapp-jobs-toolbar")

        header = widgets.HBox([widgets.Label(title, layout=widgets.Layout(width=width)) for title, width in COLUMNS])
        header.add_class("mlapp-jobs-row")
        header.add_class("mlapp-jobs-header")
        self.empty = widgets.HTML("<div class='mlapp-jobs-empty'>No jobs yet.</div>")
        self.body = widgets.VBox()
        self.log_title = widgets.HTML()
        self.log_text = widgets.HTML()
        close = widgets.Button(description="Close log", icon="times")
        close.on_click(lambda _: self.show_log(None))
        self.log_panel = widgets.VBox(
            [widgets.HBox([self.log_title, close]), self.log_text], layout=widgets.Layout(display="none")
        )
        self.log_panel.add_class("mlapp-jobs-log")
        self.children = [stylesheet(), toolbar, self.message, header, self.body, self.log_panel]
        self.refresh()
        if autorefresh:
            self.start()

    # -- refreshing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            jobs = self.manager.list()
        except MLAppError as err:
            self.say(str(err), error=True)
            return
        active = [job for job in jobs if not job.finished]
        finished = [job for job in jobs if job.finished]
        shown = list(reversed(active)) + list(reversed(finished))[: max(0, self.max_rows - len(active))]
        rows = []
        for job in shown:
            row = self._rows.get(job.id)
            if row is None:
                row = self._rows[job.id] = _Row(job, self)
            else:
                row.update(job)
            rows.append(row)
        for job_id in set(self._rows) - {job.id for job in shown}:
            self._rows.pop(job_id).close()
        children = tuple(rows) or (self.empty,)
        if self.body.children != children:
            self.body.children = children
        counts = {state: sum(job.state == state for job in jobs) for state in ("running", "queued")}
        summary = (
            f"{len(jobs)} job{'s' if len(jobs) != 1 else ''}, {counts['running']} running, {counts['queued']} queued"
        )
        if self.summary.value != summary:
            self.summary.value = summary
        self.kill_all_button.disabled = not active
        self.clear_button.disabled = not finished
        if self._log_job is not None:
            self._refresh_log()

    def start(self) -> None:
        """Refresh every ``interval`` seconds on the kernel's event loop."""
        if self._task is None or self._task.done():
            try:
                self._task = asyncio.get_event_loop().create_task(self._loop())
            except RuntimeError:  # no event loop (a plain script): refresh by hand
                self._task = None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.refresh()
            except Exception as exc:  # keep refreshing; say what went wrong instead of dying silently
                self.say(f"refresh failed: {exc}", error=True)

    def close(self) -> None:
        self.stop()
        super().close()

    def say(self, text: str, error: bool = False) -> None:
        self.message.value = html.escape(text)
        (self.message.add_class if error else self.message.remove_class)("mlapp-error")

    # -- actions -------------------------------------------------------------------------------
    def _act(self, action, done) -> None:
        """Run a manager action, then say what it did (``done(result)``) or why it failed."""
        try:
            result = action()
        except MLAppError as err:
            self.say(str(err), error=True)
            return
        self.say(done(result))
        self.refresh()

    def kill(self, job_id: str) -> None:
        self._act(lambda: self.manager.kill(job_id), lambda result: result.message)

    def ask_kill_all(self) -> None:
        active = sum(not job.finished for job in self.manager.list())
        self._ask(f"Kill {active} job{'s' if active != 1 else ''}?", "Yes, kill all", self.kill_all)

    def kill_all(self) -> None:
        self._confirm(False)
        self._act(self.manager.kill_all, lambda results: f"Killing {sum(r.killed for r in results)} jobs.")

    def ask_remove(self, job_id: str) -> None:
        row = self._rows.get(job_id)
        name = row.cells[0].value if row else job_id
        self._ask(f"Remove job {html.escape(name)} and its log?", "Yes, remove", lambda: self.remove(job_id))

    def remove(self, job_id: str) -> None:
        self._confirm(False)
        if self._log_job == job_id:
            self.show_log(None)
        self._act(lambda: self.manager.remove(job_id), lambda job: f"Removed job {job.name}.")

    def ask_clear_finished(self) -> None:
        finished = sum(job.finished for job in self.manager.list())
        self._ask(
            f"Remove {finished} finished job{'s' if finished != 1 else ''} and their logs?",
            "Yes, remove",
            self.clear_finished,
        )

    def clear_finished(self) -> None:
        self._confirm(False)
        shown = self._rows.get(self._log_job) if self._log_job is not None else None
        if shown is not None and shown.state not in ACTIVE:  # its log is about to go
            self.show_log(None)
        self._act(
            self.manager.clear_finished, lambda removed: f"Removed {removed} finished job{'s' if removed != 1 else ''}."
        )

    def _ask(self, question: str, answer: str, action) -> None:
        self.confirm_text.value = question
        self.confirm_button.description = answer
        self._on_confirm = action
        self._confirm(True)

    def _confirmed(self) -> None:
        action, self._on_confirm = self._on_confirm, None
        if action is not None:
            action()

    def _confirm(self, show: bool) -> None:
        self.confirmation.layout.display = "flex" if show else "none"
        for button in (self.kill_all_button, self.clear_button):
            button.layout.display = "none" if show else ""

    def show_log(self, job_id: str | None) -> None:
        """Show the last part of a job's log below the table (None hides it)."""
        self._log_job, self._log_offset = job_id, None
        self.log_panel.layout.display = "none" if job_id is None else "flex"
        if job_id is not None:
            self._refresh_log()

    def _refresh_log(self) -> None:
        try:
            job = self.manager.get(self._log_job)
            chunk = self.manager.read_log(self._log_job, tail=LOG_TAIL)
        except MLAppError as err:
            self.say(str(err), error=True)
            self.show_log(None)
            return
        if chunk.next_offset == self._log_offset:
            return  # nothing new
        self._log_offset = chunk.next_offset
        cut = "…\n" if chunk.offset > 0 else ""
        self.log_title.value = f"<b>Log of {html.escape(job.name)}</b> ({format_size(chunk.size)})"
        self.log_text.value = f"<pre>{html.escape(cut + chunk.text) or '(empty)'}</pre>"


class EnvPicker(widgets.VBox):
    """Choose an environment: ``picker.value`` is its name (``""`` for the kernel's own)."""

    value = Unicode("", help="name of the chosen environment")

    def __init__(self, finder=None, description: str = "Environment", **kwargs):
        super().__init__(**kwargs)
        if finder is None:
            from . import manager

            finder = manager().environments
        self.finder = finder
        self.add_class("mlapp-envs")
        self.dropdown = widgets.Dropdown(
            description=description, options=[("(finding environments…)", "")], style={"description_width": "initial"}
        )
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Look for environments again", layout=widgets.Layout(width="36px")
        )
        self.info = widgets.HTML()
        self.info.add_class("mlapp-envs-info")
        self._envs: dict = {}
        self.dropdown.observe(self._chosen, "value")
        self.refresh_button.on_click(lambda _: self.refresh(force=True))
        self.children = [widgets.HBox([self.dropdown, self.refresh_button]), self.info]
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Discover in a thread (conda can take seconds); the kernel stays responsive."""
        try:
            loop = asyncio.get_event_loop()
            if not loop.is_running():
                raise RuntimeError
        except RuntimeError:
            self._show(self.finder.environments(refresh=force))
            return
        self.refresh_button.disabled = True

        async def discover():
            try:
                envs = await loop.run_in_executor(None, lambda: self.finder.environments(refresh=force))
                self._show(envs)
            except Exception as exc:
                self.info.value = html.escape(f"could not list environments: {exc}")
            finally:
                self.refresh_button.disabled = False

        self._discovery = loop.create_task(discover())  # kept: the loop holds tasks only weakly

    def _show(self, envs) -> None:
        self._envs = {env.name: env for env in envs}
        current = self.value
        self.dropdown.options = [
            (f"{env.name} ({env.kind}, Python {env.python_version or '?'})", env.name) for env in envs
        ]
        self.dropdown.value = current if current in self._envs else (envs[0].name if envs else None)

    def _chosen(self, change) -> None:
        env = self._envs.get(change["new"])
        if env is None:
            return
        self.value = "" if env.kind == "server" else env.name
        lines = [f"<code>{html.escape(env.path)}</code>"]
        if env.hint:
            lines.append(f"<span class='mlapp-envs-hint'>{html.escape(env.hint)}</span>")
        self.info.value = "<br>".join(lines)


def where(job: Job) -> str:
    """The environment cell: the job's environment, and for a Ray job the resources it asked for."""
    environment = job.environment or "(server)"
    if job.backend != "ray":
        return environment
    asked = job.resources or {}
    parts = [f"{asked['cpus']:g} CPU" if "cpus" in asked else "", f"{asked['gpus']:g} GPU" if "gpus" in asked else ""]
    parts.append(format_size(asked["memory"]) if asked.get("memory") else "")
    return f"{environment} on Ray" + (f" ({', '.join(p for p in parts if p)})" if any(parts) else "")


class JobLauncher(widgets.VBox):
    """A form to start a job: command line, name, environment and lines for its input.

    ``JobLauncher(table=JobTable())`` shows the new job in the table at once. A viewer sees a
    message instead of the form: they start only the templates an app offers (the manager refuses
    them any other command, whatever the widget sends).
    """

    def __init__(self, manager=None, table: JobTable | None = None, **kwargs):
        super().__init__(**kwargs)
        if manager is None:
            from . import manager as default_manager

            manager = default_manager()
        self.manager = manager
        self.table = table
        self.add_class("mlapp-jobs-launcher")
        wide = widgets.Layout(width="min(640px, 95%)")
        self.command = widgets.Text(description="Command", placeholder="python train.py --epochs 5", layout=wide)
        self.name = widgets.Text(description="Name", placeholder="(optional)")
        self.stdin = widgets.Textarea(
            description="Input", placeholder="lines for the command's questions (optional)", rows=2, layout=wide
        )
        self.environment = EnvPicker(finder=manager.environments)
        # Where it runs: offered when the server has a Ray cluster (c.MLApp.ray_address).
        backends = manager.offers_cluster()
        self.backend = widgets.Dropdown(
            description="Run on",
            options=[("this machine", "local"), ("the Ray cluster", "ray")],
            value=getattr(manager.backend, "default", "local"),
            layout=widgets.Layout(display=None if backends else "none"),
        )
        self.cpus = widgets.BoundedFloatText(description="CPUs", value=1, min=0, max=4096, step=1)
        self.gpus = widgets.BoundedFloatText(description="GPUs", value=0, min=0, max=1024, step=1)
        self.memory_gb = widgets.BoundedFloatText(description="Memory GB", value=0, min=0, max=1 << 20, step=1)
        self.resources = widgets.HBox([self.cpus, self.gpus, self.memory_gb])
        self.backend.observe(lambda _: self._show_resources(), "value")
        self._show_resources()
        self.start_button = widgets.Button(description="Start job", icon="play", button_style="primary")
        self.start_button.on_click(lambda _: self.start())
        self.message = widgets.HTML()
        self.message.add_class("mlapp-jobs-message")
        self.children = [
            self.command,
            self.name,
            self.environment,
            self.backend,
            self.resources,
            self.stdin,
            widgets.HBox([self.start_button, self.message]),
            stylesheet(),
        ]
        if not manager.is_staff:  # the form stays, greyed out, under the reason
            self.notice = widgets.HTML(
                "<div class='mlapp-error mlapp-jobs-notice'>Starting commands is for editors: "
                f"you are signed in as a {html.escape(manager.role)}. Ask an editor, or use an app that offers this "
                "job.</div>"
            )
            for field in (self.command, self.name, self.stdin, self.start_button, self.environment.dropdown):
                field.disabled = True
            self.command.placeholder = "for editors only"
            self.children = [self.notice, *self.children]

    def _show_resources(self) -> None:
        self.resources.layout.display = None if self.backend.value == "ray" else "none"

    def start(self) -> Job | None:
        stdin = self.stdin.value.splitlines() if self.stdin.value else None
        on_ray = self.backend.value == "ray"
        resources = {"cpus": self.cpus.value, "gpus": self.gpus.value, "memory": int(self.memory_gb.value * 2**30)}
        try:
            job = self.manager.start(
                self.command.value,
                name=self.name.value.strip() or None,
                environment=self.environment.value or None,
                stdin=stdin,
                backend=self.backend.value,
                resources={k: v for k, v in resources.items() if v} if on_ray else None,
            )
        except MLAppError as err:
            self.message.value = f"<span class='mlapp-error'>{html.escape(str(err))}</span>"
            return None
        self.message.value = f"Started <b>{html.escape(job.name)}</b> ({job.state})."
        if self.table is not None:
            self.table.refresh()
        return job
