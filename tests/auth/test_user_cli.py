"""`jupyter mlapp user ...` through the real entry point, in this process (the end-to-end
commands against a running server are in test_server.py)."""

from __future__ import annotations

import io
import sys

import pytest
from jupyter_core.application import JupyterApp

from jupyter_mlapp.auth import cli
from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.extension import MLApp


@pytest.fixture
def run(monkeypatch, capsys):
    """Run `jupyter mlapp user <args>`; returns (exit code, stdout, stderr)."""

    def clear():  # traitlets keeps one application instance per class hierarchy (servers' too)
        for app in (*cli.COMMANDS, cli.UserApp, JupyterApp):
            app.clear_instance()

    def run(*args, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        clear()
        try:
            MLApp.launch_instance(["user", *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
        finally:
            clear()
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_add_list_passwd_role_disable_enable_remove(run, mlapp_home):
    assert run("add", "ann", "--role=admin", stdin="ann admin pw 1\n")[:2] == (0, "Added ann (admin).\n")
    assert run("add", "Bob", "--display-name=Bob B", stdin="bob editor pw 1\n")[1] == "Added bob (editor).\n"
    store = UserStore(mlapp_home)
    assert store.authenticate("bob", "bob editor pw 1")
    assert run("passwd", "bob", "--password-stdin", stdin="bob new pw 22\n")[0] == 0
    assert store.authenticate("bob", "bob new pw 22") and not store.authenticate("bob", "bob editor pw 1")
    assert run("set-role", "bob", "viewer")[1] == "bob is now viewer.\n"
    assert run("disable", "bob")[0] == 0 and store.get("bob").disabled
    assert run("enable", "bob")[0] == 0 and not store.get("bob").disabled
    code, out, _ = run("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["USERNAME", "ROLE", "STATUS", "LAST", "LOGIN", "DISPLAY", "NAME"]
    assert lines[1].split()[:3] == ["ann", "admin", "active"] and lines[2].endswith("Bob B")
    assert run("remove", "bob")[1] == "Removed bob.\n" and store.get("bob") is None


def test_a_jupyterhub_user_gets_a_role_and_no_password(run, mlapp_home):
    assert run("add", "dora", "--role=viewer", "--no-password", stdin="")[:2] == (
        0,
        "Added dora (viewer, no password).\n",
    )
    store = UserStore(mlapp_home)
    assert store.get("dora").role == "viewer"
    for attempt in ("!", "dora", "a long password guess"):  # nothing signs in as dora here
        assert store.authenticate("dora", attempt) is None
    assert run("passwd", "dora", stdin="dora now has one\n")[0] == 0  # until one is set
    assert store.authenticate("dora", "dora now has one").username == "dora"


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (
            ["add", "Bad Name"],
            "a fine password\n",
            "username must be 1-64 characters: lower-case letters a-z, "
            "digits, '.', '_' or '-', starting with a letter or digit",
        ),
        (["add", "shorty"], "short\n", "password must have at least 8 characters"),
        (["add", "x", "--role=root"], "a fine password\n", "role must be one of admin, editor, viewer"),
        (["add", "ann"], "a fine password\n", "a user named 'ann' already exists"),
        (["remove", "nobody"], "", "no user named 'nobody'"),
        (["set-role", "ann", "viewer"], "", "cannot demote 'ann': it is the last enabled admin"),
        (["disable"], "", "usage: jupyter mlapp user disable NAME"),
        (["set-role", "ann"], "", "usage: jupyter mlapp user set-role NAME ROLE"),
    ],
)
def test_errors_are_one_line(run, store, args, stdin, message):
    store.add("ann", "ann admin pw 1", "admin")
    before = [a.to_dict() for a in store.list()]
    code, out, err = run(*args, stdin=stdin)
    assert code in (1, 2) and out == ""
    assert err == f"jupyter mlapp user: {message}\n"
    assert [a.to_dict() for a in store.list()] == before


def test_without_a_command_it_lists_the_commands(run):
    code, out, _ = run()
    assert code == 2
    for name in ("add", "remove", "passwd", "list", "set-role", "disable", "enable"):
        assert f"\n{name}\n" in out


def run_in_terminal(args: list[str], answers: list[tuple[str, str]], home) -> tuple[int, str]:
    """Run `jupyter mlapp <args>` on a real pseudo-terminal (its controlling terminal, as in a
    shell), typing each answer once its prompt has shown; returns (exit code, all it showed)."""
    import os
    import pty
    import select

    env = {**os.environ, "MLAPP_HOME": str(home)}
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.execve(sys.executable, [sys.executable, "-m", "jupyter_mlapp", *args], env)
    shown, answered, pending = b"", 0, list(answers)
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            os.kill(pid, 9)
            raise AssertionError(f"no output for 60 s; so far: {shown!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal: it has ended
            break
        if not chunk:
            break
        shown += chunk
        if pending and pending[0][0].encode() in shown[answered:]:
            answered = len(shown)
            os.write(fd, pending.pop(0)[1].encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_a_person_types_the_password_twice_and_it_is_not_shown(mlapp_home):
    secret = "Typed pw 4 tom"
    code, shown = run_in_terminal(
        ["user", "add", "tom", "--role=viewer"],
        [("Password for tom:", secret), ("Same password again:", secret)],
        mlapp_home,
    )
    assert code == 0, shown
    assert "Password for tom:" in shown and "Same password again:" in shown and "Added tom (viewer)." in shown
    assert secret not in shown  # no echo
    assert UserStore(mlapp_home).authenticate("tom", secret).role == "viewer"


def test_two_different_passwords_typed_add_no_one(mlapp_home):
    code, shown = run_in_terminal(
        ["user", "add", "tom"],
        [("Password for tom:", "Typed pw 4 tom"), ("Same password again:", "Typed pw 4 tim")],
        mlapp_home,
    )
    assert code == 1 and "jupyter mlapp user: the passwords do not match" in shown
    assert UserStore(mlapp_home).get("tom") is None
