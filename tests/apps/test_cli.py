"""`jupyter mlapp app publish|unpublish|list` on a real home folder: through a real process, and the
bad input through the same entry point in this process (each process takes seconds to start)."""

from __future__ import annotations

import json
import os
import subprocess

import nbformat
import pytest
from harness import JUPYTER_MLAPP
from jupyter_core.application import JupyterApp

from jupyter_mlapp.apps import cli
from jupyter_mlapp.apps.published import PublishedApps
from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.extension import MLApp


@pytest.fixture
def workspace(tmp_path, mlapp_home):
    root = tmp_path / "root"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "churn.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    (root / "apps" / "LICENSE.html").write_text("<p>MIT</p>")
    (root / "notes.txt").write_text("text")
    UserStore(mlapp_home).add("vera", None, "viewer", no_password=True)
    return root


def app_cli(root, *args):
    return subprocess.run(
        [*JUPYTER_MLAPP, "app", *args, f"--root={root}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,  # MLAPP_HOME: the test's home folder
    )


@pytest.fixture
def run(workspace, capsys):
    """`jupyter mlapp app <args> --root=<workspace>` in this process: (exit code, stdout, stderr)."""

    def clear():  # traitlets keeps one application instance per class hierarchy
        for app in (*cli.COMMANDS, cli.AppCommand, JupyterApp):
            app.clear_instance()

    def run(*args):
        clear()
        try:
            MLApp.launch_instance(["app", *args, f"--root={workspace}"])
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        finally:
            clear()
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_publish_list_unpublish(workspace, mlapp_home):
    assert "No published apps yet" in app_cli(workspace, "list").stdout
    published = app_cli(
        workspace,
        "publish",
        "apps/churn.ipynb",
        "--title=Churn model",
        "--description=Who leaves",
        "--users=vera",
        "--files=apps/LICENSE.html",
    )
    assert published.returncode == 0, published.stderr
    assert published.stdout.strip() == "Published apps/churn.ipynb as /mlapp/apps/churn-model for users vera."
    (app,) = PublishedApps(workspace, mlapp_home).list()  # what the server reads
    assert (app.title, app.audience, app.files) == ("Churn model", {"users": ["vera"]}, ["apps/LICENSE.html"])
    listing = app_cli(workspace, "list").stdout.splitlines()
    assert listing[0].split() == ["SLUG", "PATH", "AUDIENCE", "UPDATED", "TITLE"]
    assert listing[1].startswith("churn-model") and "apps/churn.ipynb" in listing[1] and "Churn model" in listing[1]
    unpublished = app_cli(workspace, "unpublish", "churn-model")
    assert unpublished.returncode == 0 and "Unpublished churn-model" in unpublished.stdout
    assert PublishedApps(workspace, mlapp_home).list() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("publish", "apps/missing.ipynb"), "no such file or folder: apps/missing.ipynb"),
        (("publish", "notes.txt"), "is not a notebook"),
        (("publish", "../outside.ipynb"), "'..' is not allowed"),
        (("publish", "apps/churn.ipynb", "--users=nobody"), "unknown user 'nobody'"),
        (("publish", "apps/churn.ipynb", "--roles=root"), "unknown role 'root'"),
        (("publish", "apps/churn.ipynb", "--title=" + "t" * 10_000), "title is longer than 120 characters"),
        (("unpublish", "nothing"), "no published app 'nothing'"),
        (("publish",), "usage: jupyter mlapp app publish PATH"),
    ],
)
def test_bad_input_is_one_line_and_publishes_nothing(run, workspace, mlapp_home, args, message):
    code, _, err = run(*args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jupyter mlapp app: ") and message in lines[0], err
    assert PublishedApps(workspace, mlapp_home).list() == []


def test_a_duplicate_slug_is_refused(run, workspace, mlapp_home):
    (workspace / "apps" / "other.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    assert run("publish", "apps/churn.ipynb", "--slug=churn")[0] == 0
    code, _, err = run("publish", "apps/other.ipynb", "--slug=churn")
    assert code == 1 and "the slug 'churn' is taken by the app at apps/churn.ipynb" in err
    assert [a.path for a in PublishedApps(workspace, mlapp_home).list()] == ["apps/churn.ipynb"]
