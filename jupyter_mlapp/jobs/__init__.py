"""Background jobs that outlive the browser, in any conda or virtual environment.

In a notebook::

    from jupyter_mlapp import jobs
    job = jobs.start(["python", "train.py", "--epochs", "5"], environment="torch")
    jobs.list(); jobs.read_log(job.id).text; jobs.kill(job.id); jobs.kill_all()
    jobs.remove(job.id); jobs.clear_finished(older_than=7 * 86400)
    jobs.envs()

The functions act for ``jupyter_mlapp.current_user()`` on the shared home folder; an admin's
(``current_role()``) see and control every user's jobs, as in the REST API. A viewer starts no
command of their own: an app offers them the work its author fixed, as a template::

    train = jobs.template("train", ["train.py"], params={"epochs": jobs.Int(1, 100, default=5)})
    train.start(epochs=10)  # train.py --epochs 10, after checking 10 is within 1..100
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# The modules behind ``jobs.manager()`` and ``jobs.envs()`` are ``job_manager`` and ``environments``:
# an imported submodule becomes an attribute of its package, and would replace a function of the same name.
if TYPE_CHECKING:  # the functions below import lazily: the supervisor imports this package and must start fast
    from .environments import Environment
    from .job_manager import JobManager, KillResult
    from .store import Job
    from .templates import JobTemplate

__all__ = [
    "Choice",
    "Float",
    "Int",
    "JobManager",
    "JobTemplate",
    "Text",
    "clear_finished",
    "envs",
    "get",
    "kill",
    "kill_all",
    "list",
    "manager",
    "read_log",
    "remove",
    "start",
    "start_template",
    "template",
    "wait",
]


_managers: dict = {}


def __getattr__(name):
    # Lazy: the supervisor imports this package and must start fast.
    if name == "JobManager":
        from .job_manager import JobManager

        return JobManager
    if name in ("Choice", "Float", "Int", "JobTemplate", "Text"):
        from . import templates

        return getattr(templates, name)
    raise AttributeError(name)


def manager() -> JobManager:
    """The ``JobManager`` of this kernel's user and home folder (an admin's sees every job)."""
    from .. import current_role, current_user
    from ..home import home_dir
    from .job_manager import JobManager

    key = (str(home_dir()), current_user(), current_role() == "admin")
    if key not in _managers:
        _managers[key] = JobManager(home=key[0], user=key[1], admin=key[2])
    return _managers[key]


def start(command, name=None, cwd=None, env=None, environment=None, stdin=None, backend=None, resources=None) -> Job:
    """Start a background job (``backend="ray"``: on the server's Ray cluster); see ``JobManager.start``."""
    return manager().start(
        command,
        name=name,
        cwd=cwd,
        env=env,
        environment=environment,
        stdin=stdin,
        backend=backend,
        resources=resources,
    )


def template(name: str, command, params: dict | None = None, **options) -> JobTemplate:
    """Declare a job template that every user of this app may start, viewers included; see
    ``jupyter_mlapp.jobs.templates``. ``options``: ``cwd``, ``env``, ``environment``,
    ``environments`` (let the caller choose one by name), ``job_name`` (``"train {loss}"``)."""
    from .templates import JobTemplate

    return manager().add_template(JobTemplate(name, command, dict(params or {}), **options))


def start_template(name: str, params: dict | None = None, environment=None, job_name=None) -> Job:
    """Start a job from a declared template; see ``JobManager.start_template``."""
    return manager().start_template(name, params, environment=environment, name=job_name)


def get(job_id: str) -> Job:
    return manager().get(job_id)


def list() -> list[Job]:
    return manager().list()


def read_log(job_id: str, offset: int = 0, limit: int = 64 * 1024, tail: int | None = None):
    return manager().read_log(job_id, offset=offset, limit=limit, tail=tail)


def wait(job_id: str, timeout: float | None = None) -> Job:
    return manager().wait(job_id, timeout=timeout)


def kill(job_id: str) -> KillResult:
    return manager().kill(job_id)


def kill_all() -> list[KillResult]:
    """Kill every queued and running job of this user."""
    return manager().kill_all()


def remove(job_id: str) -> Job:
    """Forget a finished job: its record and its log (a running one: kill it first)."""
    return manager().remove(job_id)


def clear_finished(older_than: float | None = None) -> int:
    """Remove this user's finished jobs, or only those that ended more than ``older_than``
    seconds ago; how many were removed."""
    return manager().clear_finished(older_than=older_than)


def envs(refresh: bool = False) -> list[Environment]:
    """The conda and virtual environments a job (or a kernel) can run in."""
    return manager().environments.environments(refresh=refresh)
