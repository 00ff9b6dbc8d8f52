"""Environments made for real: virtual environments (`python -m venv`), conda-layout prefixes,
a workspace project's .venv; jobs and kernels run in them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from jupyter_mlapp.errors import InvalidInput
from jupyter_mlapp.jobs import JobManager
from jupyter_mlapp.jobs.environments import EnvironmentFinder
from jupyter_mlapp.jobs.kernelspecs import EnvironmentKernelSpecManager

from .conftest import make_conda_env, make_venv

VERSION = ".".join(map(str, sys.version_info[:3]))


@pytest.fixture(scope="module")
def envs_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("envs")
    make_venv(root / "venvs" / "plain")
    make_venv(root / "venvs" / "withkernel", with_ipykernel=True)
    make_conda_env(root / "conda-envs" / "torch")
    make_venv(root / "workspace" / "project" / ".venv")
    (root / "home").mkdir()
    return root


@pytest.fixture
def finder(envs_root, monkeypatch):
    # No conda installed here: conda environments come from ~/.conda/environments.txt.
    monkeypatch.setenv("HOME", str(envs_root / "home"))
    monkeypatch.setenv(
        "PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "conda").exists())
    )
    monkeypatch.delenv("CONDA_EXE", raising=False)
    (envs_root / "home" / ".conda").mkdir(exist_ok=True)
    (envs_root / "home" / ".conda" / "environments.txt").write_text(
        f"{envs_root / 'conda-envs' / 'torch'}\n/gone/env\n"
    )
    return EnvironmentFinder(env_dirs=[envs_root / "venvs"], workspace=envs_root / "workspace")


def by_name(envs):
    return {env.name: env for env in envs}


def test_finds_venvs_conda_envs_the_workspace_and_the_server(finder, envs_root):
    envs = by_name(finder.environments())
    assert {"server", "plain", "withkernel", "torch", "project"} <= set(envs)
    assert envs["server"].path == sys.prefix and envs["server"].kind == "server"
    assert (envs["plain"].kind, envs["plain"].path) == ("venv", str(envs_root / "venvs" / "plain"))
    assert (envs["torch"].kind, envs["project"].kind) == ("conda", "venv")
    assert all(env.python_version == VERSION for env in envs.values())
    assert envs["withkernel"].has_ipykernel and envs["withkernel"].hint is None
    assert not envs["plain"].has_ipykernel and "pip install ipykernel" in envs["plain"].hint
    assert envs["withkernel"].kernel_name == "mlapp-venv-withkernel"


def test_conda_info_is_asked_when_conda_is_installed(finder, envs_root, tmp_path, monkeypatch):
    other = make_conda_env(tmp_path / "miniconda" / "envs" / "tf")
    conda = tmp_path / "bin" / "conda"
    conda.parent.mkdir()
    conda.write_text(f"#!/bin/sh\necho '{json.dumps({'envs': [str(other)]})}'\n")
    conda.chmod(0o755)
    monkeypatch.setenv("CONDA_EXE", str(conda))
    envs = by_name(finder.environments(refresh=True))
    assert envs["tf"].kind == "conda" and "torch" not in envs  # conda's own list wins


def test_discovery_is_cached_and_refreshes_on_request(finder, envs_root):
    first = finder.environments()
    assert finder.environments() == first
    extra = make_venv(envs_root / "venvs" / "later")
    try:
        assert "later" not in by_name(finder.environments())
        assert "later" in by_name(finder.environments(refresh=True))
        assert finder.find(str(extra)).name == "later"
    finally:
        subprocess.run(["rm", "-rf", str(extra)], check=True)
    with pytest.raises(InvalidInput, match="unknown environment 'nope'; known: "):
        finder.find("nope")


def run_in(jobs: JobManager, environment: str, code: str) -> list[str]:
    job = jobs.start(["python", "-c", textwrap.dedent(code)], environment=environment)
    done = jobs.wait(job.id, timeout=60)
    log = jobs.read_log(job.id).text
    assert done.state == "succeeded", log
    return log.split()


def test_a_job_runs_with_the_venv_interpreter_and_activation(finder, envs_root, mlapp_home):
    jobs = JobManager(home=mlapp_home, user="alice", environments=finder, workspace=envs_root)
    venv = str(envs_root / "venvs" / "plain")
    out = run_in(
        jobs,
        "plain",
        """
        import os, shutil, sys
        print(sys.prefix, os.environ["VIRTUAL_ENV"], shutil.which("python"), os.environ.get("CONDA_PREFIX", "-"))
    """,
    )
    assert out == [venv, venv, f"{venv}/bin/python", "-"]
    assert jobs.list()[0].environment == "plain"


def test_a_job_runs_in_a_conda_environment(finder, envs_root, mlapp_home):
    jobs = JobManager(home=mlapp_home, user="alice", environments=finder, workspace=envs_root)
    prefix = str(envs_root / "conda-envs" / "torch")
    out = run_in(
        jobs,
        prefix,
        """
        import os, shutil, sys
        print(sys.executable, os.environ["CONDA_PREFIX"], os.environ["CONDA_DEFAULT_ENV"], shutil.which("python"))
    """,
    )
    assert out == [f"{prefix}/bin/python", prefix, "torch", f"{prefix}/bin/python"]


def test_a_kernel_from_an_environment_kernel_spec_runs_in_that_environment(finder, envs_root):
    specs = EnvironmentKernelSpecManager()
    specs.finder = finder
    # Listing kernels never waits for discovery (it runs on the server's event loop): the
    # environments' kernels appear once the background discovery has finished.
    started = time.monotonic()
    assert not any(name.startswith("mlapp-") for name in specs.find_kernel_specs())
    assert time.monotonic() - started < 0.5
    deadline = time.monotonic() + 60
    while "mlapp-venv-withkernel" not in (names := specs.find_kernel_specs()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "mlapp-venv-withkernel" in names and "mlapp-venv-plain" not in names
    spec = specs.get_all_specs()["mlapp-venv-withkernel"]["spec"]
    assert spec["argv"][0] == str(envs_root / "venvs" / "withkernel" / "bin" / "python")
    manager = KernelManager(kernel_name="mlapp-venv-withkernel", kernel_spec_manager=specs)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=90)
        out = []
        client.execute_interactive(
            "import os, sys; print(sys.prefix, os.environ['VIRTUAL_ENV'])",
            timeout=60,
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
        )
        assert "".join(out).split() == [str(envs_root / "venvs" / "withkernel")] * 2
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
