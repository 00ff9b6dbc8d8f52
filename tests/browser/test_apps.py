"""The flagship ML app in Voila, as a signed-in editor uses it: every page, a training job watched
live and through a reload, folders in the file explorer, snapshots, links to Lab and static files;
on a phone, in light and dark; and an app of the test's own with debug prints and JupyterLab inside,
as its editor and a viewer see it."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import nbformat
import pytest
import requests
from conftest import screenshot
from harness import MLAppServer, make_root
from playwright.sync_api import expect

from jupyter_mlapp.apps.published import PublishedApps, Who
from jupyter_mlapp.auth.store import UserStore

pytestmark = pytest.mark.browser

APP = "/voila/render/notebooks/ml_app.ipynb"
USER, PASSWORD = "eddie", "eddie-editor-pw-1"
VIEWER, VIEWER_PASSWORD = "vera", "vera-viewer-pw-1"
DEBUG_APP = "/voila/render/notebooks/debug_app.ipynb"
# An author's app as first written: debug prints (one before the App exists), a stray value,
# JupyterLab inside on a text file.
DEBUG_CELLS = [
    "print('debug: 2 secret rows before the app')",
    "import ipywidgets as widgets\nfrom pathlib import Path\nfrom jupyter_mlapp.apps import App\n"
    "app = App('Debug demo', jupyter='notebooks/greeting.txt')\nprint('debug: loaded 3 secret rows')",
    "@app.page('Greeting')\ndef greeting(state):\n    shown = widgets.HTML()\n"
    "    read = widgets.Button(description='Read the file')\n"
    "    read.on_click(lambda _: setattr(shown, 'value', Path('greeting.txt').read_text()))\n"
    "    return widgets.VBox([read, shown])\n'a stray value'",
    "app.show()",
]
# A notebook whose widgets come before and after a slow cell: Voila's JavaScript loads while it runs.
SLOW_APP = "/voila/render/notebooks/slow_app.ipynb"
SLOW_CELLS = [
    "import ipywidgets as widgets\nwidgets.Button(description='Before the slow cell')",
    "import time\ntime.sleep(4)",
    "clicks = widgets.IntText(description='Clicks')\nafter = widgets.Button(description='After the slow cell')\n"
    "after.on_click(lambda _: setattr(clicks, 'value', clicks.value + 1))\nwidgets.VBox([after, clicks])",
]
PAGES = ["Data", "Train", "Monitor", "Jobs", "Models", "Files"]
LOAD = 120_000  # a Voila page executes the whole notebook before it shows: generous under load


@pytest.fixture(scope="module", autouse=True)
def patient_expectations():
    """Every step here is a round trip through a kernel: allow for a loaded machine."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other modules


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server with one editor account (the accounts make the login page the way in)."""
    home = tmp_path_factory.mktemp("apps-home")
    UserStore(home).add(USER, PASSWORD, "editor")
    UserStore(home).add(VIEWER, VIEWER_PASSWORD, "viewer")
    root = make_root(tmp_path_factory.mktemp("apps-root"))
    for name, cells in (("debug_app", DEBUG_CELLS), ("slow_app", SLOW_CELLS)):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, root / "notebooks" / f"{name}.ipynb")
    (root / "notebooks" / "greeting.txt").write_text("hello from the first draft\n")
    PublishedApps(root, home).publish(
        "notebooks/debug_app.ipynb", by=Who(USER, "editor"), title="Debug demo", description="An author's draft"
    )
    server = MLAppServer(home, root).start()
    yield server
    server.stop()


def open_app(page, server, query: str = "", app: str = APP, user: str = USER, password: str = PASSWORD):
    """Sign in through the login page, which sends the browser on to the app."""
    sign_in(page, server, app + query, user, password)
    wait_ready(page)


def sign_in(page, server, next_path: str, user: str = USER, password: str = PASSWORD):
    page.goto(f"{server.url}/login?next={quote(next_path)}")
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")


def wait_ready(page):
    # (the page's title, not the menu: on a phone the menu is folded away)
    expect(page.locator(".mlapp-page-title").first).to_be_visible(timeout=LOAD)


def go(page, title: str):
    page.locator(".mlapp-app-nav").get_by_role("button", name=title, exact=True).click()
    expect(page.locator(".mlapp-nav-current")).to_have_text(title)
    expect(page.locator(".mlapp-page-title").last).to_have_text(title)
    expect(page).to_have_url(re.compile(rf"[?&]page={title}(&|$)"))


def test_every_page_shows_cleanly_and_links_go_through_the_server(server, page):
    open_app(page, server)
    header = page.locator(".mlapp-app-header")
    expect(header).to_contain_text("ML App")
    expect(header.locator(".mlapp-app-user")).to_contain_text(USER)
    lab = header.locator("a.mlapp-lab-link")
    expect(lab).to_have_attribute("href", "/lab/tree/notebooks/ml_app.ipynb")
    expect(lab).to_have_attribute("target", "_blank")
    expect(header.locator("a.mlapp-logout")).to_have_attribute("href", "/logout")
    # The flagship embeds JupyterLab on itself for editors and admins: the last page of the menu.
    nav = page.locator(".mlapp-app-nav").get_by_role("button")
    expect(nav).to_have_text([*PAGES, "Jupyter"])
    for title in PAGES:
        go(page, title)
        content = page.locator(".mlapp-app-content")
        expect(content).not_to_contain_text("Traceback")
        expect(content.locator(".mlapp-page-error")).to_have_count(0)
        # Nothing wider than the page: tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"apps-page-{title.lower()}")

    # The licence, a static file of the workspace, opens in a new tab behind the same login.
    with page.context.expect_page() as new_tab:
        header.get_by_role("link", name="Licence").click()
    licence = new_tab.value
    expect(licence.locator("h1")).to_have_text("BSD 3-Clause License")
    assert "/files/notebooks/LICENSE.html" in licence.url
    licence.close()


def test_the_page_loads_its_scripts_while_the_cells_run_and_shows_every_widget(server, page):
    """Voila's JavaScript and the widget extensions load while the kernel runs the cells (not
    after the last one, as Voila alone does); the widgets of every cell still show and work."""
    sign_in(page, server, SLOW_APP)
    expect(page.get_by_role("button", name="Before the slow cell")).to_be_visible(timeout=LOAD)
    page.get_by_role("button", name="After the slow cell").click()
    expect(page.get_by_label("Clicks")).to_have_value("1")
    timing = page.evaluate(
        """() => ({
          cellsIn: performance.getEntriesByType("navigation")[0].responseEnd,
          extension: performance.getEntriesByType("resource")
            .find((r) => r.name.includes("/labextensions/jupyter-mlapp/static/remoteEntry.")).startTime,
        })"""
    )
    assert timing["extension"] < timing["cellsIn"], timing


def test_deep_links_open_their_page(server, page):
    open_app(page, server, "?page=Files")
    expect(page.locator(".mlapp-nav-current")).to_have_text("Files")
    page.goto(f"{server.url}{APP}?page=Nowhere")
    wait_ready(page)
    expect(page.locator(".mlapp-app-notice")).to_contain_text("There is no page 'Nowhere'")


def test_training_job_is_watched_live_and_survives_a_reload(server, page):
    open_app(page, server, "?page=Train")
    save_as = f"iris-{uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Save as").fill(save_as)
    page.get_by_role("button", name="Start training").click()
    # Starting sends the user to Monitor, where the curves grow as the job prints its epochs.
    expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor", timeout=30_000)
    monitor = page.locator(".mlapp-training-monitor")
    expect(monitor).to_contain_text("val_accuracy", timeout=60_000)
    expect(monitor.locator(".mlapp-training-charts svg").first).to_be_visible()
    screenshot(page, "apps-monitor-live")

    page.reload()
    wait_ready(page)
    expect(page.locator(".mlapp-nav-current")).to_have_text("Monitor")
    monitor = page.locator(".mlapp-training-monitor")
    expect(monitor).to_contain_text(re.compile(r"epoch=\d+ loss="), timeout=30_000)  # the history is back
    expect(monitor).to_contain_text("succeeded", timeout=90_000)
    expect(monitor).to_contain_text(f"saved model '{save_as}'")
    screenshot(page, "apps-monitor-after-reload")

    go(page, "Jobs")
    expect(page.locator(".mlapp-jobs-row", has_text="train iris").first).to_contain_text("succeeded")
    go(page, "Models")  # the trained model is in the registry, ready to serve
    expect(page.locator(".mlapp-app-content")).to_contain_text(save_as)
    screenshot(page, "apps-models-trained")


def upload(page, explorer, name: str, data: bytes) -> None:
    """Pick a file in the browser's file chooser, as a user does."""
    with page.expect_file_chooser() as chooser:
        explorer.get_by_role("button", name="Upload").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])


