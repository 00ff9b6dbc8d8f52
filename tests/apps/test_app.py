"""The App shell: menu order, routing (deep links, reloads), shared state, errors in place, plugins."""

from __future__ import annotations

import sys
import textwrap

import ipywidgets as widgets
import pytest

from jupyter_mlapp.apps import App
from jupyter_mlapp.apps.app import app_name
from jupyter_mlapp.apps.routing import notebook_path, replace_url_script, requested_page
from jupyter_mlapp.files.urls import server_url


@pytest.fixture(autouse=True)
def plain_kernel(monkeypatch):
    """A notebook kernel outside Voila, as the local owner, unless a test says otherwise."""
    for name in (
        "VOILA_BASE_URL",
        "VOILA_REQUEST_URL",
        "QUERY_STRING",
        "SCRIPT_NAME",
        "JPY_SESSION_NAME",
        "MLAPP_BASE_URL",
        "MLAPP_WORKSPACE",
        "MLAPP_ROLE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLAPP_USER", "ann")


def voila(monkeypatch, query: str = "", path: str = "notebooks/ml_app.ipynb"):
    """The environment Voila gives the kernel of a page request."""
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    monkeypatch.setenv("SCRIPT_NAME", f"/voila/render/{path}")
    monkeypatch.setenv("QUERY_STRING", query)


def make_app(**kwargs) -> App:
    app = App("Churn model", **kwargs)

    @app.page("Data")
    def data(state):
        return state.link(widgets.IntSlider(description="rows", value=10), "value", "rows")

    @app.page("Train")
    def train(state):
        return widgets.HTML(f"training on {state['rows']} rows")

    @app.page("Broken")
    def broken(state):
        raise ZeroDivisionError("the page's own bug")

    return app


def menu(view):
    return [b.description for b in view.menu.values()]


def header_html(view) -> str:
    """What the header's HTML parts show (title, links, user, sign-out), in order."""
    return "".join(w.value for w in view.children[1].children if isinstance(w, widgets.HTML))


def current(view):
    return [b.description for b in view.menu.values() if "mlapp-nav-current" in b._dom_classes]


def test_menu_in_order_first_page_shown_and_highlighted():
    app = make_app()
    view = app.widget()
    assert menu(view) == ["Data", "Train", "Broken"]
    assert app.page_title == "Data" and current(view) == ["Data"]
    assert app.state.page == "Data" and app.state.app == "churn-model" and app.state.user == "ann"
    view.menu["Train"].click()
    assert app.page_title == "Train" and current(view) == ["Train"] and app.state.page == "Train"


def test_pages_share_one_state():
    app = make_app()
    view = app.widget()
    slider = view.content.children[0].children[-1]
    slider.value = 42
    app.navigate("Train")
    assert "training on 42 rows" in view.content.children[0].children[-1].value
    app.navigate("Data")  # built once: the same widget, still 42
    assert view.content.children[0].children[-1] is slider and slider.value == 42


def test_a_reload_comes_back_to_the_page_and_values(mlapp_home):
    app = make_app()
    app.widget()
    app.state["rows"] = 7
    app.navigate("Train")
    app.state.close()  # the kernel goes away (autosave flushed)
    again = make_app()
    view = again.widget()
    assert again.page_title == "Train" and "training on 7 rows" in view.content.children[0].children[-1].value


def test_deep_link_in_voila_wins_over_the_saved_page(monkeypatch):
    app = make_app()
    app.widget()
    app.navigate("Train")
    app.state.close()
    voila(monkeypatch, "token=abc&page=Data")
    assert requested_page() == "Data"
    again = make_app()
    again.widget()
    assert again.page_title == "Data"


def test_unknown_deep_link_says_so_and_shows_the_saved_page(monkeypatch):
    voila(monkeypatch, "page=Nope")
    app = make_app()
    view = app.widget()
    assert app.page_title == "Data"
    assert "There is no page &#x27;Nope&#x27;" in view.content.children[0].value


def test_navigation_in_voila_rewrites_the_url_without_reload(monkeypatch):
    voila(monkeypatch, "page=Data")
    app = make_app()
    view = app.widget()
    assert view.url_script.outputs == ()  # the URL already says Data
    app.navigate("Train")
    (output,) = view.url_script.outputs
    script = output["data"]["application/javascript"]
    assert script == replace_url_script("Train")
    assert 'url.searchParams.set("page", "Train")' in script and "history.replaceState" in script


def test_a_page_that_raises_shows_its_error_in_place():
    app = make_app()
    view = app.widget()
    app.navigate("Broken")
    error = view.content.children[0].children[1].value
    assert "This page could not be shown." in error and "ZeroDivisionError: the page&#x27;s own bug" in error
    assert "<details><summary>Details</summary>" in error  # the local owner may see the code
    app.navigate("Data")  # the rest keeps working
    assert app.page_title == "Data"


