"""Write labextension/openapi.json: the OpenAPI document the server serves at /mlapp/api/openapi.json.

The committed document is the contract the sidebar is typed from (scripts/generate-api.mjs turns it
into src/generated/api.ts with Node alone, so a build needs no Python with jupyter_mlapp), and
tests/test_openapi_types.py fails while it differs from what the rooms declare. After changing a
room's OpenAPI:

    .venv/bin/python labextension/scripts/openapi.py [output]   (default: labextension/openapi.json)
"""

import json
import sys
from pathlib import Path

from jupyter_mlapp import rooms
from jupyter_mlapp.extension import MLApp

OUTPUT = Path(__file__).resolve().parent.parent / "openapi.json"

app = MLApp()
# What MLApp.initialize_settings resolves before serving; the document needs no manager.
app.served = rooms.resolve(app.rooms)
output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
output.write_text(json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
