"""The sidebar's REST types are generated from the OpenAPI document: the committed file is up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LABEXTENSION = Path(__file__).resolve().parent.parent / "labextension"
GENERATED = LABEXTENSION / "src" / "generated" / "api.ts"


def test_the_generated_typescript_types_match_the_openapi_document(tmp_path):
    node = shutil.which("node")
    if node is None or not (LABEXTENSION / "node_modules" / "openapi-typescript").is_dir():
        pytest.fail("the generator needs Node and the lab extension's packages: cd labextension && npm ci")
    output = tmp_path / "api.ts"
    subprocess.run(
        [node, "scripts/generate-api.mjs", str(output)],
        cwd=LABEXTENSION,
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        timeout=300,
    )
    assert output.read_text() == GENERATED.read_text(), (
        "labextension/src/generated/api.ts is out of date with the OpenAPI document: "
        "cd labextension && npm run generate:api"
    )
