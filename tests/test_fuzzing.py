"""Schemathesis over every room's API: a real `jupyter mlapp`, the owner's (admin) token.

A few examples per operation (the document's own examples, the coverage phase's edge values, then
random ones) keep it under two minutes; no answer may be a 5xx, and every answer must be one the
document lists for that operation, with its content type and schema. The standalone models server
has its own run (tests/models/test_serve.py).
"""

from __future__ import annotations

import json
import urllib.request

from harness import fuzz

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
    assert fuzz(server.url, server.token, tmp_path, checks=CHECKS, max_examples=5, timeout=240) == operations(document)
