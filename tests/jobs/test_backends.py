"""GET /mlapp/api/jobs/backends: where new jobs may run, what the start forms offer.

A real `jupyter mlapp` each: one with no Ray cluster, one told of a cluster at a closed port. The
one with a cluster that does not answer says so, and fast, every time it is asked.
"""

from __future__ import annotations

import importlib.util
import time

import pytest
from harness import free_port

from jupyter_mlapp.auth.store import UserStore
from jupyter_mlapp.jobs.dispatcher import PROBE_WAIT

THIS_MACHINE = {"name": "local", "available": True, "address": None, "message": None}


def test_a_server_without_ray_offers_this_machine_only(start_server):
    server = start_server()
    response = server.api("GET", "jobs/backends")
    assert response.status_code == 200, response.text
    assert response.json() == {"default": "local", "backends": [THIS_MACHINE]}
    assert server.api("GET", "jobs/backends", token=False).status_code in (401, 403)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install -e '.[ray]'")
def test_a_cluster_at_a_closed_port_is_unavailable_with_the_reason_answered_fast(start_server):
    address = f"http://127.0.0.1:{free_port()}"
    server = start_server(args=[f"--MLApp.ray_address={address}"])
    deadline = time.monotonic() + 120  # the first probe imports Ray: seconds on a busy machine
    while True:
        asked = time.monotonic()
        response = server.api("GET", "jobs/backends")
        assert time.monotonic() - asked < PROBE_WAIT + 1.5, "a cluster that does not answer held up the answer"
        assert response.status_code == 200, response.text
        answer = response.json()
        local, ray = answer["backends"]
        assert answer["default"] == "local" and local == THIS_MACHINE
        assert (ray["name"], ray["available"], ray["address"]) == ("ray", False, address)
        if "does not answer" in ray["message"] or time.monotonic() > deadline:
            break
        assert ray["message"] == f"the Ray cluster at {address} has not answered yet"
        time.sleep(0.5)
    assert ray["message"].startswith(f"the Ray cluster at {address} does not answer (")

    # What the form's alert then shows when Ray is chosen anyway; this machine's jobs run on.
    refused = server.api("POST", "jobs", json={"command": ["true"], "backend": "ray", "resources": {"cpus": 1}})
    assert refused.status_code == 503 and refused.json()["message"].startswith(f"the Ray cluster at {address}")
    assert server.api("POST", "jobs", json={"command": ["true"]}).status_code == 201


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install -e '.[ray]'")
def test_a_viewer_is_not_told_where_the_cluster_is(start_server, tmp_path):
    """A viewer starts only templates: the form's choice is not theirs, nor the cluster's address."""
    address = f"http://127.0.0.1:{free_port()}"
    home = tmp_path / "home"
    home.mkdir()
    store = UserStore(home)
    store.add("carol", "correct horse battery staple", role="viewer")
    _, token = store.create_token("carol", "tests")
    server = start_server(home=home, args=[f"--MLApp.ray_address={address}"])
    staff = server.api("GET", "jobs/backends").json()["backends"][1]
    assert staff["address"] == address and staff["message"]
    response = server.api("GET", "jobs/backends", token=False, headers={"Authorization": f"token {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["backends"] == [
        THIS_MACHINE,
        {"name": "ray", "available": False, "address": None, "message": None},
    ]
    assert address not in response.text