def test_files_create_and_delete_a_folder(server, page):
    open_app(page, server, "?page=Files")
    explorer = page.locator(".mlapp-files")
    name = f"runs-{uuid.uuid4().hex[:6]}"
    explorer.get_by_role("button", name="New folder").click()
    explorer.locator(".mlapp-files-prompt input").fill(name)
    explorer.get_by_role("button", name="Create").click()
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Created the folder {name}")
    row = explorer.locator(".mlapp-file-row", has_text=name)
    expect(row).to_have_class(re.compile("mlapp-selected"))
    assert (server.root / name).is_dir()
    screenshot(page, "apps-files-created")

    # Upload from this machine's disk into the selected folder, through the kernel.
    upload(page, explorer, "notes.txt", b"hello from the browser")
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Uploaded notes.txt to {name}")
    assert (server.root / name / "notes.txt").read_bytes() == b"hello from the browser"
    explorer.locator(".mlapp-file-row", has_text="notes.txt").locator(".mlapp-file-name").click()
    details = explorer.locator(".mlapp-files-details")
    expect(details).to_contain_text("22 B")
    expect(details.get_by_role("link", name="Download")).to_have_attribute(
        "href", f"/files/{name}/notes.txt?download=1"
    )
    row.locator(".mlapp-file-name").click()

    explorer.get_by_role("button", name="Delete").click()
    expect(explorer.locator(".mlapp-files-prompt")).to_contain_text(
        f"Delete the folder {name} and everything in it (1 entry)?"
    )
    explorer.locator(".mlapp-files-prompt").get_by_role("button", name="Delete").click()
    expect(explorer.locator(".mlapp-files-message")).to_have_text(f"Deleted {name}")
    expect(row).to_have_count(0)
    assert not (server.root / name).exists()


