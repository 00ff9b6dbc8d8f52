"""Pages from other packages, through the ``jupyter_mlapp.pages`` entry point group.

A package adds a page to every ``App(..., plugins=True)`` by declaring, in its pyproject.toml::

    [project.entry-points."jupyter_mlapp.pages"]
    "Drift report" = "my_package.pages:drift_page"

where ``drift_page(state)`` returns a widget, like any page function. The entry point's name is
the page's title.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

GROUP = "jupyter_mlapp.pages"


def discover() -> list[tuple[str, Callable]]:
    """``(title, page function)`` of every installed plugin page, by title.

    A plugin that fails to import still gets its page, which shows the import error in place:
    one broken package must not take the app down.
    """
    pages = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            function = point.load()
        except Exception as exc:  # any error of third-party code at import
            function = _broken(point.value, exc)
        pages.append((point.name, function))
    return pages


def _broken(value: str, exc: Exception) -> Callable:
    def page(state):
        raise RuntimeError(f"the plugin {value} could not be loaded") from exc

    return page
