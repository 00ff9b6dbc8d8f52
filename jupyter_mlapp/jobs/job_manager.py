"""``JobManager``: start, list, kill and read the logs of background jobs, per user.

The server, notebooks and Voila apps each make their own ``JobManager`` on the same home folder;
the records in SQLite and the supervisors make them agree (see ``store`` and ``supervisor``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import re
import shlex
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import current_role, current_user, settings
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from ..home import room_dir
from .backend import Backend, LogChunk
from .dispatcher import THIS_MACHINE, JobBackends
from .environments import Environment, EnvironmentFinder, default_finder
from .store import ACTIVE, Job, JobStore, QueueFull
from .templates import JobTemplate

DEFAULT_LOG_READ = 64 * 1024
MAX_LOG_READ = 4 * 1024 * 1024
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
JOB_FOLDER = re.compile(r"[0-9a-f]{1,32}")  # a job's folder is named by its id: never a path
HISTORY_CHECK = 3600.0  # seconds between two prunings of the job history
PYTHON_NAMES = ("python", "python3")
STAFF = ("admin", "editor")  # the roles that may run commands of their own
REDACTED = "*"
SECRETS_CHECK = 10.0  # seconds a list of the server secrets found on disk is reused
SECRET_VARIABLES = ("JUPYTER_TOKEN", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")


@dataclass
class KillResult:
    job: Job
    message: str
    killed: bool  # False: nothing to do (the job had already ended)

    def to_json(self) -> dict:
        return {"job": self.job.to_json(), "message": self.message, "killed": self.killed}


class JobManager:
    """Background jobs of one user (an admin sees and controls everyone's).

    ``limit`` jobs run at once (default: the number of cores, or ``$MLAPP_JOB_LIMIT``); more wait
    in state ``queued``, taken in turn from each user's, and each user queues at most
    ``max_queued`` (default 50, or ``$MLAPP_JOB_QUEUE_LIMIT``). ``grace`` is the time between SIGTERM and SIGKILL
    when a job is killed
    (default 10 s, or ``$MLAPP_JOB_GRACE``). Relative working folders are in ``workspace``;
    with ``confine_cwd`` (the server's REST API) they cannot leave it.

    ``role`` (default: ``current_role()``, set by the server for each kernel) decides what the
    user may do: a viewer starts only templates (``start_template``) and kills or removes only the
    template jobs they started; an editor or an admin starts any command.
    """

    def __init__(
        self,
        home=None,
        user: str | None = None,
        *,
        admin: bool = False,
        role: str | None = None,
        limit: int | None = None,
        grace: float | None = None,
        max_queued: int | None = None,
        workspace: str | os.PathLike | None = None,
        environments: EnvironmentFinder | None = None,
        backend: Backend | None = None,
        confine_cwd: bool = False,
    ):
        self.root = room_dir("jobs", home)
        self.store = JobStore(self.root / "jobs.sqlite")
        self.backend = backend or JobBackends(self.store)
        self.user = user or current_user()
        self.admin = admin
        self.role = role or ("admin" if admin else current_role())
        self.templates: dict[str, JobTemplate] = {}  # shared by every view of as_user
        self._secrets: tuple[float, list[str]] = (-SECRETS_CHECK, [])
        self.limit = int(limit or settings.JOB_LIMIT.get())
        self.grace = float(grace if grace is not None else settings.JOB_GRACE.get())
        self.workspace = Path(workspace or os.getcwd()).resolve()
        self.confine_cwd = confine_cwd
        self._stoppers: list = []  # background work to stop at close()
        self.environments = environments or (
            default_finder() if workspace is None else EnvironmentFinder(workspace=workspace)
        )
        self.max_queued = int(max_queued or settings.JOB_QUEUE_LIMIT.get())
        if self.limit < 1:
            raise InvalidInput("the job limit must be at least 1")
        if self.grace < 0:
            raise InvalidInput("the kill grace period cannot be negative")

    def as_user(self, user: str, admin: bool = False, role: str | None = None) -> JobManager:
        """The same jobs seen by ``user`` of ``role`` (the server makes one per request)."""
        view = copy.copy(self)
        view.user, view.admin, view.role = user, admin, role or ("admin" if admin else "editor")
        return view

    @property
    def is_staff(self) -> bool:
        """Whether the user may run commands of their own (an unknown role may not)."""
        return self.role in STAFF

    def _require_staff(self, action: str) -> None:
        if not self.is_staff:
            raise Forbidden(
                f"{action} is for editors: you are signed in as a {self.role}. "
                "Apps offer viewers the jobs their author prepared.",
                detail={"role": self.role},
            )

    def _require_control(self, job: Job, action: str) -> None:
        """A viewer controls only the template jobs they started (their own work, fixed by an app)."""
        if not self.is_staff and job.template is None:
            raise Forbidden(
                f"{action} job {job.name} is for editors: you are signed in as a {self.role}",
                detail={"id": job.id, "role": self.role},
            )

    # -- starting ------------------------------------------------------------------------------
    def start(
        self,
        command,
        name: str | None = None,
        cwd=None,
        env: dict | None = None,
        environment: str | None = None,
        stdin=None,
        backend: str | None = None,
        resources: dict | None = None,
    ) -> Job:
        """Start ``command`` (an argv list, a command line, or a ``script.py`` with arguments).

        ``environment`` is the name or path of a conda or virtual environment (see ``envs()``):
        the job runs with its interpreter and its activation variables. ``stdin`` is a string or
        a list of lines fed to the command's standard input. The job waits in ``queued`` while
        ``limit`` jobs run. Bad input raises ``InvalidInput`` and records nothing; a viewer is
        refused (``Forbidden``: they start templates only).

        ``backend``: ``"local"`` (this machine) or ``"ray"`` (the server's Ray cluster, with
        ``resources`` ``{"cpus", "gpus", "memory"}`` asked of it); default: the server's choice.
        """
        self._require_staff("starting a command")
        return self._start(
            self._command(command),
            name=name,
            cwd=cwd,
            env=env,
            environment=environment,
            stdin=stdin,
            backend=backend,
            resources=resources,
        )

    def _start(
        self,
        argv,
        name=None,
        cwd=None,
        env=None,
        environment=None,
        stdin=None,
        template=None,
        backend=None,
        resources=None,
    ) -> Job:
        workdir = self._cwd(cwd)
        overlay = self._env(env)
        chosen = self._environment(environment)
        if chosen is not None:
            overlay = {**chosen.activation(), **overlay}
        resolved = self._resolve(argv, workdir, chosen, overlay)
        stdin_data = self._stdin(stdin)
        if name is not None and not str(name).strip():
            raise InvalidInput("a job name cannot be blank")
        name = str(name).strip()[:200] if name is not None else shlex.join(argv)[:80]
        backend, resources = self._backend(backend, resources)

        job_id = uuid.uuid4().hex[:12]
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        try:
            log_path = folder / "output.log"
            log_path.touch(mode=0o600)
            stdin_path = None
            if stdin_data is not None:
                stdin_path = folder / "stdin"
                stdin_path.touch(mode=0o600)
                stdin_path.write_bytes(stdin_data)
            job = Job(
                id=job_id,
                name=name,
                user=self.user,
                command=argv,
                argv=resolved,
                cwd=str(workdir),
                env=overlay,
                environment=chosen.name if chosen else None,
                environment_path=chosen.path if chosen else None,
                stdin_path=str(stdin_path) if stdin_path else None,
                log_path=str(log_path),
                grace=self.grace,
                state="queued",
                created_at=time.time(),
                role=self.role,
                template=template,
                backend=backend,
                resources=resources,
            )
            self.store.insert(job, max_queued=self.max_queued)
        except QueueFull as full:
            shutil.rmtree(folder, ignore_errors=True)
            raise TooLarge(
                f"you have {full.queued} jobs queued, the most one user may: wait for some to start, or kill some",
                detail={"queued": full.queued, "max_queued": self.max_queued},
            ) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if backend is None:
            self.dispatch()
        else:  # the cluster queues it: not a slot of this machine's
            claimed = self.store.update(job_id, only_if_state=("queued",), state="running", claimed_at=time.time())
            if claimed is not None:
                self.backend.start(claimed, self.limit)
        return self.store.get(job_id) or job

    def _backend(self, backend, resources) -> tuple[str | None, dict | None]:
        """Where a new job runs (None: this machine) and what it asks of the cluster."""
        choose = getattr(self.backend, "choose", None)
        if choose is None:  # a single backend given to the manager
            if backend not in (None, "", "local"):
                raise InvalidInput(f"this job manager runs jobs on one backend; {str(backend)[:40]!r} is not it")
            chosen = None
        else:
            chosen = choose(backend)
        if resources not in (None, {}) and chosen is None:
            raise InvalidInput(
                "resources (CPUs, GPUs, memory) are asked of a cluster: start the job with backend='ray'"
            )
        from .ray_backend import check_resources

        return chosen, check_resources(resources) if chosen else None

    def backends(self) -> dict:
        """Where new jobs may run: ``{"default": "local", "backends": [{"name", "available",
        "address", "message"}, ...]}``, this machine first, then the Ray cluster when the server
        has one, with whether it answers now and why not (a recent answer: it never waits long)."""
        describe = getattr(self.backend, "describe", None)
        if describe is None:  # a single backend given to the manager
            return {"default": "local", "backends": [dict(THIS_MACHINE)]}
        answer = describe()
        if not self.is_staff:
            # A viewer starts only templates, whose author chose where they run: where the cluster
            # is, and what it answered, is the staff's business.
            answer["backends"] = [{**backend, "address": None, "message": None} for backend in answer["backends"]]
        return answer

    def offers_cluster(self) -> bool:
        """Whether new jobs may be sent to a cluster (the start forms then offer the choice); never
        asks the cluster."""
        offers = getattr(self.backend, "offers_ray", None)
        return bool(offers and offers())

    # -- templates: what viewers may start -----------------------------------------------------
    def add_template(self, template: JobTemplate) -> JobTemplate:
        """Offer ``template`` to every user of this manager (viewers included), replacing one of
        the same name. Only code calls this (an app declares its templates as it starts): a
        viewer's browser sends widget values, never a template."""
        if not isinstance(template, JobTemplate):
            raise InvalidInput("add_template takes a JobTemplate")
        template.manager = self
        self.templates[template.name] = template
        return template

    def start_template(
        self, template: str, params: dict | None = None, environment: str | None = None, name: str | None = None
    ) -> Job:
        """Start a job from the template named ``template`` with ``params`` checked against its
        parameters (any user may: the command is the template's). ``environment`` must be the
        name of a discovered environment, and only for a template that lets the caller choose."""
        found = self.templates.get(str(template))
        if found is None:
            raise NotFound(f"no job template {template}", detail={"known": sorted(self.templates)})
        argv, values = found.argv(params or {})
        chosen = found.environment
        if environment not in (None, ""):
            if not found.environments:
                raise InvalidInput(f"template {found.name} runs in its own environment; it cannot be chosen")
            names = {env.name for env in self.environments.environments()}
            if environment not in names:  # a name, never a path: a path could be any interpreter
                raise InvalidInput(f"unknown environment {str(environment)[:80]!r}; known: {', '.join(sorted(names))}")
            chosen = environment
        if name is not None:
            name = str(name).strip()
            if not name or not name.isprintable():
                raise InvalidInput("a job name is a line of printable text")
        elif found.job_name:
            name = found.job_name.format_map({key: values.get(key, "") for key in found.params})
        return self._start(
            argv, name=name or found.name, cwd=found.cwd, env=found.env, environment=chosen, template=found.name
        )

    def dispatch(self) -> None:
        """Start queued jobs while fewer than ``limit`` run (any process may do this)."""
        while (job := self.store.claim_next(self.limit)) is not None:
            self.backend.start(job, self.limit)

    @staticmethod
    def _command(command) -> list[str]:
        if isinstance(command, (str, bytes)):
            try:
                argv = shlex.split(os.fsdecode(command))
            except ValueError as exc:
                raise InvalidInput(f"cannot read the command line: {exc}") from exc
        elif isinstance(command, (list, tuple)):
            argv = [os.fspath(part) if isinstance(part, os.PathLike) else part for part in command]
            if not all(isinstance(part, (str, int, float)) for part in argv):
                raise InvalidInput("a command is a list of strings")
            argv = [str(part) for part in argv]
        else:
            raise InvalidInput("a command is a list of strings or a command line")
        if not argv or not argv[0].strip():
            raise InvalidInput("the command is empty")
        if any("\0" in part for part in argv):
            raise InvalidInput("the command contains a NUL character")
        return argv

    def _cwd(self, cwd) -> Path:
        folder = self.workspace if cwd in (None, "") else self.workspace / Path(os.fspath(cwd)).expanduser()
        if not folder.is_dir():
            raise InvalidInput(
                f"working folder {cwd} does not exist"
                if not folder.exists()
                else f"working folder {cwd} is not a folder"
            )
        folder = folder.resolve()
        if self.confine_cwd and not folder.is_relative_to(self.workspace):
            raise InvalidInput(f"working folder {cwd} is outside the workspace")
        return folder

    @staticmethod
    def _env(env) -> dict[str, str]:
        if env is None:
            return {}
        if not isinstance(env, dict):
            raise InvalidInput("env is a mapping of variable names to values")
        bad = [k for k in env if not isinstance(k, str) or not ENV_NAME.match(k)]
        if bad:
            raise InvalidInput(f"not a valid environment variable name: {bad[0]!r}")
        bad = [k for k, v in env.items() if not isinstance(v, (str, int, float)) or "\0" in str(v)]
        if bad:
            raise InvalidInput(f"the value of {bad[0]} must be a string")
        return {k: str(v) for k, v in env.items()}

    def _environment(self, environment) -> Environment | None:
        if environment in (None, ""):
            return None
        found = self.environments.find(str(environment))
        if found.error:
            raise InvalidInput(f"environment {found.name} cannot run jobs: {found.error}")
        return found

    @staticmethod
    def _resolve(argv: list[str], cwd: Path, environment: Environment | None, overlay: dict) -> list[str]:
        """The argv to run: scripts and ``python`` go to the environment's interpreter, a bare
        name is looked up on the job's PATH, and the executable must exist."""
        python = environment.python if environment else sys.executable
        first, rest = argv[0], argv[1:]
        if first.endswith(".py"):
            script = cwd / first
            if not script.is_file():
                raise InvalidInput(f"script {first} not found in {cwd}")
            return [python, first, *rest]
        if first in PYTHON_NAMES:  # the chosen environment's, or the one this process runs in
            return [python, *rest]
        if os.sep in first:
            executable = cwd / first
            if not executable.is_file():
                raise InvalidInput(f"executable {first} not found")
            if not os.access(executable, os.X_OK):
                raise InvalidInput(f"{first} is not executable")
            return argv
        found = shutil.which(first, path=overlay.get("PATH") or os.environ.get("PATH", os.defpath))
        if found is None:
            where = f" of environment {environment.name}" if environment else ""
            raise InvalidInput(f"command {first!r} not found on the PATH{where}")
        return [found, *rest]

    @staticmethod
    def _stdin(stdin) -> bytes | None:
        if stdin is None:
            return None
        if isinstance(stdin, (list, tuple)):
            if not all(isinstance(line, str) for line in stdin):
                raise InvalidInput("stdin is a string or a list of lines")
            stdin = "".join(f"{line}\n" for line in stdin)
        if not isinstance(stdin, str):
            raise InvalidInput("stdin is a string or a list of lines")
        return stdin.encode()

    # -- reading -------------------------------------------------------------------------------
    def _visible(self, job: Job | None) -> bool:
        return job is not None and (self.admin or job.user == self.user)

    def get(self, job_id: str) -> Job:
        job = self.store.get(str(job_id))
        if not self._visible(job):  # another user's job is as good as absent
            raise NotFound(f"no job {job_id}")
        return self.backend.poll([job])[0]

    def list(self) -> list[Job]:
        """The jobs this user may see, oldest first, with live CPU and memory of running ones."""
        jobs = self.store.list(user=None if self.admin else self.user)
        polled = self.backend.poll(jobs)
        if any(before.state != after.state for before, after in zip(jobs, polled, strict=False)) or any(
            job.state == "queued" for job in polled
        ):
            self.dispatch()  # a lost job freed a slot, or a slot is free for a waiting job
        return polled

    def read_log(
        self, job_id: str, offset: int = 0, limit: int = DEFAULT_LOG_READ, tail: int | None = None
    ) -> LogChunk:
        """At most ``limit`` bytes of the job's log from byte ``offset``, or its last ``tail``
        bytes. ``next_offset`` of the result is where the next read continues."""
        job = self.get(job_id)
        try:
            offset, limit = int(offset), int(limit)
            tail = None if tail in (None, "") else int(tail)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("offset, limit and tail are whole numbers") from exc
        if offset < 0 or limit < 0 or (tail is not None and tail < 0):
            raise InvalidInput("offset, limit and tail cannot be negative")
        chunk = self.backend.read_log(job, offset, min(limit, MAX_LOG_READ), tail)
        return chunk if self.admin else self._redact(job, chunk)

    def server_secrets(self) -> list[str]:
        """The tokens and cookie secrets of this OS user's Jupyter servers (their runtime
        folder's ``jpserver-*.json`` and ``jupyter_cookie_secret``) and of this process's
        environment: what a job's log must never show to anyone but an admin."""
        checked, found = self._secrets
        if time.monotonic() - checked < SECRETS_CHECK:
            return found
        from jupyter_core.paths import jupyter_runtime_dir

        secrets = {os.environ.get(name, "") for name in SECRET_VARIABLES}
        runtime = Path(jupyter_runtime_dir())
        try:
            for info in runtime.glob("jpserver-*.json"):
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    secrets.add(json.loads(info.read_text()).get("token") or "")
            with contextlib.suppress(OSError, UnicodeDecodeError):
                secrets.add((runtime / "jupyter_cookie_secret").read_text().strip())
        except OSError:
            pass
        found = sorted((secret for secret in secrets if len(secret) >= 8), key=len, reverse=True)
        self._secrets = (time.monotonic(), found)
        return found

    def _redact(self, job: Job, chunk: LogChunk) -> LogChunk:
        """``chunk`` with every server secret starred out, also one cut by the chunk's edges (the
        bytes either side are read to find it); same length, so offsets stay true."""
        secrets = self.server_secrets()
        if not secrets or not chunk.text:
            return chunk
        width = len(secrets[0])
        start = max(0, chunk.offset - width)
        before = self.backend.read_log(job, start, chunk.offset - start).text if start < chunk.offset else ""
        after = self.backend.read_log(job, chunk.next_offset, width).text
        text = before + chunk.text + after
        hidden = bytearray(len(text))
        for secret in secrets:
            at = text.find(secret)
            while at >= 0:
                hidden[at : at + len(secret)] = b"\1" * len(secret)
                at = text.find(secret, at + 1)
        if not any(hidden):
            return chunk
        lo = len(before)
        shown = "".join(REDACTED if hidden[lo + i] else c for i, c in enumerate(chunk.text))
        return LogChunk(shown, chunk.offset, chunk.next_offset, chunk.size)

    def wait(self, job_id: str, timeout: float | None = None, interval: float = 0.05) -> Job:
        """Wait until the job has ended (or ``timeout`` seconds passed); the job as it is then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.finished or (deadline is not None and time.monotonic() >= deadline):
                return job
            time.sleep(interval)

    # -- killing -------------------------------------------------------------------------------
    def kill(self, job_id: str) -> KillResult:
        """SIGTERM to the job's process group, SIGKILL after the grace period; returns at once.

        A job that has already ended is left alone (and its PID, maybe reused, never signalled).
        """
        job = self.get(job_id)
        self._require_control(job, "killing")
        before, after = self.store.request_kill(job.id)
        if after is None:
            if before.state == "lost" and self.backend.kill(before):
                return KillResult(
                    before, f"job {before.name} was lost (its supervisor died); stopping what still runs of it", True
                )
            return KillResult(before, f"job {before.name} already ended ({before.state}); nothing to kill", False)
        if after.state == "killed":
            return KillResult(after, f"job {after.name} was queued and will not run", True)
        self.backend.kill(after)
        return KillResult(after, f"job {after.name} is being stopped (SIGKILL after {after.grace:g} s)", True)

    def kill_all(self) -> list[KillResult]:
        """Kill every queued and running job this user may control; queued ones first, so none
        of them starts in a slot the others free."""
        jobs = self.store.list(user=None if self.admin else self.user, states=ACTIVE)
        if not self.is_staff:  # leave alone what a viewer may not kill (jobs an editor started for them)
            jobs = [job for job in jobs if job.template is not None]
        jobs.sort(key=lambda job: job.state != "queued")
        return [self.kill(job.id) for job in jobs]

    # -- removing ------------------------------------------------------------------------------
    def remove(self, job_id: str) -> Job:
        """Forget a finished job: its record, its log and whatever else its folder holds.

        A queued or running job is refused (``Conflict``: kill it first), and so is a lost job
        whose command still runs; the job of another user is ``NotFound``, as for ``get``.
        """
        job = self.get(job_id)
        self._require_control(job, "removing")
        if not job.finished:
            raise Conflict(f"job {job.name} is {job.state}: kill it first", detail={"id": job.id, "state": job.state})
        if self.backend.still_runs(job):
            raise Conflict(
                f"job {job.name} was lost but its command still runs: kill it first",
                detail={"id": job.id, "state": job.state},
            )
        removed = self.store.delete(job.id)
        if removed is None:  # another process removed it just now
            raise NotFound(f"no job {job_id}")
        self._delete_folder(removed)
        return removed

    def clear_finished(self, older_than: float | None = None) -> int:
        """Remove this user's finished jobs (an admin's: everyone's), or only those that ended
        more than ``older_than`` seconds ago; returns how many were removed."""
        if older_than is None:
            before = math.inf
        elif isinstance(older_than, (int, float)) and not isinstance(older_than, bool) and 0 <= older_than < math.inf:
            before = time.time() - older_than
        else:
            raise InvalidInput("older_than is a number of seconds, at least 0")
        removed = 0
        for job in self.store.finished_before(before, user=None if self.admin else self.user):
            if self.backend.still_runs(job) or (not self.is_staff and job.template is None):
                continue
            gone = self.store.delete(job.id)
            if gone is not None:
                self._delete_folder(gone)
                removed += 1
        return removed

    def keep_history(
        self, days: float, every: float = HISTORY_CHECK, log: logging.Logger | None = None
    ) -> threading.Event:
        """Remove every user's jobs that ended more than ``days`` days ago, now and then every
        ``every`` seconds, in a thread of its own; queued and running jobs are never touched.
        Set the returned event to stop."""
        if not days > 0:
            raise InvalidInput("the job history is kept for a positive number of days")
        log = log or logging.getLogger(__name__)
        everyone = self.as_user(self.user, admin=True)
        stop = threading.Event()

        def prune():
            while True:
                try:
                    removed = everyone.clear_finished(older_than=days * 86400)
                    if removed:
                        log.info("removed %d finished job(s) older than %g days", removed, days)
                except Exception:  # a locked or vanished home: try again at the next check
                    log.exception("could not prune the job history")
                if stop.wait(every):
                    return

        threading.Thread(target=prune, name="mlapp-job-history", daemon=True).start()
        self._stoppers.append(stop.set)
        return stop

    def close(self) -> None:
        """Stop this manager's background work (the history pruning); jobs run on regardless."""
        while self._stoppers:
            self._stoppers.pop()()

    def _delete_folder(self, job: Job) -> None:
        """The job's folder ``<home>/jobs/<id>`` (log, stdin, supervisor errors), and only it:
        a log path recorded elsewhere is not ours to delete."""
        folder = self.root / job.id
        if JOB_FOLDER.fullmatch(job.id) and folder.is_dir() and not folder.is_symlink():
            # The record is gone already: a file that cannot be deleted is not worth an error.
            shutil.rmtree(folder, ignore_errors=True)