def test_save_and_load_a_snapshot(server, page):
    open_app(page, server, "?page=Train")
    save_as = page.get_by_role("textbox", name="Save as")
    save_as.fill("before")
    save_as.press("Tab")
    page.get_by_role("button", name="Snapshots").click()
    bar = page.locator(".mlapp-session-bar")
    snapshot = f"snap-{uuid.uuid4().hex[:6]}"
    bar.locator(".mlapp-snapshot-name-input input").fill(snapshot)
    bar.get_by_role("button", name="Save snapshot").click()
    expect(bar.locator(".mlapp-session-message")).to_contain_text(f"Saved snapshot '{snapshot}'")

    save_as.fill("after")
    save_as.press("Tab")
    go(page, "Files")
    bar.locator(f"button[title=\"Load snapshot '{snapshot}'\"]").click()
    expect(bar.locator(".mlapp-session-message")).to_contain_text(f"Loaded snapshot '{snapshot}'")
    # The snapshot brings back its page and its values.
    expect(page.locator(".mlapp-nav-current")).to_have_text("Train")
    expect(page.get_by_role("textbox", name="Save as")).to_have_value("before")
    screenshot(page, "apps-snapshot-loaded")


def test_open_in_jupyterlab_keeps_the_editor_an_editor(server):
    browser = requests.Session()
    browser.get(f"{server.url}/login", timeout=30)
    signed_in = browser.post(
        f"{server.url}/login?next=/voila",
        allow_redirects=False,
        timeout=30,
        data={"username": USER, "password": PASSWORD, "_xsrf": browser.cookies.get("_xsrf")},
    )
    assert signed_in.status_code == 302
    lab = browser.get(f"{server.url}/lab/tree/notebooks/ml_app.ipynb", timeout=60)  # the app's link
    assert lab.status_code == 200
    assert server.token not in lab.text  # else the Lab front end acts as the server owner
    app = browser.get(f"{server.url}/voila/render/notebooks/hello.ipynb", timeout=60)
    assert app.status_code == 200
    assert server.token not in app.text


