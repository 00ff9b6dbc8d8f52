"""`jupyter mlapp` as a user runs it: a real process, its printed URL, its one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess

from harness import JUPYTER_MLAPP


def test_server_prints_a_token_url_and_serves_status(start_server):
    server = start_server()
    assert server.token and len(server.token) >= 32
    anonymous = server.api("GET", "status", token=False)
    assert anonymous.status_code in (401, 403)
    status = server.api("GET", "status").json()
    assert status["home"] == str(server.home.resolve())


def test_security_headers_and_no_cross_origin(start_server):
    server = start_server()
    browser_like = server.session(token=False)
    lab = browser_like.get(f"{server.url}/lab?token={server.token}")  # logs in: cookie set
    assert "frame-ancestors 'self'" in lab.headers["Content-Security-Policy"]
    # Another site using the visitor's cookie gets neither data nor CORS permission.
    cross = browser_like.get(f"{server.url}/mlapp/api/status", headers={"Origin": "https://evil.example"})
    assert cross.status_code >= 400
    assert "Access-Control-Allow-Origin" not in cross.headers
    # A state-changing request from a browser session without the XSRF value is refused.
    refused = browser_like.post(f"{server.url}/api/contents", json={"type": "directory"})
    assert refused.status_code == 403
    same_site = browser_like.get(f"{server.url}/mlapp/api/status")
    assert same_site.status_code == 200


def run_cli(*args, env=None, timeout=60):
    return subprocess.run(
        [*JUPYTER_MLAPP, *args, *(["--allow-root"] if os.geteuid() == 0 else [])],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_unwritable_home_is_a_one_line_error():
    # sysfs refuses new folders even to root, so this holds in CI (which runs as root) too.
    result = run_cli("--MLApp.home=/sys/mlapp-home", "--port=0")
    assert result.returncode == 2
    assert "jupyter mlapp: home folder /sys/mlapp-home is not writable" in result.stderr
    assert "Traceback" not in result.stderr


def test_home_that_is_a_file_is_a_one_line_error(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")
    result = run_cli(f"--MLApp.home={home}", "--port=0")
    assert result.returncode == 2
    line = [text for text in result.stderr.splitlines() if text.startswith("jupyter mlapp:")]
    assert line and "home folder" in line[0] and "not writable" in line[0], result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(f"--MLApp.home={tmp_path}", f"--port={port}")
    assert result.returncode == 2
    assert f"jupyter mlapp: port {port} on 127.0.0.1 is not available" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_token_is_refused(tmp_path):
    result = run_cli(f"--MLApp.home={tmp_path}", "--port=0", "--IdentityProvider.token=")
    assert result.returncode == 2
    assert "empty token" in result.stderr


def test_serve_help_names_its_own_options_not_jupyters_subcommands():
    result = subprocess.run([*JUPYTER_MLAPP, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--models" in result.stdout and "--max-batch-size" in result.stdout
    assert "Subcommands" not in result.stdout and "password" not in result.stdout
