"""What every ``jupyter mlapp <group> <command>`` (``user``, ``app``) shares: positional arguments,
the ``--home`` option, one-line errors instead of tracebacks, and a group that lists its commands."""

from __future__ import annotations

import sys

from jupyter_core.application import JupyterApp
from traitlets import Unicode

from . import __version__
from .errors import MLAppError
from .settings import HOME

HOME_HELP = f"The jupyter-mlapp home folder. Default: ${HOME.name}, else <jupyter data dir>/mlapp."


class Command(JupyterApp):
    """One command of a group: checks its positional ``arguments``, then calls ``run``; an
    ``MLAppError`` (or Ctrl-C at a prompt) ends it with one line on stderr."""

    group = ""  # the word after `jupyter mlapp`
    version = __version__
    arguments: tuple[str, ...] = ()
    home = Unicode("", help=HOME_HELP).tag(config=True)
    # traitlets reads these from the class; JupyterApp declares them as instance traits
    aliases = {"home": "Command.home"}  # noqa: RUF012
    flags = {}  # noqa: RUF012

    def start(self):
        if len(self.extra_args) != len(self.arguments):
            self.fail(f"usage: jupyter mlapp {self.group} {self.name} {' '.join(self.arguments)}".rstrip(), code=2)
        try:
            self.run_command(*self.extra_args)
        except MLAppError as err:
            self.fail(str(err))
        except (KeyboardInterrupt, EOFError):
            self.fail("cancelled")

    def run_command(self, *args: str) -> None:
        raise NotImplementedError

    def fail(self, message: str, code: int = 1):
        print(f"jupyter mlapp {self.group}: {message}", file=sys.stderr)
        sys.exit(code)


class CommandGroup(JupyterApp):
    """``jupyter mlapp <group>``: without a command, the list of its commands (exit 2)."""

    version = __version__

    @staticmethod
    def commands_of(module: str, commands: tuple[type[Command], ...]) -> dict:
        return {cmd.name: (f"{module}.{cmd.__name__}", cmd.description) for cmd in commands}

    def start(self):
        if self.subapp is None:
            self.print_subcommands()
            self.exit(2)
        self.subapp.start()
