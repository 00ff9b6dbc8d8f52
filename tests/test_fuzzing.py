"""Schemathesis over every room's API: a real `jupyter mlapp`, the owner's (admin) token.

A few examples per operation (the document's own examples, the coverage phase's edge values, then
random ones) keep it under two minutes; no answer may be a 5xx, and every answer must be one the
document lists for that operation, with its content type and schema. The standalone models server
has its own run (tests/models/test_serve.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

import pytest

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def operations(document: dict) -> int:
    """How many operations schemathesis tests: all but the document's own (it skips the schema it reads)."""
    methods = {"get", "put", "post", "delete", "patch"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods) - 1


def test_every_operation_answers_as_documented_and_never_fails(start_server, tmp_path):
    server = start_server()
    request = urllib.request.Request(
        f"{server.url}/mlapp/api/openapi.json", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        document = json.load(response)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/mlapp/api/openapi.json",
        "--url",
        f"{server.url}/mlapp/api",
        "--checks",
        CHECKS,
        "-H",
        f"Authorization: token {server.token}",
        "--max-examples",
        "5",
        "--generation-deterministic",
        "--no-shrink",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--phases",
        "examples,coverage,fuzzing",
    ]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"fuzzing took too long:\n{exc.stdout}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    tested = re.search(r"Tested:\s+(\d+)", run.stdout)
    assert tested and int(tested.group(1)) == operations(document), run.stdout[-2000:]
