"""Print the OpenAPI document the server serves at /mlapp/api/openapi.json, built without a server.

It is the source of the sidebar's REST types (scripts/generate-api.mjs writes src/generated/api.ts).
"""

import json
import sys

from jupyter_mlapp import rooms
from jupyter_mlapp.extension import MLApp

app = MLApp()
# What MLApp.initialize_settings resolves before serving; the document needs no manager.
app.served = rooms.resolve(app.rooms)
json.dump(app.openapi(), sys.stdout, indent=1)
