"""The wheel a user installs: the lab extension prebuilt inside, the server extension enabled."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from harness import REPO


def test_wheel_carries_the_prebuilt_lab_extension_and_enables_the_server_extension(tmp_path):
    # No build isolation: the lab extension is already built by `make`, so no Node is needed here,
    # which is exactly what installing the wheel must not need either.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("jupyter_mlapp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(
        n.split("/")[0]
        for n in names
        if n.endswith(".data/data/etc/jupyter/jupyter_server_config.d/jupyter_mlapp.json")
    )
    labext = f"{data}/data/share/jupyter/labextensions/jupyter-mlapp"
    assert f"{labext}/package.json" in names
    assert any(n.startswith(f"{labext}/static/remoteEntry.") for n in names)
    assert "jupyter_mlapp/jupyter_config.py" in names  # the secure defaults of `jupyter mlapp`
    # the Voila template of the app pages (nothing loaded from a CDN), where Voila looks for templates
    assert f"{data}/data/share/jupyter/voila/templates/mlapp/index.html.j2" in names
    assert f"{data}/data/share/jupyter/voila/templates/mlapp/early-start.js" in names  # its include
    assert not any("node_modules" in n or (n.endswith(".ts") and not n.endswith(".d.ts")) for n in names)
