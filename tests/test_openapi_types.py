"""The committed OpenAPI document (labextension/openapi.json), which the sidebar's REST types are
generated from at every build, is what the rooms declare now, and the sdist carries it."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

from harness import REPO

COMMITTED = REPO / "labextension" / "openapi.json"
WRITER = REPO / "labextension" / "scripts" / "openapi.py"


def test_the_committed_openapi_document_is_what_the_server_serves(tmp_path):
    written = tmp_path / "openapi.json"
    subprocess.run([sys.executable, str(WRITER), str(written)], check=True, timeout=120)
    assert written.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "labextension/openapi.json is out of date with the rooms' OpenAPI: "
        ".venv/bin/python labextension/scripts/openapi.py"
    )


def test_the_sdist_carries_the_document_and_its_generator_not_the_generated_types(tmp_path):
    # A wheel built from the sdist generates the types with Node alone, before its lab extension build.
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "SKIP_JUPYTER_BUILDER": "1"},  # the listing needs no lab extension build
        check=True,
        timeout=300,
    )
    (sdist,) = tmp_path.glob("jupyter_mlapp-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.partition("/")[2] for name in archive.getnames()}
    assert {"labextension/openapi.json", "labextension/scripts/generate-api.mjs"} <= names
    assert "labextension/src/generated/api.ts" not in names
