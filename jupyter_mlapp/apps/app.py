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
import sys
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from urllib.parse import quote

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display

from .. import current_role
from ..files.urls import base_url, files_url, lab_url
from ..sessions import AppState
from ..sessions.state import PAGE
from ..stylesheet import stylesheet
from . import plugins as plugin_pages
from .log import CellLog
from .routing import in_voila, notebook_path, replace_url_script, requested_page

PageFunction = Callable[[AppState], object]
EDITORS = ("admin", "editor")

JUPYTER_PAGE = "Jupyter"
THEMES = (("", "auto"), ("", "light"), ("", "dark"))
THEME_ICONS = ("adjust", "sun", "moon")
THEME_TIPS = ("Theme: as the browser prefers", "Light theme", "Dark theme")
THEME_KEY = "app.theme"  # in the app's state: the choice is kept across reloads


def log_cell_outputs() -> CellLog | None:
    """Served as an app, the cells' own outputs go from here on to the app's log (editors), not
    above the app; None outside Voila. ``App(...)`` calls it, and so does the mlapp Voila template
    at the top of a notebook that creates an App, which puts the cells before it in the log too."""
    shell = get_ipython()
    return CellLog.for_shell(shell, keep=current_role() in EDITORS) if in_voila() and shell else None


def app_name(title: str) -> str:
    """A name for the app's saved state, from its title: ``"Churn model"`` -> ``churn-model``."""
    name = re.sub(r"[^\w-]+", "-", title.strip().lower()).strip("-")
    return name or "app"


