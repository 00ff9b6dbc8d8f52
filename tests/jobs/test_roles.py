"""Roles enforced in JobManager, whatever calls it: a viewer starts only templates an app's author
declared, with checked parameters; jobs never get the server's secrets, and logs never show them."""

from __future__ import annotations

import json
import sys

import pytest

from jupyter_mlapp.errors import Forbidden, InvalidInput, NotFound
from jupyter_mlapp.jobs import Choice, Float, Int, JobManager, JobTemplate, Text


@pytest.fixture
def editor(mlapp_home, tmp_path):
    return JobManager(home=mlapp_home, user="eddie", role="editor", grace=1.0, workspace=tmp_path)


@pytest.fixture
def viewer(editor):
    return editor.as_user("vera", role="viewer")


def echo_template(tmp_path) -> JobTemplate:
    return JobTemplate(
        "echo",
        ["python", "-c", "import sys; print(sys.argv[1:])"],
        params={
            "epochs": Int(1, 50, default=3),
            "lr": Float(1e-4, 1.0),
            "loss": Choice(["hinge", "log_loss"], default="hinge"),
            "save_as": Text(),
        },
        cwd=str(tmp_path),
        job_name="echo {loss}",
    )


def test_a_viewer_cannot_start_a_command_and_nothing_runs(viewer, tmp_path):
    marker = tmp_path / "ran"
    for command in (f"touch {marker}", ["touch", str(marker)], "cat /etc/passwd"):
        with pytest.raises(Forbidden, match="starting a command is for editors: you are signed in as a viewer"):
            viewer.start(command)
    assert viewer.store.list() == [] and not marker.exists()
    unknown_role = viewer.as_user("mallory", role="superuser")  # an unknown role is no editor either
    with pytest.raises(Forbidden):
        unknown_role.start(["true"])


def test_a_viewer_starts_a_template_with_checked_parameters(editor, viewer, tmp_path):
    editor.add_template(echo_template(tmp_path))
    job = viewer.start_template("echo", {"epochs": "7", "lr": 0.5, "save_as": "iris-v2"})
    assert job.user == "vera" and job.template == "echo" and job.name == "echo hinge"
    assert job.command[3:] == ["--epochs", "7", "--lr", "0.5", "--loss", "hinge", "--save-as", "iris-v2"]
    done = viewer.wait(job.id, timeout=30)
    assert done.state == "succeeded", viewer.read_log(job.id).text
    assert "'--epochs', '7'" in viewer.read_log(job.id).text

    for params, message in (
        ({"epochs": 51}, "epochs must be between 1 and 50, not 51"),
        ({"epochs": "1; rm -rf ~"}, "epochs must be a whole number"),
        ({"lr": "nan"}, "lr must be a number"),
        ({"loss": "eval"}, "loss must be one of hinge, log_loss"),
        ({"save_as": "--config=/etc/passwd"}, "is not allowed here"),
        ({"save_as": "../../models"}, "is not allowed here"),
        ({"command": "sh"}, "template echo has no parameter 'command'"),
    ):
        with pytest.raises(InvalidInput, match=message):
            viewer.start_template("echo", params)
    with pytest.raises(InvalidInput, match="cannot be chosen"):
        viewer.start_template("echo", {}, environment="/tmp/evil-env")
    with pytest.raises(NotFound, match="no job template shell"):
        viewer.start_template("shell", {})
    assert len(viewer.list()) == 1  # none of the refused ones was recorded


def test_a_template_that_lets_the_caller_choose_takes_environment_names_only(editor, viewer, tmp_path):
    template = echo_template(tmp_path)
    template.environments = True
    editor.add_template(template)
    with pytest.raises(InvalidInput, match="unknown environment '/usr'"):
        viewer.start_template("echo", {}, environment="/usr")
    server_env = next(env.name for env in viewer.environments.environments() if env.kind == "server")
    assert viewer.start_template("echo", {}, environment=server_env).environment == server_env