# -- a phone, themes ------------------------------------------------------------------------
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# What sticks out: the page scrolling sideways, anything of the app beyond the screen, anything of
# a page beyond its content box (except inside a box that scrolls on its own, as a wide grid does).
CLIPPED = """() => {
  const out = [], width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) out.push(`the page scrolls sideways`);
  const content = document.querySelector('.mlapp-app-content');
  const inner = content.getBoundingClientRect().right - parseFloat(getComputedStyle(content).paddingRight);
  const scrolls = (e) => {
    for (let a = e.parentElement; a && a !== content; a = a.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
    return false;
  };
  for (const e of document.querySelectorAll('.mlapp-app *')) {
    const r = e.getBoundingClientRect(), inPage = content.contains(e), limit = inPage ? inner : width;
    if (!r.width || !r.height || (inPage && scrolls(e))) continue;
    if (r.right > limit + 1 || r.left < -1) out.push(`${e.tagName}.${e.className}: ${r.left}..${r.right} > ${limit}`);
  }
  return out;
}"""


def clipped(page) -> list[str]:
    """CLIPPED once the page's layout has settled (widgets render a moment after their page)."""
    for _ in range(20):
        found = page.evaluate(CLIPPED)
        if not found:
            return found
        page.wait_for_timeout(250)
    return found


def test_on_a_phone_the_sidebar_is_a_menu_and_nothing_is_clipped(server, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        open_app(page, server)
        nav, menu = page.locator(".mlapp-app-nav"), page.locator(".mlapp-menu-button")
        expect(nav).to_be_hidden()  # the page has the whole width
        assert clipped(page) == []
        for title in PAGES:
            menu.click()
            expect(nav).to_be_visible()
            nav.get_by_role("button", name=title, exact=True).click()
            expect(nav).to_be_hidden()  # picking a page closes the menu
            expect(page.locator(".mlapp-page-title").last).to_have_text(title)
            assert clipped(page) == [], title
            screenshot(page, f"apps-phone-{title.lower()}")
    finally:
        context.close()


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('.mlapp-app')).backgroundColor")


def test_theme_follows_the_browser_and_the_switch_overrides_it(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme="dark")
    page = context.new_page()
    dark, light = "rgb(15, 23, 42)", "rgb(255, 255, 255)"
    app = page.locator(".mlapp-app")
    switch = page.locator(".mlapp-theme-switch")
    try:
        open_app(page, server, "?page=Train")
        expect(app).to_have_css("background-color", dark)  # the browser prefers dark
        expect(page.locator("body")).to_have_css("background-color", dark)  # the whole page, not a box in it
        screenshot(page, "apps-dark")
        page.emulate_media(color_scheme="light")
        expect(app).to_have_css("background-color", light)  # and follows it when it changes
        switch.locator("button[title='Dark theme']").click()
        expect(app).to_have_css("background-color", dark)  # the switch wins over the preference
        page.reload()
        wait_ready(page)
        expect(app).to_have_css("background-color", dark)  # and is kept
        switch.locator("button[title='Theme: as the browser prefers']").click()
        expect(app).to_have_css("background-color", light)
    finally:
        switch.locator("button[title='Theme: as the browser prefers']").click()  # the next test's app as before
        context.close()