class App:
    """A multi-page app. ``App("Title", plugins=True)`` also adds the pages that installed
    packages register in the ``jupyter_mlapp.pages`` entry point group (after the app's own).

    ``links={"Licence": "notebooks/LICENSE.html"}`` puts links in the header to static files of
    the workspace, opened in a new tab through Jupyter's authenticated file serving.

    ``jupyter=True`` adds a last page, "Jupyter", with JupyterLab inside the app on the app's
    notebook (``jupyter="data/"``: on that file or folder), for editors and admins only: the page
    is not even in a viewer's app. It is the server's own JupyterLab in a frame of the same origin,
    behind the same login, with its protections on (XSRF, ``frame-ancestors 'self'``); it keeps
    its own workspace (``mlapp-<name>``), so it does not rearrange the editor's JupyterLab tab.
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
        jupyter: bool | str = False,
    ):
        self.title = title
        self.name = name or app_name(title)
        self.plugins = plugins
        self.links = dict(links or {})
        self.jupyter = jupyter
        self._own: dict[str, PageFunction] = {}
        self._state = state
        self._user, self._home = user, home
        self.view: AppView | None = None
        self.log = log_cell_outputs()

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
        if self.jupyter_url() and current_role() in EDITORS:
            pages.setdefault(JUPYTER_PAGE, self._jupyter_page)
        return pages

    def jupyter_url(self) -> str | None:
        """Where the Jupyter page's JupyterLab opens (None: no page, or no server to embed)."""
        if not self.jupyter:
            return None
        path = notebook_path() if self.jupyter is True else str(self.jupyter).strip("/")
        lab = lab_url()
        return f"{lab}/workspaces/mlapp-{self.name}/tree/{quote(path)}" if lab and path else lab

    def _jupyter_page(self, state: AppState) -> widgets.Widget:
        frame = widgets.HTML(
            f"<iframe class='mlapp-jupyter-frame' src='{html.escape(self.jupyter_url())}' title='JupyterLab'></iframe>"
        )
        frame.add_class("mlapp-jupyter")
        return frame

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
        with self.paused_log():  # the app itself is the page
            display(self.widget())

    def paused_log(self):
        """A block whose outputs go to the page, not to the app's log."""
        return self.log.paused() if self.log else nullcontext()

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
        self.cell_log = self._log_view()
        self.children = [stylesheet(), self._header(), self.sessions, body, self.cell_log, self.url_script]

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
        base = base_url()
        if base:  # back to the gallery of the apps this user may open
            links.append(f"<a class='mlapp-gallery-link' href='{html.escape(base)}mlapp/apps'>Apps</a>")
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
        # Shown on a phone only (app.css), where the sidebar folds away behind it.
        self.menu_button = widgets.Button(icon="bars", tooltip="Pages", layout=widgets.Layout(width="40px"))
        self.menu_button.add_class("mlapp-menu-button")
        self.menu_button.on_click(lambda _: self.toggle_menu())
        self.theme_switch = widgets.ToggleButtons(
            options=THEMES, icons=list(THEME_ICONS), tooltips=list(THEME_TIPS), style={"button_width": "34px"}
        )
        self.theme_switch.add_class("mlapp-theme-switch")
        self.theme_switch.observe(self._on_theme, "value")
        # Saved when the user picks one, not at start (state.link would write the default: a save
        # for nothing while the first page is still importing its libraries).
        if self.state.get(THEME_KEY) in [value for _, value in THEMES]:
            self.theme_switch.value = self.state[THEME_KEY]
        self.theme_switch.observe(lambda change: self.state.__setitem__(THEME_KEY, change.new), "value")
        header = widgets.HBox(
            [self.menu_button, title, links_html, who, self.sessions_button, self.theme_switch, logout]
        )
        header.add_class("mlapp-app-header")
        return header

    def toggle_menu(self) -> None:
        """Open or close the pages menu (a phone's folded sidebar)."""
        (self.remove_class if "mlapp-menu-open" in self._dom_classes else self.add_class)("mlapp-menu-open")

    def _on_theme(self, change=None) -> None:
        for theme in ("light", "dark"):
            (self.add_class if self.theme_switch.value == theme else self.remove_class)(f"mlapp-theme-{theme}")
        self._repaint_grids()

    def _repaint_grids(self) -> None:
        """ipydatagrid paints its canvas in the colours it read from the page when it was drawn
        or its ``grid_style`` last changed, not those of the CSS of now: a change of the style
        (a key it ignores, naming the theme) makes the grids on screen read them again. A grid
        drawn later reads them as it is drawn."""
        grid_module = sys.modules.get("ipydatagrid")
        if grid_module is None:  # never imported: there is no grid
            return
        shown: list[widgets.Widget] = [self]
        while shown:
            widget = shown.pop()
            if isinstance(widget, grid_module.DataGrid):
                widget.grid_style = {**widget.grid_style, "mlapp_theme": self.theme_switch.value}
            shown.extend(getattr(widget, "children", ()))

    def close(self) -> None:
        self.state.unobserve(PAGE, self._on_state_page)
        if self.app.log and self._show_log in self.app.log.listeners:
            self.app.log.listeners.remove(self._show_log)
        super().close()

    # -- log ---------------------------------------------------------------------------------
    def _log_view(self) -> widgets.Accordion:
        """The cells' outputs, folded at the foot of the app; shown to editors once there are any."""
        self.cell_log_output = widgets.Output()
        log = widgets.Accordion([self.cell_log_output], selected_index=None, layout=widgets.Layout(display="none"))
        log.add_class("mlapp-app-log")
        if self.app.log and self.app.log.keep:
            self.app.log.listeners.append(self._show_log)
            self._show_log(tuple(self.app.log.outputs), log)
        return log

    def _show_log(self, outputs: tuple[dict, ...], log: widgets.Accordion | None = None) -> None:
        log = log or self.cell_log
        self.cell_log_output.outputs = outputs
        log.set_title(0, f"Log: what the notebook's cells printed ({len(outputs)}, only editors see this)")
        log.layout.display = "flex" if outputs else "none"

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
        self.remove_class("mlapp-menu-open")  # a page picked from the phone's menu: show it
        # The old page's mark goes before the new one's comes: each is its own message to the page,
        # and the other order showed two current pages between them.
        for name, button in self.menu.items():
            if name != title:
                button.remove_class("mlapp-nav-current")
        self.menu[title].add_class("mlapp-nav-current")
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
        with self.app.paused_log(), output:
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
