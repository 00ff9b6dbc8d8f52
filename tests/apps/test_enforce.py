"""Published apps enforced on a real `jupyter mlapp` server (per-user roots on), for anonymous,
viewer, editor and admin requests: what runs, what is read, what is listed, what is published."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import nbformat
import pytest
import requests
from argon2 import PasswordHasher
from harness import MLAppServer, make_root

from jupyter_mlapp.auth.store import UserStore

HASHER = PasswordHasher(time_cost=1, memory_cost=8192)
USERS = {"ada": "admin", "ed": "editor", "eve": "editor", "vera": "viewer", "val": "viewer"}
RENDER = 180  # seconds: Voila runs the whole notebook before it answers


def notebook(path, code: str, title: str | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    if title:
        nb.metadata["title"] = title
    path.write_text(json.dumps(nb))


def marker_code(name: str) -> str:
    """A cell that leaves a file behind when it runs (as a shell command would)."""
    return f"import pathlib; pathlib.Path({name!r}).write_text('ran'); print('ran {name}')"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("enforce-home")
    root = make_root(tmp_path_factory.mktemp("enforce-root"))
    notebook(root / "drafts" / "scratch.ipynb", marker_code("scratch-ran"))
    notebook(root / "users" / "ed" / "wip.ipynb", marker_code("wip-ran"))
    notebook(root / "reports" / "churn.ipynb", "print('churn report')", title="Churn report")
    (root / "reports" / "assets").mkdir()
    (root / "reports" / "assets" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n chart")
    (root / "reports" / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n secret")
    (root / ".env").write_text("API_KEY=hunter2")
    (root / "users" / "val").mkdir(parents=True)
    (root / "users" / "val" / "private.csv").write_text("salary\n1\n")
    store = UserStore(home, hasher=HASHER)
    for name, role in USERS.items():
        store.add(name, f"{name} password 1", role)
    server = MLAppServer(
        home,
        root,
        args=[
            "--MLApp.files_per_user=True",
            f"--MLAppIdentityProvider.hash_time_cost={HASHER.time_cost}",
            f"--MLAppIdentityProvider.hash_memory_kib={HASHER.memory_cost}",
        ],
    ).start()
    server.tokens = {name: store.create_token(name, "tests")[1] for name in USERS}
    # The churn report, published by an editor for vera: every test can be run on its own.
    published = api(
        server,
        "ed",
        "POST",
        "apps",
        json={"path": "reports/churn.ipynb", "files": ["reports/assets"], "audience": {"users": ["vera"]}},
    )
    assert published.status_code == 201, published.text
    yield server
    server.stop()


def as_user(server, name: str | None) -> requests.Session:
    s = requests.Session()
    if name:
        s.headers["Authorization"] = f"token {server.tokens[name]}"
    return s


def get(server, name, path, **kwargs):
    kwargs.setdefault("timeout", RENDER)
    kwargs.setdefault("allow_redirects", False)
    return as_user(server, name).get(f"{server.url}/{path.lstrip('/')}", **kwargs)


def api(server, name, method, path, **kwargs):
    kwargs.setdefault("timeout", 60)
    return as_user(server, name).request(method, f"{server.url}/mlapp/api/{path.lstrip('/')}", **kwargs)


def test_a_viewer_cannot_run_an_unpublished_notebook(server):
    for path in ("drafts/scratch.ipynb", "users/ed/wip.ipynb"):
        refused = get(server, "vera", f"voila/render/{path}")
        missing = get(server, "vera", "voila/render/drafts/no-such.ipynb")
        assert refused.status_code == missing.status_code == 404
        assert "ran" not in refused.text and path.rsplit("/", 1)[1] not in refused.text
    time.sleep(1)  # a kernel Voila had started would have run the cell by now
    assert not (server.root / "drafts" / "scratch-ran").exists() and not (server.root / "users/ed/wip-ran").exists()
    # Editors keep running their notebooks (Voila runs them in their folder).
    assert get(server, "ed", "voila/render/drafts/scratch.ipynb").status_code == 200
    assert (server.root / "drafts" / "scratch-ran").read_text() == "ran"


def test_a_notebook_an_editor_saves_in_the_root_is_not_runnable_by_viewers(server):
    saved = as_user(server, "ed").put(
        f"{server.url}/api/contents/{quote('Untitled (1).ipynb')}",
        json={"type": "notebook", "content": json.loads(nbformat.writes(nbformat.v4.new_notebook()))},
        timeout=30,
    )
    assert saved.status_code in (200, 201), saved.text
    assert get(server, "vera", f"voila/render/{quote('Untitled (1).ipynb')}").status_code == 404
    assert get(server, "ed", f"voila/render/{quote('Untitled (1).ipynb')}").status_code == 200


def test_viewers_read_no_contents_and_only_declared_files(server):
    refused = {
        "api/contents": 403,
        "api/contents/notebooks": 403,
        "api/contents/.env?content=1": 403,
        "api/contents/reports/churn.ipynb?content=1": 403,
        "files/.env": 403,
        "files/notebooks/hello.ipynb": 403,  # a published app's source
        "files/reports/secret.png": 403,  # beside a declared folder, not in it
        "voila/files/reports/secret.png": 403,
        "files/users/val/private.csv": 403,  # another user's folder
        "mlapp/api/files/content?path=users/val/private.csv": 404,  # the explorer: confined to their own
    }
    for path, code in refused.items():
        response = get(server, "vera", path)
        assert response.status_code in (code, 404), (path, response.status_code)
        assert b"hunter2" not in response.content and b"secret" not in response.content
        assert b"salary" not in response.content and b"nbformat" not in response.content
    assert get(server, "vera", "files/reports/assets/chart.png").content.endswith(b"chart")
    assert get(server, "vera", "voila/files/reports/assets/chart.png").content.endswith(b"chart")
    assert get(server, "vera", "files/notebooks/LICENSE.html").status_code == 200  # the ML App declares it
    assert get(server, "val", "files/reports/assets/chart.png").status_code == 403  # not in the audience
    # Editors and admins keep the access they have.
    for name in ("ed", "ada"):
        assert get(server, name, "files/reports/secret.png").content.endswith(b"secret")
        assert get(server, name, "api/contents/reports").status_code == 200


def test_voila_lists_only_the_apps_a_viewer_may_open(server):
    listing = get(server, "vera", "voila/api/contents").json()
    assert {e["name"] for e in listing["content"]} == {"notebooks", "reports"}
    reports = get(server, "vera", "voila/api/contents/reports").json()
    assert [e["path"] for e in reports["content"]] == ["reports/churn.ipynb"]
    assert get(server, "vera", "voila/api/contents/drafts").status_code == 404
    assert get(server, "val", "voila/api/contents/reports").status_code == 404  # not in its audience
    tree = get(server, "vera", "voila/tree")
    assert tree.status_code == 200 and "drafts" not in tree.text and "scratch" not in tree.text
    # Editors see the whole workspace.
    assert "drafts" in {e["name"] for e in get(server, "ed", "voila/api/contents").json()["content"]}


def test_audience_gallery_and_short_link(server):
    api(server, "ed", "POST", "apps", json={"path": "reports/churn.ipynb", "audience": {"users": ["vera"]}})
    vera = {a["slug"] for a in api(server, "vera", "GET", "apps").json()["apps"]}
    val = {a["slug"] for a in api(server, "val", "GET", "apps").json()["apps"]}
    assert "churn-report" in vera and "churn-report" not in val and "ml-app" in val
    assert "audience" not in api(server, "vera", "GET", "apps/churn-report").json()  # the editors' business
    assert api(server, "val", "GET", "apps/churn-report").status_code == 404
    link = get(server, "vera", "mlapp/apps/churn-report?page=Data")
    assert link.status_code == 302 and link.headers["Location"] == "/voila/render/reports/churn.ipynb?page=Data"
    assert get(server, "val", "mlapp/apps/churn-report").status_code == 404
    assert get(server, "val", "voila/render/reports/churn.ipynb").status_code == 404
    assert get(server, "eve", "voila/render/reports/churn.ipynb").status_code == 404  # an editor left out
    page = get(server, "vera", "voila/render/reports/churn.ipynb")
    assert page.status_code == 200 and "churn report" in page.text
    gallery = get(server, "vera", "mlapp/apps?q=churn")
    assert gallery.status_code == 200 and "Churn report" in gallery.text and "ML App" not in gallery.text
    assert "Churn report" not in get(server, "val", "mlapp/apps").text


def test_where_each_role_lands(server):
    assert get(server, "vera", "/").headers["Location"].startswith("/mlapp")
    assert get(server, "vera", "mlapp").headers["Location"] == "/mlapp/apps"
    assert get(server, "ed", "mlapp").headers["Location"] == "/lab"
    assert get(server, "ada", "mlapp").headers["Location"] == "/lab"
    for path in ("mlapp", "mlapp/apps", "mlapp/apps/ml-app"):
        anonymous = get(server, None, path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert api(server, None, "GET", "apps").status_code in (401, 403)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"path": "drafts/missing.ipynb"}, 404),
        ({"path": ".env"}, 400),
        ({"path": "notebooks/LICENSE.html"}, 400),
        ({"path": "../outside.ipynb"}, 403),
        ({"path": "drafts/scratch.ipynb", "audience": {"users": ["nobody"]}}, 400),
        ({"path": "drafts/scratch.ipynb", "audience": {"roles": ["root"]}}, 400),
        ({"path": "drafts/scratch.ipynb", "slug": "ml-app"}, 409),
        ({"path": "drafts/scratch.ipynb", "title": "t" * 10_000}, 400),
        ({"path": "drafts/scratch.ipynb", "owner": "me"}, 400),
        ({"path": ["drafts/scratch.ipynb"]}, 400),
    ],
)
def test_bad_input_is_a_clear_4xx_and_publishes_nothing(server, body, code):
    before = api(server, "ed", "GET", "apps").json()["apps"]
    response = api(server, "ed", "POST", "apps", json=body)
    assert response.status_code == code, response.text
    assert response.json()["error"]
    assert api(server, "ed", "GET", "apps").json()["apps"] == before


def test_who_may_publish_and_unpublish(server):
    body = {"path": "drafts/scratch.ipynb", "slug": "scratch"}
    assert api(server, "vera", "POST", "apps", json=body).status_code == 403
    assert api(server, None, "POST", "apps", json=body).status_code in (401, 403)
    created = api(server, "ed", "POST", "apps", json=body)
    assert created.status_code == 201 and created.json()["link"] == "/mlapp/apps/scratch"
    assert api(server, "ed", "POST", "apps", json=body).status_code == 200  # again: changed, not doubled
    changed = api(server, "ada", "PATCH", "apps/scratch", json={"title": "Scratch pad"})
    assert changed.status_code == 200 and changed.json()["title"] == "Scratch pad"
    assert api(server, "vera", "PATCH", "apps/scratch", json={"title": "mine"}).status_code == 403
    assert api(server, "vera", "DELETE", "apps/scratch").status_code == 403
    assert api(server, "ed", "DELETE", "apps/scratch").status_code == 204
    assert api(server, "ed", "DELETE", "apps/scratch").status_code == 404
    assert get(server, "vera", "voila/render/drafts/scratch.ipynb").status_code == 404


def test_a_rename_in_jupyterlab_follows_the_app_and_a_deleted_one_is_unavailable(server):
    notebook(server.root / "moving" / "app.ipynb", "print('moving app')", title="Moving app")
    assert api(server, "ed", "POST", "apps", json={"path": "moving/app.ipynb", "slug": "moving"}).status_code == 201
    renamed = as_user(server, "ed").patch(
        f"{server.url}/api/contents/moving/app.ipynb", json={"path": "moving/renamed.ipynb"}, timeout=30
    )
    assert renamed.status_code == 200, renamed.text
    deadline = time.monotonic() + 10
    while api(server, "ed", "GET", "apps/moving").json()["path"] != "moving/renamed.ipynb":
        assert time.monotonic() < deadline, "the app did not follow its notebook"
        time.sleep(0.2)
    assert get(server, "vera", "mlapp/apps/moving").headers["Location"] == "/voila/render/moving/renamed.ipynb"
    assert get(server, "vera", "voila/render/moving/app.ipynb").status_code == 404
    # Deleted from disk: editors see it unavailable, viewers not at all.
    assert as_user(server, "ed").delete(f"{server.url}/api/contents/moving/renamed.ipynb", timeout=30).ok
    assert api(server, "ed", "GET", "apps/moving").json()["available"] is False
    assert "moving" not in {a["slug"] for a in api(server, "vera", "GET", "apps").json()["apps"]}
    assert api(server, "vera", "GET", "apps/moving").status_code == 404
    assert "Unavailable" in get(server, "ed", "mlapp/apps").text


def test_voila_keeps_its_theme_once_jupyterlab_served_its_own(server):
    """The gallery and the apps link Voila's copy of JupyterLab's themes; jupyter_server's file
    cache once gave Voila Lab's file for the same path, a 403 (see integrations.voila.own_theme_cache)."""
    theme = "api/themes/@jupyterlab/theme-light-extension/index.css"
    assert get(server, "ed", f"lab/{theme}").status_code == 200
    served = get(server, "vera", f"voila/{theme}")
    assert served.status_code == 200 and "--jp-layout-color2" in served.text


def test_an_app_page_s_widget_extensions_are_kept_by_the_browser(server):
    """Files named by their content answer `immutable`, so an app page opened again loads its
    widget extensions from the browser's cache without asking; any other file is asked for again."""
    import sys
    from pathlib import Path

    manager = Path(sys.prefix) / "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager"
    entry = next((manager / "static").glob("remoteEntry.*.js")).name
    chunk = next(p.name for p in (manager / "static").glob("*.js") if not p.name.startswith(("remote", "style")))
    base = "voila/labextensions/@jupyter-widgets/jupyterlab-manager"
    for path in (f"{base}/static/{entry}", f"{base}/static/{chunk}?v={chunk.split('.')[1]}"):
        served = get(server, "vera", path)
        assert served.status_code == 200, path
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable", path
    plain = get(server, "vera", f"{base}/package.json")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