def test_viewers_get_no_traceback_and_no_lab_link(monkeypatch):
    monkeypatch.setenv("MLAPP_ROLE", "viewer")
    voila(monkeypatch)
    app = make_app()
    view = app.widget()
    app.navigate("Broken")
    assert "<details>" not in view.content.children[0].children[1].value
    assert "Open in JupyterLab" not in header_html(view)
    assert "class='mlapp-gallery-link' href='/mlapp/apps'" in header_html(view)  # back to the gallery


def test_editor_links_to_lab_static_files_and_logout(monkeypatch, tmp_path):
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    monkeypatch.setenv("MLAPP_WORKSPACE", str(tmp_path))
    voila(monkeypatch, path="notebooks/my%20app.ipynb")
    monkeypatch.setenv("VOILA_BASE_URL", "/base/")
    assert notebook_path() == "notebooks/my app.ipynb"
    app = make_app(links={"Licence": "notebooks/LICENSE.html", "Outside": "/etc/passwd"})
    links = header_html(app.widget())
    assert "href='/base/lab/tree/notebooks/my%20app.ipynb' target='_blank'" in links
    assert "href='/base/files/notebooks/LICENSE.html' target='_blank'" in links
    assert "Outside" not in links  # not served: outside the workspace
    assert "href='/base/logout'" in links
    assert "ann" in links


def test_loading_a_snapshot_goes_to_its_page():
    app = make_app()
    view = app.widget()
    app.navigate("Train")
    app.state.save_snapshot("on-train")
    app.navigate("Data")
    app.state.load_snapshot("on-train")
    assert app.page_title == "Train" and current(view) == ["Train"]
    app.state.new_session()
    assert app.page_title == "Data"


def test_snapshots_panel_toggles():
    app = make_app()
    view = app.widget()
    assert view.sessions.layout.display == "none"
    view.sessions_button.click()
    assert view.sessions.layout.display == "flex" and view.session_bar.state is app.state
    view.sessions_button.click()
    assert view.sessions.layout.display == "none"


def test_page_definitions_are_checked():
    app = App("x")
    with pytest.raises(ValueError, match="no pages"):
        app.widget()
    app.page("A")(lambda state: None)
    with pytest.raises(ValueError, match="already a page 'A'"):
        app.page("A")
    with pytest.raises(ValueError, match="needs a title"):
        app.page(" ")
    assert app_name("Churn model: v2!") == "churn-model-v2"


@pytest.fixture
def plugin_on_path(tmp_path, monkeypatch):
    """A tiny installed plugin: a module and a dist-info whose entry_points.txt names its pages."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "drift_pages.py").write_text(
        textwrap.dedent("""
        import ipywidgets as widgets

        def drift_page(state):
            return widgets.HTML(f"drift for {state.app}")
    """)
    )
    info = site / "drift_pages-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: drift-pages\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[jupyter_mlapp.pages]\nDrift report = drift_pages:drift_page\nMissing = no_such_module:page\n"
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("drift_pages", None)


def test_plugins_add_their_pages_after_the_apps_own(plugin_on_path):
    assert "Drift report" not in menu(make_app().widget())  # only when asked
    app = make_app(plugins=True)
    view = app.widget()
    assert menu(view) == ["Data", "Train", "Broken", "Drift report", "Missing"]
    app.navigate("Drift report")
    assert view.content.children[0].children[-1].value == "drift for churn-model"
    app.navigate("Missing")  # a plugin that cannot import: its page says so, the app lives on
    assert "the plugin no_such_module:page could not be loaded" in view.content.children[0].children[1].value


def test_server_url_is_where_the_browser_reached_voila(monkeypatch):
    assert server_url() is None
    voila(monkeypatch)
    monkeypatch.setenv("VOILA_BASE_URL", "/base/")
    monkeypatch.setenv(
        "VOILA_REQUEST_URL", "https://ml.example.org:8443/base/voila/render/notebooks/ml_app.ipynb?page=Data"
    )
    assert server_url() == "https://ml.example.org:8443/base/"


def test_in_jupyterlab_the_lab_link_opens_the_notebook_itself(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "projects/churn.ipynb")
    monkeypatch.setenv("MLAPP_BASE_URL", "/")
    assert notebook_path() == "projects/churn.ipynb"
    view = make_app().widget()
    assert "href='/lab/tree/projects/churn.ipynb'" in header_html(view)
    assert view.url_script.outputs == ()  # JupyterLab's own URL is left alone
    view.menu["Train"].click()
    assert view.url_script.outputs == ()


def test_showing_again_replaces_the_old_view():
    app = make_app()
    old = app.widget()
    new = app.widget()
    app.state.page = "Train"
    assert new.current == "Train" and old.current == "Data"


@pytest.fixture
def shell():
    """A real IPython shell running cells, as the kernel of a Voila app does."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_in_an_app_the_cells_outputs_go_to_the_editors_log(shell, monkeypatch):
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    voila(monkeypatch)
    shell.run_cell("from jupyter_mlapp.apps import App\napp = App('Debug demo')\nprint('loading the data')")
    shell.run_cell("@app.page('Home')\ndef home(state):\n    print('built home')\n    return None\n'a stray value'")
    shell.run_cell("import sys\napp.show()\nprint('oops', file=sys.stderr)")
    view = shell.user_ns["app"].view
    assert "mlapp-app-log" in view.cell_log._dom_classes and view.cell_log.layout.display == "flex"
    assert view.cell_log.selected_index is None  # folded
    texts = [o.get("text") or o["data"]["text/plain"] for o in view.cell_log_output.outputs]
    assert texts == ["loading the data\n", "'a stray value'", "oops\n"]
    assert "(3, only editors see this)" in view.cell_log.get_title(0)
    # ("built home", the page function's own output, is not there: it belongs to its page.)
    # After the app is shown, a cell that prints still goes to the log, live.
    shell.run_cell("print('later')")
    assert view.cell_log_output.outputs[-1]["text"] == "later\n"


