"""The OpenAPI description of ``/mlapp/api/appkernels``."""

from __future__ import annotations

from ..api import NOT_FOUND, UNAUTHORIZED, Schema
from ..web import json_content

KERNEL = Schema(
    "AppKernel",
    {
        "type": "object",
        "required": ["id", "app", "user", "state", "started", "age", "memory", "execution_state"],
        "properties": {
            "id": {"type": "string"},
            "app": {"type": "string", "nullable": True, "description": "the notebook; null for a pooled kernel"},
            "user": {"type": "string", "nullable": True},
            "state": {"type": "string", "enum": ["open", "closing", "pooled"]},
            "started": {"type": "number", "nullable": True},
            "age": {"type": "number", "nullable": True, "description": "seconds since its page opened"},
            "memory": {"type": "integer", "description": "bytes (RSS of the kernel and its children)"},
            "execution_state": {"type": "string", "nullable": True},
        },
    },
)
ERRORS = UNAUTHORIZED
openapi_paths = {
    "/appkernels": {
        "get": {
            "summary": "App kernels: each open app page's and the warm pool's (admins)",
            "tags": ["apps"],
            "responses": {
                "200": {
                    "description": "kernels and limits",
                    "content": json_content(
                        {
                            "type": "object",
                            "properties": {
                                "kernels": {"type": "array", "items": KERNEL},
                                "limits": {"type": "object", "additionalProperties": {"type": "integer"}},
                            },
                        }
                    ),
                },
                **ERRORS,
            },
        }
    },
    "/appkernels/{kernel_id}": {
        "delete": {
            "summary": "Stop an app kernel (its page shows the kernel gone; a reload starts another)",
            "tags": ["apps"],
            "parameters": [{"name": "kernel_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "204": {"description": "stopped"},
                **NOT_FOUND,
                **ERRORS,
            },
        }
    },
}
