"""The published-apps registry and its rules, on a real workspace folder and a real SQLite file."""

from __future__ import annotations

import json
import sqlite3

import nbformat
import pytest

from jupyter_mlapp.apps.published import SCHEMA, SHIPPED_APPS, PublishedApps, Who
from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.errors import Conflict, Forbidden, InvalidInput, NotFound
from jupyter_mlapp.home import SchemaTooNew

ADA, ED = Who("ada", "admin"), Who("ed", "editor")
VERA, VAL = Who("vera", "viewer"), Who("val", "viewer")


def notebook(path, title=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    if title:
        nb.metadata["title"] = title
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    notebook(root / "apps" / "churn.ipynb", title="Churn model")
    notebook(root / "drafts" / "scratch.ipynb")
    notebook(root / ".hidden" / "secret.ipynb")
    (root / "apps" / "assets").mkdir()
    (root / "apps" / "assets" / "logo.png").write_bytes(b"\x89PNG")
    (root / "apps" / "LICENSE.html").write_text("<p>MIT</p>")
    (root / "notes.txt").write_text("not a notebook")
    (root / ".env").write_text("SECRET=1")
    return root


@pytest.fixture
def users(mlapp_home):
    store = UserStore(mlapp_home)
    for name, role in (("ed", "editor"), ("vera", "viewer"), ("val", "viewer")):
        store.add(name, None, role, no_password=True)
    return store


@pytest.fixture
def apps(root, mlapp_home, users):
    return PublishedApps(root, mlapp_home, users=users)


def test_publish_with_an_audience_of_one_viewer(apps):
    app, created = apps.publish(
        "apps/churn.ipynb", by=ED, description="Who leaves, and why", audience={"users": ["vera"]}
    )
    assert created and (app.slug, app.title, app.published_by) == ("churn-model", "Churn model", "ed")
    assert [a.slug for a in apps.visible_to(VERA)] == ["churn-model"]
    assert apps.visible_to(VAL) == []
    assert apps.may_render(VERA, "apps/churn.ipynb") and not apps.may_render(VAL, "apps/churn.ipynb")
    # Editors outside the audience are refused too; its publisher and admins never are.
    assert not apps.may_render(Who("eve", "editor"), "apps/churn.ipynb")
    assert apps.may_render(ED, "apps/churn.ipynb") and apps.may_render(ADA, "apps/churn.ipynb")


def test_viewers_run_only_published_notebooks_editors_any(apps):
    assert not apps.may_render(VERA, "drafts/scratch.ipynb")
    assert apps.may_render(ED, "drafts/scratch.ipynb")
    apps.publish("drafts/scratch.ipynb", by=ED)  # every signed-in user
    assert apps.may_render(VERA, "drafts/scratch.ipynb") and apps.may_render(VERA, "drafts//./scratch.ipynb")
    assert not apps.may_render(VERA, "drafts/../drafts/scratch.ipynb")  # never matches through ..


def test_audience_by_role_and_hub_group(apps):
    apps.publish("apps/churn.ipynb", by=ED, audience={"roles": ["editor"], "groups": ["analysts"]})
    assert not apps.may_render(VERA, "apps/churn.ipynb")
    assert apps.may_render(Who("gus", "viewer", ("analysts",)), "apps/churn.ipynb")
    assert apps.may_render(Who("eve", "editor"), "apps/churn.ipynb")


def test_viewers_read_only_the_files_their_apps_declare(apps):
    apps.publish("apps/churn.ipynb", by=ED, files=["apps/assets", "apps/LICENSE.html"], audience={"users": ["vera"]})
    assert apps.may_read(VERA, "apps/assets/logo.png") and apps.may_read(VERA, "apps/LICENSE.html")
    assert not apps.may_read(VAL, "apps/LICENSE.html")  # not in the audience
    for path in ("apps/churn.ipynb", ".env", "notes.txt", "apps/assetsX/logo.png", "apps/../.env", "/etc/passwd"):
        assert not apps.may_read(VERA, path), path
    assert apps.may_read(ED, "notes.txt")  # editors keep their access


def test_per_user_roots_never_open_another_users_folder(root, mlapp_home, users):
    (root / "users" / "ed").mkdir(parents=True)
    (root / "users" / "ed" / "chart.png").write_bytes(b"\x89PNG")
    (root / "users" / "vera").mkdir(parents=True)
    (root / "users" / "vera" / "mine.csv").write_text("a\n1\n")
    apps = PublishedApps(root, mlapp_home, users=users, per_user=True)
    apps.publish("apps/churn.ipynb", by=ED, files=["users/ed/chart.png"])
    assert not apps.may_read(VERA, "users/ed/chart.png")  # declared, but another user's folder
    assert apps.may_read(VERA, "users/vera/mine.csv") and not apps.may_read(VAL, "users/vera/mine.csv")


@pytest.mark.parametrize(
    ("path", "fields", "error"),
    [
        ("apps/missing.ipynb", {}, NotFound),
        ("notes.txt", {}, InvalidInput),
        ("../outside.ipynb", {}, Forbidden),
        ("/etc/passwd", {}, Forbidden),
        (".hidden/secret.ipynb", {}, InvalidInput),
        ("apps", {}, InvalidInput),
        ("apps/churn.ipynb", {"audience": {"users": ["nobody"]}}, InvalidInput),
        ("apps/churn.ipynb", {"audience": {"roles": ["superuser"]}}, InvalidInput),
        ("apps/churn.ipynb", {"audience": {"teams": ["x"]}}, InvalidInput),
        ("apps/churn.ipynb", {"audience": ["vera"]}, InvalidInput),
        ("apps/churn.ipynb", {"title": "x" * 10_000}, InvalidInput),
        ("apps/churn.ipynb", {"title": "bad\x00title"}, InvalidInput),
        ("apps/churn.ipynb", {"description": "d" * 501}, InvalidInput),
        ("apps/churn.ipynb", {"slug": "Not A Slug"}, InvalidInput),
        ("apps/churn.ipynb", {"files": [".env"]}, InvalidInput),
        ("apps/churn.ipynb", {"files": ["drafts/scratch.ipynb"]}, InvalidInput),
        ("apps/churn.ipynb", {"files": "apps/LICENSE.html"}, InvalidInput),
        ("apps/churn.ipynb", {"thumbnail": "notes.txt"}, InvalidInput),
        (None, {}, InvalidInput),
        (42, {}, InvalidInput),
    ],
)
def test_bad_input_publishes_nothing(apps, path, fields, error):
    with pytest.raises(error):
        apps.publish(path, by=ED, **fields)
    assert apps.list() == []


def test_a_duplicate_slug_is_a_conflict_and_viewers_never_publish(apps):
    apps.publish("apps/churn.ipynb", by=ED, slug="churn")
    with pytest.raises(Conflict, match="taken"):
        apps.publish("drafts/scratch.ipynb", by=ED, slug="churn")
    with pytest.raises(Forbidden):
        apps.publish("drafts/scratch.ipynb", by=VERA)
    with pytest.raises(Forbidden):
        apps.unpublish("churn", by=VERA)
    assert [a.path for a in apps.list()] == ["apps/churn.ipynb"]
    # A derived slug never collides: it gets a number.
    assert apps.publish("drafts/scratch.ipynb", by=ED, title="Churn")[0].slug == "churn-2"


def test_publishing_again_changes_the_app_and_keeps_its_slug(apps):
    apps.publish("apps/churn.ipynb", by=ED, audience={"users": ["vera"]})
    app, created = apps.publish("apps/churn.ipynb", by=ADA, title="Churn v2")
    assert not created and (app.slug, app.title, app.audience, app.published_by) == (
        "churn-model",
        "Churn v2",
        {"users": ["vera"]},
        "ed",
    )


def test_a_deleted_notebook_is_unavailable_to_editors_and_hidden_from_viewers(apps, root):
    apps.publish("apps/churn.ipynb", by=ED)
    (root / "apps" / "churn.ipynb").unlink()
    assert [apps.describe(a, ED)["available"] for a in apps.visible_to(ED)] == [False]
    assert apps.visible_to(VERA) == [] and not apps.may_render(VERA, "apps/churn.ipynb")


def test_renames_follow_the_notebook_and_its_files(apps, root):
    apps.publish("apps/churn.ipynb", by=ED, files=["apps/assets"], audience={"users": ["vera"]})
    (root / "apps").rename(root / "shipped")
    (moved,) = apps.moved("apps", "shipped")
    assert (moved.slug, moved.path, moved.files) == ("churn-model", "shipped/churn.ipynb", ["shipped/assets"])
    assert apps.may_render(VERA, "shipped/churn.ipynb") and not apps.may_render(VERA, "apps/churn.ipynb")
    # Renamed to something that is no longer a notebook: unpublished, never something else.
    (root / "shipped" / "churn.ipynb").rename(root / "shipped" / "churn.txt")
    assert apps.moved("shipped/churn.ipynb", "shipped/churn.txt") == [] and apps.list() == []


def test_the_registry_survives_a_restart_and_another_process(apps, root, mlapp_home, users):
    apps.publish("apps/churn.ipynb", by=ED)
    other = PublishedApps(root, mlapp_home, users=users)  # the CLI, or the server after a restart
    assert [a.slug for a in other.list()] == ["churn-model"]
    other.unpublish("apps/churn.ipynb", by=ADA)
    assert apps.list() == []  # the first one sees the change at once


def test_a_registry_of_a_newer_release_is_refused_untouched(apps, root, mlapp_home, users):
    apps.publish("apps/churn.ipynb", by=ED)
    conn = sqlite3.connect(apps.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA.version + 1}")
    conn.close()
    with pytest.raises(SchemaTooNew, match=r"newer than this jupyter-mlapp knows .*: upgrade jupyter-mlapp"):
        PublishedApps(root, mlapp_home, users=users)
    conn = sqlite3.connect(apps.path)
    assert conn.execute("SELECT slug FROM apps").fetchall() == [("churn-model",)]
    conn.close()


def test_the_shipped_apps_are_published_once(tmp_path, mlapp_home):
    from harness import make_root

    root = make_root(tmp_path / "shipped-root")
    apps = PublishedApps(root, mlapp_home)
    seeded = apps.seed(SHIPPED_APPS)
    assert {a.path for a in seeded} == {a["path"] for a in SHIPPED_APPS}
    ml_app = apps.get("notebooks/ml_app.ipynb")
    assert ml_app.title == "ML App" and ml_app.files == ["notebooks/LICENSE.html"]
    apps.unpublish("notebooks/hello.ipynb", by=ADA)
    assert apps.seed(SHIPPED_APPS) == []  # unpublished for good
    assert "notebooks/hello.ipynb" not in {a.path for a in apps.list()}
