"""Job templates: work an app's author fixed, that any user of the app (viewers too) may start.

A viewer never starts a command of their own: an app's widget callbacks run on behalf of whoever
opened the app, and the values they pass arrive from that user's browser. A template is declared
by the app's own code (which the viewer cannot change), with the command the author wrote and
typed parameters; ``JobManager.start_template`` checks every value against its parameter and
appends it to the command as one argument after its flag::

    train = jobs.template(
        "train",
        ["ml_app_train.py"],
        cwd=here,
        params={"epochs": jobs.Int(1, 200, default=30), "loss": jobs.Choice(["hinge", "log_loss"])},
        name="train {loss}",
    )
    train.start(epochs=5, loss="hinge")  # ml_app_train.py --epochs 5 --loss hinge
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass, field

from ..errors import InvalidInput

# Text parameters by default: a word of letters, digits and ._- that does not start with "-" (it
# could be read as another option of the command) or "." (a hidden file, "..").
WORD = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


class Param:
    """One parameter: ``default`` is used when the caller leaves it out (``None``: the flag is
    left out too), ``flag`` precedes the value on the command line (default ``--name-with-dashes``)."""

    def __init__(self, default=None, flag: str | None = None):
        self.default, self.flag = default, flag

    def check(self, name: str, value) -> str:
        """The value as a command-line argument, or ``InvalidInput`` saying what is wrong."""
        raise NotImplementedError


class Int(Param):
    def __init__(self, minimum: int, maximum: int, default: int | None = None, flag: str | None = None):
        super().__init__(default, flag)
        self.minimum, self.maximum = int(minimum), int(maximum)

    def check(self, name: str, value) -> str:
        whole = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
            whole, value = True, int(value)
        number = int(value) if whole else None
        if number is None:
            raise InvalidInput(f"{name} must be a whole number, not {str(value)[:40]!r}")
        if not self.minimum <= number <= self.maximum:
            raise InvalidInput(f"{name} must be between {self.minimum} and {self.maximum}, not {number}")
        return str(number)


class Float(Param):
    def __init__(self, minimum: float, maximum: float, default: float | None = None, flag: str | None = None):
        super().__init__(default, flag)
        self.minimum, self.maximum = float(minimum), float(maximum)

    def check(self, name: str, value) -> str:
        number = None
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            with contextlib.suppress(ValueError):
                number = float(value)
        if number is None or not math.isfinite(number):
            raise InvalidInput(f"{name} must be a number, not {str(value)[:40]!r}")
        if not self.minimum <= number <= self.maximum:
            raise InvalidInput(f"{name} must be between {self.minimum:g} and {self.maximum:g}, not {number:g}")
        return repr(number)


class Choice(Param):
    def __init__(self, options, default: str | None = None, flag: str | None = None):
        super().__init__(default, flag)
        self.options = tuple(str(option) for option in options)

    def check(self, name: str, value) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise InvalidInput(f"{name} must be one of {', '.join(self.options)}, not {str(value)[:40]!r}")
        return value


class Text(Param):
    """A short string matching ``pattern`` in full (default: one word, see ``WORD``)."""

    def __init__(self, pattern: str = WORD, max_length: int = 100, default: str | None = None, flag=None):
        super().__init__(default, flag)
        self.pattern, self.max_length = re.compile(pattern), int(max_length)

    def check(self, name: str, value) -> str:
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be text")
        if len(value) > self.max_length:
            raise InvalidInput(f"{name} is longer than {self.max_length} characters")
        if not self.pattern.fullmatch(value):
            raise InvalidInput(f"{name} {value[:40]!r} is not allowed here (letters, digits and ._- only)")
        return value


@dataclass
class JobTemplate:
    """A command fixed by the app's author; ``params`` are appended as ``flag value`` pairs in
    their order. ``name`` names the jobs (``{param}`` fields filled with the values);
    ``environments`` lets the caller choose a discovered environment by name."""

    name: str
    command: list[str]
    params: dict[str, Param] = field(default_factory=dict)
    cwd: str | None = None
    env: dict | None = None
    environment: str | None = None
    environments: bool = False
    job_name: str | None = None
    manager: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if not TEMPLATE_NAME.fullmatch(self.name):
            raise InvalidInput(f"a template name is a word of letters, digits and ._-, not {self.name!r}")
        self.command = [str(part) for part in self.command] if isinstance(self.command, (list, tuple)) else []
        if not self.command:
            raise InvalidInput("a template's command is a non-empty list of strings")
        bad = [key for key, param in self.params.items() if not isinstance(param, Param)]
        if bad:
            raise InvalidInput(f"parameter {bad[0]} is not an Int, Float, Choice or Text")

    def argv(self, values: dict) -> tuple[list[str], dict[str, str]]:
        """The command line for ``values``, and the values as checked; ``InvalidInput`` names the
        first unknown, missing or wrong one."""
        if not isinstance(values, dict):
            raise InvalidInput("a template's parameters are a mapping of names to values")
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            raise InvalidInput(
                f"template {self.name} has no parameter {unknown[0]!r}; it takes {', '.join(self.params) or 'none'}"
            )
        argv, checked = list(self.command), {}
        for key, param in self.params.items():
            value = values.get(key, param.default)
            if value is None:
                continue
            checked[key] = param.check(key, value)
            argv += [param.flag or "--" + key.replace("_", "-"), checked[key]]
        return argv, checked

    def start(self, *, environment: str | None = None, name: str | None = None, **values):
        """Start a job from this template (see ``JobManager.start_template``)."""
        if self.manager is None:
            raise InvalidInput(f"template {self.name} is not added to a job manager")
        return self.manager.start_template(self.name, values, environment=environment, name=name)
