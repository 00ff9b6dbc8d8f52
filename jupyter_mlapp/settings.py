"""Every ``MLAPP_*`` environment variable: its name, how it is parsed and its default, in one place.

The server reads them as the defaults of its ``c.MLApp`` traits (``extension.MLApp``), and hands
kernels the values it settled on (``MLApp.kernel_environment``), so a notebook or a Voila app
started by the server reads the same settings here. Rooms read a variable with
``settings.JOB_LIMIT.get()``, never ``os.environ`` by name. Stdlib only: every module imports it.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TRUE = ("1", "true", "yes", "on")


def truthy(value: Any) -> bool:
    """The one boolean parser, for variables, query arguments and form fields alike: ``True``,
    ``"1"``, ``"true"``, ``"yes"``, ``"on"`` (any case) are true; anything else is false."""
    if isinstance(value, str):
        return value.strip().lower() in TRUE
    return bool(value)


def _paths(raw: str) -> list[str]:
    return [part for part in raw.split(os.pathsep) if part]


def _names(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


class InvalidSetting(ValueError):
    """A variable whose value cannot be parsed; ``str(err)`` names it and what it should be."""


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any] = str
    default: Any = None
    default_factory: Callable[[], Any] | None = None  # a default computed when asked (the cores)

    def get(self, environ: dict[str, str] | None = None) -> Any:
        """The variable's value, parsed; its default when it is unset or empty."""
        raw = (os.environ if environ is None else environ).get(self.name, "").strip()
        if not raw:
            return self.default_factory() if self.default_factory else self.default
        try:
            return self.parse(raw)
        except ValueError:
            kind = {int: "a whole number", float: "a number"}.get(self.parse, "valid")  # type: ignore[call-overload]
            raise InvalidSetting(f"${self.name}={raw!r} is not {kind}") from None


def _cores() -> int:
    return os.cpu_count() or 1


# -- the server and its kernels -------------------------------------------------------------------
HOME = Setting("MLAPP_HOME")  # unset: <jupyter data dir>/mlapp (home.default_home)
USER = Setting("MLAPP_USER", default_factory=getpass.getuser)  # set per kernel from its request
ROLE = Setting("MLAPP_ROLE", default="admin")  # outside a server the local account owns everything
WORKSPACE = Setting("MLAPP_WORKSPACE")  # the server's root folder; unset: the current folder
BASE_URL = Setting("MLAPP_BASE_URL")  # the server's base URL, for links from kernels
FILES_PER_USER = Setting("MLAPP_FILES_PER_USER", truthy, False)

# -- jobs --------------------------------------------------------------------------------------------
JOB_LIMIT = Setting("MLAPP_JOB_LIMIT", int, default_factory=_cores)
JOB_GRACE = Setting("MLAPP_JOB_GRACE", float, 10.0)
JOB_QUEUE_LIMIT = Setting("MLAPP_JOB_QUEUE_LIMIT", int, 50)  # queued jobs per user: a sweep fits, a runaway loop not
JOB_HISTORY_DAYS = Setting("MLAPP_JOB_HISTORY_DAYS", float, 0.0)
JOB_BACKEND = Setting("MLAPP_JOB_BACKEND", default="local")
RAY_ADDRESS = Setting("MLAPP_RAY_ADDRESS", default="")
ENV_DIRS = Setting("MLAPP_ENV_DIRS", _paths, default=[])
JOB_ID = Setting("MLAPP_JOB_ID")  # set in a job's own process

# -- models ------------------------------------------------------------------------------------------
MODELS_DIR = Setting("MLAPP_MODELS_DIR", default="")  # unset: <home>/models
MODEL_TRUSTED_TYPES = Setting("MLAPP_MODEL_TRUSTED_TYPES", _names, default=[])
SERVE_WORKERS = Setting("MLAPP_SERVE_WORKERS", int, default_factory=_cores)
# What `jupyter mlapp serve`'s supervisor tells each worker process (not for users to set).
SERVE_WORKER = Setting("MLAPP_SERVE_WORKER", int)  # its number, from 0
SERVE_CHANNEL_FD = Setting("MLAPP_SERVE_CHANNEL_FD", int)  # where it says it listens, then hands over connections
SERVE_CONNECTIONS = Setting("MLAPP_SERVE_CONNECTIONS")  # the page of its connections' states (models.handoff)
SERVE_STATUS = Setting("MLAPP_SERVE_STATUS")  # the workers' table
SERVE_PORT = Setting("MLAPP_SERVE_PORT", int)  # the port the first worker settled

# -- app kernels (unset caps: sized from the machine's memory, apps.kernels.default_caps) ------------
APP_KERNELS_TOTAL = Setting("MLAPP_APP_KERNELS_TOTAL", int)
APP_KERNELS_PER_USER = Setting("MLAPP_APP_KERNELS_PER_USER", int)
APP_KERNEL_POOL = Setting("MLAPP_APP_KERNEL_POOL", int)
APP_KERNEL_GRACE = Setting("MLAPP_APP_KERNEL_GRACE", float, 15.0)
APP_KERNEL_IDLE = Setting("MLAPP_APP_KERNEL_IDLE", float, 3600.0)

ALL = tuple(value for value in dict(globals()).values() if isinstance(value, Setting))


def check(environ: dict[str, str] | None = None) -> None:
    """Parse every variable once, so a bad value is one error at start, not a failure later."""
    for setting in ALL:
        setting.get(environ)