def test_a_viewer_gets_no_log_and_no_stray_outputs(shell, monkeypatch, capsys):
    monkeypatch.setenv("MLAPP_ROLE", "viewer")
    voila(monkeypatch)
    shell.run_cell("from jupyter_mlapp.apps import App\napp = App('Debug demo')\nprint('secret debug line')")
    shell.run_cell("app.page('Home')(lambda state: None)\napp.show()\nprint('after show')")
    app = shell.user_ns["app"]
    assert not app.log.keep and list(app.log.outputs) == []
    assert app.view.cell_log.layout.display == "none" and app.view.cell_log_output.outputs == ()
    assert "secret debug line" not in capsys.readouterr().out  # nothing reached the page either


def test_in_jupyterlab_the_notebook_shows_its_outputs(shell, capsys):
    shell.run_cell("from jupyter_mlapp.apps import App\napp = App('Debug demo')\nprint('visible while prototyping')")
    assert shell.user_ns["app"].log is None
    assert "visible while prototyping" in capsys.readouterr().out


def test_the_jupyter_page_embeds_lab_for_editors_only(monkeypatch):
    monkeypatch.setenv("MLAPP_ROLE", "editor")
    voila(monkeypatch, path="notebooks/my%20app.ipynb")
    view = make_app(jupyter=True).widget()
    assert menu(view)[-1] == "Jupyter"
    view.navigate("Jupyter")
    frame = view.content.children[0].children[-1].value
    assert (
        "<iframe class='mlapp-jupyter-frame' src='/lab/workspaces/mlapp-churn-model/tree/notebooks/my%20app.ipynb'"
        in (frame)
    )
    assert make_app(jupyter="data/runs").jupyter_url() == "/lab/workspaces/mlapp-churn-model/tree/data/runs"

    monkeypatch.setenv("MLAPP_ROLE", "viewer")
    voila(monkeypatch, "page=Jupyter")
    app = make_app(jupyter=True)
    view = app.widget()
    assert "Jupyter" not in menu(view) and app.page_title == "Data"  # a viewer asking for it gets nothing
    assert "There is no page &#x27;Jupyter&#x27;" in view.content.children[0].value
    with pytest.raises(ValueError, match="no page 'Jupyter'"):
        app.navigate("Jupyter")


def test_theme_switch_follows_the_browser_until_chosen_and_is_kept():
    app = make_app()
    view = app.widget()
    assert view.theme_switch.value == "auto" and not {"mlapp-theme-light", "mlapp-theme-dark"} & set(view._dom_classes)
    assert "app.theme" not in app.state  # nothing to save until the user picks one
    view.theme_switch.value = "dark"
    assert "mlapp-theme-dark" in view._dom_classes
    app.state.close()
    view = make_app().widget()  # a reload: the choice is back
    assert view.theme_switch.value == "dark" and "mlapp-theme-dark" in view._dom_classes
    view.theme_switch.value = "light"
    assert "mlapp-theme-light" in view._dom_classes and "mlapp-theme-dark" not in view._dom_classes


def test_phone_menu_opens_and_closes_on_a_pick():
    view = make_app().widget()
    view.menu_button.click()
    assert "mlapp-menu-open" in view._dom_classes
    view.menu["Train"].click()
    assert "mlapp-menu-open" not in view._dom_classes and view.current == "Train"
