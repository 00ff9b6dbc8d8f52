"""``App``: a multi-page app in a few lines, as a notebook in JupyterLab and as a Voila app.

>>> app = App("Churn model")
>>> @app.page("Data")
... def data_page(state):
...     return DataViewer()
>>> app.show()

A sidebar lists the pages in order and highlights the current one; the header shows the title,
the signed-in user, a link to JupyterLab (editors and admins), the snapshots and sign-out. Pages
share one ``AppState``, which autosaves; the current page is part of it and of the URL
(``?page=Data``), so a deep link opens that page and a reload stays on it. A page that raises
shows a short message in its place, and the rest of the app keeps working.
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Callable

import ipywidgets as widgets
from IPython.display import display

from .. import current_role
from ..files.urls import base_url, files_url, lab_url
from ..sessions import AppState
from ..sessions.state import PAGE
from . import plugins as plugin_pages
from .routing import in_voila, notebook_path, replace_url_script, requested_page

PageFunction = Callable[[AppState], object]
EDITORS = ("admin", "editor")

STYLE = """
<style>
.mlapp-app { width: 100%; box-sizing: border-box; font-family: var(--jp-ui-font-family, sans-serif); }
.mlapp-app .mlapp-app-header { align-items: center; gap: 16px; padding: 10px 20px; background: #1e293b;
  color: #f1f5f9; border-radius: 8px 8px 0 0; flex-wrap: wrap; }
.mlapp-app .mlapp-app-header .widget-html-content { color: inherit; line-height: 1.4; }
.mlapp-app .mlapp-app-header a { color: #bfdbfe; text-decoration: none; margin-left: 14px; }
.mlapp-app .mlapp-app-header a:hover { text-decoration: underline; }
.mlapp-app .mlapp-app-title { flex: 1 1 auto; }
.mlapp-app .mlapp-app-title h1 { margin: 0; font-size: 20px; font-weight: 600; color: #fff; }
.mlapp-app .mlapp-app-user { color: #cbd5e1; }
.mlapp-app .mlapp-app-header .jupyter-button { background: #334155; color: #f1f5f9; width: auto; }
.mlapp-app .mlapp-app-header .jupyter-button.mod-active { background: #2563eb; }
.mlapp-app .mlapp-app-sessions { padding: 10px 20px; background: #f8fafc; border: 1px solid #e2e8f0; border-top: 0; }
.mlapp-app .mlapp-app-body { align-items: stretch; min-height: 560px; border: 1px solid #e2e8f0;
  border-top: 0; border-radius: 0 0 8px 8px; }
.mlapp-app .mlapp-app-nav { flex: 0 0 176px; width: 176px; padding: 12px 8px; background: #f8fafc;
  border-right: 1px solid #e2e8f0; }
.mlapp-app .mlapp-app-nav .jupyter-button { width: 100%; height: 34px; margin: 2px 0; text-align: left;
  padding-left: 12px; background: transparent; border-radius: 6px; color: #334155; box-shadow: none; }
.mlapp-app .mlapp-app-nav .jupyter-button:hover { background: #e2e8f0; }
.mlapp-app .mlapp-app-nav .jupyter-button.mlapp-nav-current { background: #2563eb; color: #fff; font-weight: 600; }
.mlapp-app .mlapp-app-content { flex: 1 1 auto; min-width: 0; padding: 16px 24px 24px; overflow-x: auto; }
.mlapp-app .mlapp-page-title h2 { margin: 0 0 14px; font-size: 18px; font-weight: 600; color: #0f172a; }
.mlapp-app .mlapp-page-error { border: 1px solid #fecaca; background: #fef2f2; color: #991b1b;
  padding: 12px 16px; border-radius: 6px; }
.mlapp-app .mlapp-page-error details { margin-top: 8px; color: #475569; }
.mlapp-app .mlapp-page-error pre { white-space: pre-wrap; font-size: 12px; max-height: 300px; overflow: auto; }
.mlapp-app .mlapp-app-notice { color: #92400e; }
/* for page authors: short notes and action results */
.mlapp-app .mlapp-note { padding: 10px 14px; border-radius: 6px; background: #eff6ff; color: #1e3a8a; }
.mlapp-app .mlapp-note-warn { background: #fffbeb; color: #92400e; }
.mlapp-app .mlapp-error { color: #b91c1c; }
.mlapp-app .mlapp-ok { color: #15803d; }
</style>
"""


def app_name(title: str) -> str:
    """A name for the app's saved state, from its title: ``"Churn model"`` -> ``churn-model``."""
    name = re.sub(r"[^\w-]+", "-", title.strip().lower()).strip("-")
    return name or "app"


class App:
    """A multi-page app. ``App("Title", plugins=True)`` also adds the pages that installed
    packages register in the ``jupyter_mlapp.pages`` entry point group (after the app's own).

    ``links={"Licence": "notebooks/LICENSE.html"}`` puts links in the header to static files of
    the workspace, opened in a new tab through Jupyter's authenticated file serving.
    """

    def __init__(
        self,
        title: str,
        *,
        name: str | None = None,
        plugins: bool = False,
        state: AppState | None = None,
        user: str | None = None,
        home=None,
        links: dict[str, str] | None = None,
    ):
        self.title = title
        self.name = name or app_name(title)
        self.plugins = plugins
        self.links = dict(links or {})
        self._own: dict[str, PageFunction] = {}
        self._state = state
        self._user, self._home = user, home
        self.view: AppView | None = None

    def page(self, title: str) -> Callable[[PageFunction], PageFunction]:
        """Decorator: ``@app.page("Data")`` adds the function as a page; pages appear in the
        order they are added. The function gets the shared ``AppState`` and returns a widget (or
        displays what it shows)."""
        if not isinstance(title, str) or not title.strip():
            raise ValueError("a page needs a title")
        if title in self._own:
            raise ValueError(f"there is already a page {title!r}")

        def add(function: PageFunction) -> PageFunction:
            self._own[title] = function
            return function

        return add

    @property
    def pages(self) -> dict[str, PageFunction]:
        """Title -> page function, in menu order (the app's own pages first, then plugins)."""
        pages = dict(self._own)
        if self.plugins:
            for title, function in plugin_pages.discover():
                pages.setdefault(title, function)
        return pages

    @property
    def state(self) -> AppState:
        """The state shared by all pages (created, and autoloaded, on first use)."""
        if self._state is None:
            self._state = AppState(self.name, user=self._user, home=self._home)
        return self._state

    def widget(self) -> AppView:
        """The app as one widget (to embed it); ``show()`` displays it."""
        pages = self.pages
        if not pages:
            raise ValueError("the app has no pages: add one with @app.page('Title')")
        if self.view is not None:  # shown again (a re-run cell): the old view stops following
            self.view.close()
        self.view = AppView(self, pages)
        return self.view

    def show(self) -> None:
        display(self.widget())

    @property
    def page_title(self) -> str | None:
        """The page shown now."""
        return self.view.current if self.view else None

    def navigate(self, title: str) -> None:
        """Show page ``title`` (as a click in the menu does)."""
        if self.view is None:
            raise RuntimeError("show the app first")
        self.view.navigate(title)


class AppView(widgets.VBox):
    """The widget of an ``App``: header, optional snapshots panel, sidebar menu and the page."""

    def __init__(self, app: App, pages: dict[str, PageFunction]):
        super().__init__()
        self.add_class("mlapp-app")
        self.app = app
        self.state = app.state
        self.pages = pages
        self.current: str | None = None
        self._built: dict[str, widgets.Widget] = {}
        self.role = current_role()

        self.menu = {title: self._menu_button(title) for title in self.pages}
        nav = widgets.VBox(list(self.menu.values()))
        nav.add_class("mlapp-app-nav")
        self.content = widgets.VBox()
        self.content.add_class("mlapp-app-content")
        body = widgets.HBox([nav, self.content])
        body.add_class("mlapp-app-body")
        self.notice = widgets.HTML()
        self.notice.add_class("mlapp-app-notice")
        self.sessions = widgets.VBox(layout=widgets.Layout(display="none"))
        self.sessions.add_class("mlapp-app-sessions")
        self.url_script = widgets.Output(layout=widgets.Layout(display="none"))
        self.children = [widgets.HTML(STYLE), self._header(), self.sessions, body, self.url_script]

        self.state.observe(PAGE, self._on_state_page)
        asked = requested_page() if in_voila() else None
        restored = self.state.page if self.state.page in self.pages else next(iter(self.pages))
        start = asked if asked in self.pages else restored
        self.navigate(start, replace_url=asked != start)
        if asked is not None and asked != start:  # a stale or mistyped deep link
            self.notice.value = html.escape(f"There is no page {asked!r}; here is {start!r}.")
            self.content.children = [self.notice, *self.content.children]

    # -- header ------------------------------------------------------------------------------
    def _header(self) -> widgets.HBox:
        title = widgets.HTML(f"<h1>{html.escape(self.app.title)}</h1>")
        title.add_class("mlapp-app-title")
        links = []
        editor = self.role in EDITORS
        lab = lab_url(notebook_path()) if editor else None
        if lab:
            links.append(
                f"<a class='mlapp-lab-link' href='{html.escape(lab)}' target='_blank' rel='noopener'>"
                f"Open in JupyterLab</a>"
            )
        for label, path in self.app.links.items():
            url = files_url(path)
            if url:
                links.append(
                    f"<a class='mlapp-static-link' href='{html.escape(url)}' target='_blank' "
                    f"rel='noopener'>{html.escape(label)}</a>"
                )
        base = base_url()
        user = html.escape(self.state.user)
        links_html = widgets.HTML("".join(links))
        who = widgets.HTML(
            f"<span class='mlapp-app-user' title='role: {html.escape(self.role)}'>"
            f"<i class='fa fa-user'></i> {user}</span>"
        )
        self.sessions_button = widgets.Button(
            description="Snapshots", icon="camera", tooltip="Save, load and delete snapshots of this session"
        )
        self.sessions_button.on_click(lambda _: self.toggle_sessions())
        logout = widgets.HTML(f"<a class='mlapp-logout' href='{html.escape(base)}logout'>Sign out</a>" if base else "")
        header = widgets.HBox([title, links_html, who, self.sessions_button, logout])
        header.add_class("mlapp-app-header")
        return header

    def close(self) -> None:
        self.state.unobserve(PAGE, self._on_state_page)
        super().close()

    def toggle_sessions(self) -> None:
        """Show or hide the snapshots panel (the session bar is built on first use)."""
        if not self.sessions.children:
            from ..sessions import SessionBar

            self.session_bar = SessionBar(self.state)
            self.sessions.children = [self.session_bar]
        shown = self.sessions.layout.display != "none"
        self.sessions.layout.display = "none" if shown else "flex"
        (self.sessions_button.remove_class if shown else self.sessions_button.add_class)("mod-active")

    # -- pages -------------------------------------------------------------------------------
    def _menu_button(self, title: str) -> widgets.Button:
        button = widgets.Button(description=title, tooltip=title)
        button.add_class("mlapp-nav-item")
        button.on_click(lambda _: self.navigate(title))
        return button

    def navigate(self, title: str, replace_url: bool = True) -> None:
        if title not in self.pages:
            raise ValueError(f"there is no page {title!r}; the pages are {', '.join(self.pages)}")
        changed = title != self.current
        self.current = title
        for name, button in self.menu.items():
            (button.add_class if name == title else button.remove_class)("mlapp-nav-current")
        page = self._built.get(title) or self._build(title)
        self.content.children = [page]
        self.state.page = title
        if replace_url and changed and in_voila():
            # One assignment (not clear + append): the front end runs the script it receives.
            self.url_script.outputs = (
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"application/javascript": replace_url_script(title)},
                },
            )

    def _on_state_page(self, change) -> None:
        """A snapshot loaded (or a new session started) elsewhere: follow its page."""
        target = change.new if change.new in self.pages else next(iter(self.pages))
        if target != self.current:
            self.navigate(target)

    def _build(self, title: str) -> widgets.Widget:
        heading = widgets.HTML(f"<h2>{html.escape(title)}</h2>")
        heading.add_class("mlapp-page-title")
        output = widgets.Output()
        failure = None
        # (inside the capture, or Output would print the traceback into the page and swallow it)
        with output:
            try:
                result = self.pages[title](self.state)
                if result is not None and not isinstance(result, widgets.Widget):
                    display(result)
            except Exception as exc:  # any error of the page's own code: shown in place
                failure = exc
        if failure is not None:
            page = widgets.VBox([heading, self._error(failure)])
            page.add_class("mlapp-page")
            return page  # not kept: visiting the page again tries again
        children = [heading, output] + ([result] if isinstance(result, widgets.Widget) else [])
        page = widgets.VBox(children)
        page.add_class("mlapp-page")
        self._built[title] = page
        return page

    def _error(self, exc: Exception) -> widgets.Widget:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        details = ""
        if self.role in EDITORS:  # the code's internals are for those who may edit it
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))
            details = f"<details><summary>Details</summary><pre>{html.escape(trace)}</pre></details>"
        box = widgets.HTML(
            f"<div class='mlapp-page-error'><b>This page could not be shown.</b> "
            f"{html.escape(message)}<br>The other pages still work; open this one again to retry."
            f"{details}</div>"
        )
        box.add_class("mlapp-page-error-box")
        return box
