"""``jupyter mlapp user add|remove|passwd|list|set-role|disable|enable``.

Passwords are read without echo (twice, to catch typos), or as one line from stdin when it is not
a terminal, or with ``--password-stdin``, for scripts: never from the command line, where other
local users could read them in the process list.
"""

from __future__ import annotations

import getpass
import sys
import time
from typing import ClassVar

from traitlets import Bool, Unicode

from ..cli import Command, CommandGroup
from ..errors import InvalidInput
from ..home import home_dir
from .store import ROLES, UserStore


class UserCommand(Command):
    """One ``jupyter mlapp user`` command, on the accounts of the home folder."""

    group = "user"

    def run_command(self, *args: str) -> None:
        self.run(UserStore(home_dir(self.home or None)), *args)

    def run(self, store: UserStore, *args) -> None:
        raise NotImplementedError


class PasswordCommand(UserCommand):
    password_stdin = Bool(False, help="Read the password as one line from stdin (for scripts).").tag(config=True)
    flags: ClassVar[dict] = {
        "password-stdin": ({"PasswordCommand": {"password_stdin": True}}, "Read the password from stdin.")
    }

    def read_password(self, username: str) -> str:
        if self.password_stdin or not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\r\n")
        password = getpass.getpass(f"Password for {username}: ")
        if password != getpass.getpass("Same password again: "):
            raise InvalidInput("the passwords do not match")
        return password


class AddUser(PasswordCommand):
    name = "add"
    description = "Add a user: jupyter mlapp user add NAME [--role=editor] [--display-name=...]"
    arguments = ("NAME",)
    role = Unicode("editor", help=f"The role: {', '.join(ROLES)}.").tag(config=True)
    display_name = Unicode("", help="The name shown in the apps (default: the username).").tag(config=True)
    no_password = Bool(
        False,
        help="No password: a JupyterHub user (the Hub signs them in; the account gives their role on this server).",
    ).tag(config=True)
    aliases: ClassVar[dict] = {**UserCommand.aliases, "role": "AddUser.role", "display-name": "AddUser.display_name"}
    flags: ClassVar[dict] = {
        **PasswordCommand.flags,
        "no-password": ({"AddUser": {"no_password": True}}, "No password: for a JupyterHub user."),
    }

    def run(self, store, username):
        if store.get(username.strip().lower()) is not None:
            raise InvalidInput(f"a user named {username!r} already exists")
        password = None if self.no_password else self.read_password(username)
        account = store.add(username, password, self.role, self.display_name or None, no_password=self.no_password)
        print(f"Added {account.username} ({account.role}{', no password' if self.no_password else ''}).")


class RemoveUser(UserCommand):
    name = "remove"
    description = "Remove a user: jupyter mlapp user remove NAME"
    arguments = ("NAME",)

    def run(self, store, username):
        store.remove(username)
        print(f"Removed {username}.")


class ChangePassword(PasswordCommand):
    name = "passwd"
    description = "Set a user's password (their sign-ins end): jupyter mlapp user passwd NAME"
    arguments = ("NAME",)

    def run(self, store, username):
        account = store.require(username)
        store.set_password(account.username, self.read_password(account.username))
        print(f"Changed the password of {account.username}; their sign-ins have ended.")


class ListUsers(UserCommand):
    name = "list"
    description = "List the users: jupyter mlapp user list"

    def run(self, store):
        accounts = store.list()
        if not accounts:
            print("No users yet: jupyter mlapp user add NAME --role=admin")
            return
        rows = [("USERNAME", "ROLE", "STATUS", "LAST LOGIN", "DISPLAY NAME")] + [
            (
                a.username,
                a.role,
                "disabled" if a.disabled else "active",
                time.strftime("%Y-%m-%d %H:%M", time.localtime(a.last_login)) if a.last_login else "never",
                a.display_name,
            )
            for a in accounts
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[4])


class SetRole(UserCommand):
    name = "set-role"
    description = f"Change a user's role ({', '.join(ROLES)}): jupyter mlapp user set-role NAME ROLE"
    arguments = ("NAME", "ROLE")

    def run(self, store, username, role):
        account = store.set_role(username, role)
        print(f"{account.username} is now {account.role}.")


class DisableUser(UserCommand):
    name = "disable"
    description = "Disable a user (their sign-ins end at once): jupyter mlapp user disable NAME"
    arguments = ("NAME",)

    def run(self, store, username):
        account = store.set_disabled(username, True)
        print(f"Disabled {account.username}; their sign-ins have ended.")


class EnableUser(UserCommand):
    name = "enable"
    description = "Enable a disabled user again: jupyter mlapp user enable NAME"
    arguments = ("NAME",)

    def run(self, store, username):
        account = store.set_disabled(username, False)
        print(f"Enabled {account.username}.")


COMMANDS = (AddUser, RemoveUser, ChangePassword, ListUsers, SetRole, DisableUser, EnableUser)


class UserApp(CommandGroup):
    name = "jupyter mlapp user"
    description = "Manage jupyter-mlapp user accounts."
    subcommands: ClassVar[dict] = CommandGroup.commands_of(__name__, COMMANDS)
