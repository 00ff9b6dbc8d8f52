"""Jobs tests: several users on one server, each known by a token of their own.

The server decides who is asking (an IdentityProvider), never the request body: these tests
plug in the smallest such provider, so ownership rules are tested whatever the login in use.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from tornado.httpclient import HTTPClientError

USERS = {"alice-token": ("alice", "editor"), "bob-token": ("bob", "editor"), "root-token": ("root", "admin")}


@dataclass
class RoleUser(User):
    role: str = "editor"


class TokenUsers(IdentityProvider):
    """One token per user; the user's role comes with it."""

    def get_user_token(self, handler):
        found = USERS.get(self.get_token(handler) or "")
        if found is None:
            return None
        username, role = found
        return RoleUser(username, role=role)

    def get_user_cookie(self, handler):
        return None


def keep_job_settings(monkeypatch) -> None:
    """The in-process server hands its job settings to kernels through the environment: give
    them back when the test ends, so they don't leak into the next tests of this process."""
    for name in ("MLAPP_JOB_LIMIT", "MLAPP_JOB_GRACE", "MLAPP_ENV_DIRS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def jp_server_config(mlapp_home, monkeypatch):
    keep_job_settings(monkeypatch)
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlapp": True},
            "identity_provider_class": TokenUsers,
            "token": "unused-server-token",
        },
        "IdentityProvider": {"token": "unused-server-token"},
        "MLApp": {"home": str(mlapp_home), "job_kill_grace": 2.0, "job_limit": 4},
    }


def api_caller(jp_fetch, headers: dict[str, dict]):
    """``await call("alice", "POST", "jobs", body={...})`` -> (status, JSON or None), with each user's headers."""

    async def call(user, method, *path, body=None, **params):
        kwargs = {"method": method, "params": params, "headers": headers[user]}
        if body is not None or method == "POST":
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        try:
            response = await jp_fetch("mlapp", "api", *path, **kwargs)
        except HTTPClientError as err:
            return err.code, json.loads(err.response.body)
        return response.code, json.loads(response.body) if response.body else None  # 204: no body

    return call


@pytest.fixture
def api(jp_fetch):
    """``await api("alice", "POST", "jobs", body={...})`` -> (status, JSON)."""
    return api_caller(jp_fetch, {user: {"Authorization": f"token {token}"} for token, (user, _) in USERS.items()})


BASE_PYTHON = os.path.realpath(sys.executable)  # the interpreter behind the test venv


def make_venv(path: Path, with_ipykernel: bool = False) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    if with_ipykernel:
        # Share the test environment's packages (ipykernel and its dependencies) through a
        # .pth file: a real venv whose interpreter imports ipykernel, without a slow install.
        lib = next((path / "lib").glob("python3*")) / "site-packages"
        (lib / "shared-test-packages.pth").write_text(site.getsitepackages()[0] + "\n")
    return path


def make_conda_env(path: Path) -> Path:
    """The layout conda makes: a prefix with conda-meta/ and bin/python (here a link to a real one)."""
    (path / "conda-meta").mkdir(parents=True)
    (path / "conda-meta" / "history").write_text("")
    (path / "bin").mkdir()
    (path / "bin" / "python").symlink_to(BASE_PYTHON)
    return path
