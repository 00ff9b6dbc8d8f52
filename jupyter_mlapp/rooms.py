"""What a room tells the composition root (``extension.MLApp``) about itself, and the list of rooms.

Each room declares one ``ROOM = Room(...)`` in its ``room.py``: its name, the rooms it requires,
how its manager is built from the settings, its REST routes and their OpenAPI, what it adds to the
server besides routes, what it exports to kernels and what it does when a user logs out. ``MLApp``
resolves ``c.MLApp.rooms`` with ``resolve`` and does the rest; no room builds another's manager.
``room.py`` modules import Tornado handlers: kernels import the rooms' packages, never these.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Every room there is, in the order their routes are added (a room's dependencies come earlier).
KNOWN = ("auth", "sessions", "jobs", "training", "data", "files", "models", "apps", "appkernels")
# The module declaring each room's ``ROOM``, when it is not ``jupyter_mlapp.<name>.room``.
_MODULES = {"appkernels": "jupyter_mlapp.apps.kernel_room"}


class RoomError(ValueError):
    """The configured room list cannot be served (an unknown room, a required room left out).
    ``str(err)`` is the one-line message shown at start."""


@dataclass(frozen=True)
class Room:
    name: str
    # (app) -> the manager the room's handlers use, from the app's settings; the managers of
    # ``requires`` are built first and are in ``app.managers``.
    build: Callable[[Any], Any]
    # (pattern under /mlapp/api, handler class): each handler is given the manager
    routes: tuple[tuple[str, type], ...]
    requires: tuple[str, ...] = ()
    openapi: Mapping[str, Any] = field(default_factory=dict)
    # (app, manager): what the room adds to the server besides its API (pages, patches to other
    # packages, background work), once every required room is connected.
    connect: Callable[[Any, Any], None] | None = None
    # (app) -> the environment variables kernels started by this server need for this room.
    exports: Callable[[Any], dict[str, str]] | None = None
    # (manager, username): called after a user logs out (the logout goes on if it fails).
    on_logout: Callable[[Any, str], object] | None = None


def load(name: str) -> Room:
    return importlib.import_module(_MODULES.get(name, f"jupyter_mlapp.{name}.room")).ROOM


def resolve(names) -> list[Room]:
    """The rooms named, in dependency order (each after the rooms it requires), or a ``RoomError``
    naming the first unknown room or the first missing requirement."""
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in KNOWN]
    if unknown:
        raise RoomError(f"unknown room {unknown[0]!r} in c.MLApp.rooms; the rooms are: {', '.join(KNOWN)}")
    rooms = {name: load(name) for name in wanted}
    for room in rooms.values():
        missing = [need for need in room.requires if need not in rooms]
        if missing:
            raise RoomError(f"the {room.name} room requires the {missing[0]} room: add it to c.MLApp.rooms")
    ordered: list[Room] = []

    def visit(room: Room) -> None:
        if room not in ordered:
            for need in room.requires:
                visit(rooms[need])
            ordered.append(room)

    for name in sorted(wanted, key=KNOWN.index):
        visit(rooms[name])
    return ordered
