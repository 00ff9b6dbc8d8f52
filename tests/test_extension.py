"""The composition root: which rooms a server serves, in what order they are built, what it
tells kernels, and the one-line errors of a room list it cannot serve."""

from __future__ import annotations

import json
import logging
import os
import subprocess

import pytest
from harness import JUPYTER_MLAPP, MLAppServer

from jupyter_mlapp import rooms

WITHOUT_JOBS = ["auth", "sessions", "data", "files", "models", "apps", "appkernels"]


@pytest.fixture
def jp_server_config(mlapp_home):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlapp": True}},
        "MLApp": {"home": str(mlapp_home), "rooms": WITHOUT_JOBS},
    }


async def test_a_server_without_the_jobs_room_serves_the_others(jp_fetch, jp_serverapp):
    status = json.loads((await jp_fetch("mlapp", "api", "status")).body)
    assert status["rooms"] == sorted(WITHOUT_JOBS)
    paths = json.loads((await jp_fetch("mlapp", "api", "openapi.json")).body)["paths"]
    assert "/files/list" in paths and "/sessions/apps" in paths
    assert not [path for path in paths if path.startswith(("/jobs", "/envs"))]
    # Kernels still learn the workspace and the base URL, which more rooms than files link to.
    assert os.environ["MLAPP_WORKSPACE"] == jp_serverapp.root_dir
    assert os.environ["MLAPP_BASE_URL"] == jp_serverapp.base_url


def test_rooms_are_built_after_the_rooms_they_require():
    names = [room.name for room in rooms.resolve(["training", "apps", "jobs", "auth", "appkernels"])]
    assert names == ["auth", "jobs", "training", "appkernels", "apps"]
    every = [room.name for room in rooms.resolve(rooms.KNOWN)]
    for room in rooms.resolve(rooms.KNOWN):
        assert all(every.index(need) < every.index(room.name) for need in room.requires)


def test_every_known_room_declares_itself():
    for name in rooms.KNOWN:
        room = rooms.load(name)
        assert room.name == name
        assert set(room.requires) <= set(rooms.KNOWN)


def start_refused(tmp_path, *args, env=None):
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return subprocess.run(
        [*JUPYTER_MLAPP, f"--ServerApp.root_dir={root}", "--port=0", *args]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [text for text in result.stderr.splitlines() if text.startswith("jupyter mlapp:")]
    return line


def test_an_unknown_room_is_a_one_line_error(tmp_path):
    line = one_line_error(start_refused(tmp_path, "--MLApp.rooms=auth", "--MLApp.rooms=jbos"))
    assert "unknown room 'jbos'" in line and "jobs" in line  # the rooms there are, to pick from


def test_a_room_without_the_room_it_requires_is_a_one_line_error(tmp_path):
    line = one_line_error(start_refused(tmp_path, "--MLApp.rooms=auth", "--MLApp.rooms=training"))
    assert "the training room requires the jobs room" in line
    # Published apps without app kernels would open in kernels nobody caps or culls.
    line = one_line_error(start_refused(tmp_path, "--MLApp.rooms=auth", "--MLApp.rooms=apps"))
    assert "the apps room requires the appkernels room" in line


def test_a_variable_that_does_not_parse_is_a_one_line_error(tmp_path):
    line = one_line_error(start_refused(tmp_path, env={"MLAPP_JOB_LIMIT": "many"}))
    assert "$MLAPP_JOB_LIMIT='many' is not a whole number" in line


def test_the_server_builds_no_log_record_its_handlers_would_drop():
    from jupyter_server.serverapp import ServerApp

    from jupyter_mlapp.extension import skip_unshown_log_records

    serverapp = ServerApp(log_level="INFO")
    skip_unshown_log_records(serverapp)
    assert not serverapp.log.isEnabledFor(logging.DEBUG) and serverapp.log.isEnabledFor(logging.INFO)


def test_debug_logging_still_shows_debug_lines(tmp_path):
    """--log-level=DEBUG (after the extension set the logger's level) still logs Jupyter's debug lines."""

    class DebugServer(MLAppServer):
        def command(self):
            return [a.replace("log_level=INFO", "log_level=DEBUG") for a in super().command()]

    server = DebugServer(tmp_path / "home", tmp_path / "root")
    (tmp_path / "root").mkdir()
    server.start()
    try:
        # Jupyter's debug line for each kernel message, here the app-kernel pool's, after the start
        assert server.wait_for_output(r"^\[D .*\] activity on [0-9a-f-]+: ", timeout=60), "".join(server.output[-20:])
    finally:
        server.stop()
