"""``jupyter mlapp app publish|unpublish|list``: the published apps, from the command line.

The command works on the same registry as the server (``<home>/apps/published.sqlite``), for the
workspace given by ``--root`` (default: the current folder, as ``jupyter mlapp`` serves it). It
runs as the local account, the server's owner: an admin.
"""

from __future__ import annotations

import getpass
import os
import time
from typing import ClassVar

from traitlets import Unicode

from ..cli import Command, CommandGroup
from ..home import home_dir
from .published import PublishedApps, Who


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class AppSubcommand(Command):
    """One ``jupyter mlapp app`` command, on the registry of the home folder and workspace."""

    group = "app"
    root = Unicode("", help="The workspace (the server's root folder). Default: the current folder.").tag(config=True)
    aliases: ClassVar[dict] = {**Command.aliases, "root": "AppSubcommand.root"}

    def run_command(self, *args: str) -> None:
        from ..auth.store import UserStore

        home = home_dir(self.home or None)
        apps = PublishedApps(self.root or os.getcwd(), home, users=UserStore(home))
        self.run(apps, Who(getpass.getuser(), "admin"), *args)

    def run(self, apps: PublishedApps, who: Who, *args) -> None:
        raise NotImplementedError


class Publish(AppSubcommand):
    name = "publish"
    description = (
        "Publish a notebook as an app (or change it): jupyter mlapp app publish PATH [--title=...] "
        "[--description=...] [--thumbnail=IMAGE] [--slug=...] [--users=a,b] [--roles=viewer] "
        "[--groups=...] [--files=notebooks/LICENSE.html,...]"
    )
    arguments = ("PATH",)
    title = Unicode(None, allow_none=True, help="The title in the gallery (default: the notebook's).").tag(config=True)
    app_description = Unicode(None, allow_none=True, help="A short description.").tag(config=True)
    thumbnail = Unicode(None, allow_none=True, help="An image of the workspace shown on the card.").tag(config=True)
    slug = Unicode(None, allow_none=True, help="The short link /mlapp/apps/<slug> (default: from the title).").tag(
        config=True
    )
    users = Unicode(None, allow_none=True, help="Who may open it: user names, comma-separated.").tag(config=True)
    roles = Unicode(None, allow_none=True, help="Who may open it: roles, comma-separated.").tag(config=True)
    groups = Unicode(None, allow_none=True, help="Who may open it: JupyterHub groups, comma-separated.").tag(
        config=True
    )
    files = Unicode(None, allow_none=True, help="Files (or folders) the app makes public, comma-separated.").tag(
        config=True
    )
    aliases: ClassVar[dict] = {
        **AppSubcommand.aliases,
        **{
            name: f"Publish.{trait}"
            for name, trait in {
                "title": "title",
                "description": "app_description",
                "thumbnail": "thumbnail",
                "slug": "slug",
                "users": "users",
                "roles": "roles",
                "groups": "groups",
                "files": "files",
            }.items()
        },
    }

    def run(self, apps, who, path):
        audience = None
        if any(value is not None for value in (self.users, self.roles, self.groups)):
            audience = {
                key: names(value or "")
                for key, value in (("users", self.users), ("roles", self.roles), ("groups", self.groups))
            }
        app, created = apps.publish(
            path,
            by=who,
            title=self.title,
            description=self.app_description,
            thumbnail=self.thumbnail,
            slug=self.slug,
            audience=audience,
            files=names(self.files) if self.files is not None else None,
        )
        print(f"{'Published' if created else 'Updated'} {app.path} as /mlapp/apps/{app.slug} for {audience_text(app)}.")


class Unpublish(AppSubcommand):
    name = "unpublish"
    description = "Unpublish an app (the notebook stays): jupyter mlapp app unpublish SLUG-OR-PATH"
    arguments = ("APP",)

    def run(self, apps, who, key):
        app = apps.unpublish(key, by=who)
        print(f"Unpublished {app.slug} ({app.path}).")


class ListApps(AppSubcommand):
    name = "list"
    description = "List the published apps: jupyter mlapp app list"

    def run(self, apps, who):
        published = apps.list()
        if not published:
            print("No published apps yet: jupyter mlapp app publish PATH")
            return
        rows = [("SLUG", "PATH", "AUDIENCE", "UPDATED", "TITLE")] + [
            (
                app.slug,
                app.path + ("" if apps.available(app) else " (missing)"),
                audience_text(app),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(app.updated)),
                app.title,
            )
            for app in published
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[4])


def audience_text(app) -> str:
    parts = [f"{key} {', '.join(app.audience[key])}" for key in ("users", "roles", "groups") if app.audience.get(key)]
    return "; ".join(parts) or "every signed-in user"


COMMANDS = (Publish, Unpublish, ListApps)


class AppCommand(CommandGroup):
    name = "jupyter mlapp app"
    description = "Publish notebooks as apps, unpublish them, list them."
    subcommands: ClassVar[dict] = CommandGroup.commands_of(__name__, COMMANDS)