def test_a_viewer_kills_and_removes_only_the_template_jobs_they_started(editor, viewer, tmp_path):
    editor.add_template(JobTemplate("nap", ["sleep", "60"]))
    theirs = viewer.start_template("nap")
    for_them = editor.as_user("vera", role="editor").start(["sleep", "60"], name="an editor's job")
    with pytest.raises(Forbidden, match="killing job an editor's job is for editors"):
        viewer.kill(for_them.id)
    assert [r.job.id for r in viewer.kill_all()] == [theirs.id]  # the other one is left alone
    assert viewer.wait(theirs.id, timeout=30).state == "killed"
    assert viewer.get(for_them.id).state == "running"
    viewer.remove(theirs.id)
    editor.as_user("vera", role="editor").kill(for_them.id)
    editor.as_user("vera", role="editor").wait(for_them.id, timeout=30)
    with pytest.raises(Forbidden, match="removing job"):
        viewer.remove(for_them.id)
    assert viewer.clear_finished() == 0 and viewer.get(for_them.id)


def test_the_role_goes_with_the_job(editor, viewer, tmp_path):
    show = ["python", "-c", "import jupyter_mlapp as m; print(m.current_user(), m.current_role())"]
    editor.add_template(JobTemplate("whoami", show))
    job = viewer.start_template("whoami")
    assert viewer.wait(job.id, timeout=30).state == "succeeded"
    assert viewer.read_log(job.id).text.strip() == "vera viewer"
    job = editor.start(show)
    editor.wait(job.id, timeout=30)
    assert editor.read_log(job.id).text.strip() == "eddie editor"


def test_python_in_a_job_is_the_interpreter_of_the_server(editor):
    """`python` without an environment ran the system's python (no pandas): it is ours."""
    job = editor.start(["python", "-c", "import sys, pandas; print(sys.executable)"])
    assert editor.wait(job.id, timeout=60).state == "succeeded", editor.read_log(job.id).text
    assert editor.read_log(job.id).text.strip() == sys.executable
    assert job.argv[0] == sys.executable


def test_jobs_never_see_the_servers_secrets(editor, monkeypatch, tmp_path):
    runtime = tmp_path / "server-runtime"
    runtime.mkdir()
    token = "f00d" * 12
    (runtime / "jpserver-4242.json").write_text(json.dumps({"token": token, "port": 8888}))
    (runtime / "jupyter_cookie_secret").write_text("c29va2llLXNlY3JldC1jb29raWUtc2VjcmV0\n")
    for name, value in (
        ("JUPYTER_RUNTIME_DIR", str(runtime)),
        ("JUPYTER_TOKEN", token),
        ("JUPYTERHUB_API_TOKEN", "hub-" + token),
        ("JPY_SESSION_NAME", "/notebooks/x.ipynb"),
    ):
        monkeypatch.setenv(name, value)
    show = (
        "import os, json; print(json.dumps({k: v for k, v in os.environ.items() "
        "if k.startswith(('JUPYTER', 'JPY', 'XDG_RUNTIME'))})); "
        "print(os.listdir(os.environ['JUPYTER_RUNTIME_DIR']))"
    )
    job = editor.start(["python", "-c", show])
    assert editor.wait(job.id, timeout=30).state == "succeeded", editor.read_log(job.id).text
    seen_env, listing = editor.read_log(job.id).text.splitlines()
    seen = json.loads(seen_env)
    assert set(seen) == {"JUPYTER_RUNTIME_DIR"} and seen["JUPYTER_RUNTIME_DIR"] != str(runtime)
    assert listing == "[]"

    # A job that reads the server's files anyway (same OS user): its log shows them starred out
    # to everyone but an admin, also when a read cuts the secret in two.
    leak = ["python", "-c", f"print(open({str(runtime / 'jpserver-4242.json')!r}).read())"]
    job = editor.start(leak)
    editor.wait(job.id, timeout=30)
    assert token not in editor.read_log(job.id).text and "*" * len(token) in editor.read_log(job.id).text
    cut = editor.read_log(job.id).text.index("*")
    first = editor.read_log(job.id, limit=cut + 10)
    rest = editor.read_log(job.id, offset=first.next_offset)
    assert first.text + rest.text == editor.read_log(job.id).text and "f00d" not in first.text + rest.text
    admin = editor.as_user("root", admin=True)
    assert token in admin.read_log(job.id).text