# -- an author's draft: debug prints, JupyterLab inside ---------------------------------------
def text_outside_the_app(page) -> str:
    app = "document.querySelector('.mlapp-app').innerText"
    return page.evaluate(f"document.querySelector('#rendered_cells').innerText.replace({app}, '')")


def test_cell_outputs_fold_into_the_editors_log_above_nothing(server, page):
    open_app(page, server, app=DEBUG_APP)
    log = page.locator(".mlapp-app-log")
    expect(log).to_be_visible()
    expect(log).to_contain_text("only editors see this")
    assert "secret rows" not in text_outside_the_app(page) and "a stray value" not in text_outside_the_app(page)
    expect(page.get_by_text("debug: loaded 3 secret rows")).to_be_hidden()  # folded
    log.get_by_text("Log:").click()
    expect(log).to_contain_text("debug: loaded 3 secret rows")
    expect(log).to_contain_text("debug: 2 secret rows before the app")  # a cell before App(...) too
    expect(log).to_contain_text("'a stray value'")
    screenshot(page, "apps-debug-log")


def test_a_viewer_gets_neither_the_log_nor_jupyter(server, page):
    open_app(page, server, app=DEBUG_APP, user=VIEWER, password=VIEWER_PASSWORD)
    expect(page.locator(".mlapp-app-nav").get_by_role("button")).to_have_text(["Greeting"])  # no Jupyter page
    expect(page.locator(".mlapp-app-log")).to_be_hidden()
    page.wait_for_timeout(1000)  # any late widget update
    assert "secret rows" not in page.content() and "a stray value" not in page.content()  # never sent
    page.goto(f"{server.url}{DEBUG_APP}?page=Jupyter")
    wait_ready(page)
    expect(page.locator(".mlapp-app-notice")).to_contain_text("There is no page 'Jupyter'")
    expect(page.locator("iframe")).to_have_count(0)
    assert page.goto(f"{server.url}/lab/tree/notebooks/greeting.txt").status == 403


def test_an_editor_edits_a_file_in_the_embedded_jupyterlab_and_the_app_sees_it(server, page):
    open_app(page, server, "?page=Jupyter", app=DEBUG_APP)
    frame = page.locator("iframe.mlapp-jupyter-frame")
    expect(frame).to_have_attribute("src", "/lab/workspaces/mlapp-debug-demo/tree/notebooks/greeting.txt")
    editor = page.frame_locator("iframe.mlapp-jupyter-frame").locator(".jp-FileEditor .cm-content")
    expect(editor).to_contain_text("hello from the first draft", timeout=LOAD)
    editor.click()
    editor.press("Control+a")
    editor.press_sequentially("edited in the embedded Lab")
    # The whole text replaced before saving: under load a keystroke can reach the editor before it has focus.
    expect(editor).to_have_text("edited in the embedded Lab")
    editor.press("Control+s")  # Lab saves through the contents API, with its XSRF header
    greeting = server.root / "notebooks" / "greeting.txt"
    for _ in range(150):  # 30 s: a loaded machine's save is slow
        if greeting.read_text() == "edited in the embedded Lab":
            break
        page.wait_for_timeout(200)
    assert greeting.read_text() == "edited in the embedded Lab"
    screenshot(page, "apps-jupyter-inside")
    # The same request without Lab's XSRF header is refused: no protection was switched off for it.
    refused = page.request.put(
        f"{server.url}/api/contents/notebooks/greeting.txt",
        data={"type": "file", "format": "text", "content": "forged"},
    )
    assert refused.status == 403 and greeting.read_text() == "edited in the embedded Lab"

    go(page, "Greeting")
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator(".mlapp-app-content")).to_contain_text("edited in the embedded Lab")
