"""The OpenAPI description of ``/mlapp/api/jobs/...`` and ``/mlapp/api/envs``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema, refused
from ..web import json_content

ERRORS = {**BAD_REQUEST, **UNAUTHORIZED}
JOB_PARAM = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
RESOURCES = Schema(
    "Resources",
    {
        "type": "object",
        "description": "asked of the Ray cluster (backend ray)",
        "properties": {
            "cpus": {"type": "number", "minimum": 0},
            "gpus": {"type": "number", "minimum": 0},
            "memory": {"type": "integer", "minimum": 0, "description": "bytes"},
        },
        "additionalProperties": False,
    },
)
_JOB_PROPERTIES = {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "user": {"type": "string"},
    "command": {"type": "array", "items": {"type": "string"}},
    "argv": {"type": "array", "items": {"type": "string"}},
    "cwd": {"type": "string"},
    "env_keys": {"type": "array", "items": {"type": "string"}},
    "environment": {"type": "string", "nullable": True},
    "environment_path": {"type": "string", "nullable": True},
    "state": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "killed", "lost"]},
    "created_at": {"type": "number"},
    "started_at": {"type": "number", "nullable": True},
    "ended_at": {"type": "number", "nullable": True},
    "runtime": {"type": "number", "nullable": True, "description": "seconds"},
    "pid": {"type": "integer", "nullable": True},
    "exit_code": {"type": "integer", "nullable": True},
    "signal": {"type": "string", "nullable": True, "description": "the signal that ended it, e.g. SIGKILL"},
    "cpu_percent": {"type": "number", "nullable": True},
    "memory": {"type": "integer", "nullable": True, "description": "resident bytes"},
    "reason": {"type": "string", "nullable": True},
    "log_path": {"type": "string"},
    "grace": {"type": "number"},
    "backend": {"type": "string", "nullable": True, "description": "null: this machine; ray: the Ray cluster"},
    "resources": {"allOf": [RESOURCES], "nullable": True},
    "supervisor_pid": {"type": "integer", "nullable": True},
    "kill_requested_at": {"type": "number", "nullable": True},
    "role": {"type": "string", "nullable": True, "description": "the role of the user who started it"},
    "template": {"type": "string", "nullable": True, "description": "the job template it was started from"},
}
# Store.to_json writes every field of the record (null when unknown).
JOB = Schema("Job", {"type": "object", "required": list(_JOB_PROPERTIES), "properties": _JOB_PROPERTIES})
KILL_RESULT = Schema(
    "KillResult",
    {
        "type": "object",
        "required": ["job", "message", "killed"],
        "properties": {"job": JOB, "message": {"type": "string"}, "killed": {"type": "boolean"}},
    },
)
ENVIRONMENT = Schema(
    "Environment",
    {
        "type": "object",
        "required": [
            "name",
            "path",
            "kind",
            "python",
            "python_version",
            "has_ipykernel",
            "error",
            "kernel_name",
            "hint",
        ],
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string"},
            "kind": {"type": "string", "enum": ["conda", "venv", "server"]},
            "python": {"type": "string", "description": "its interpreter"},
            "python_version": {"type": "string", "nullable": True},
            "has_ipykernel": {"type": "boolean"},
            "error": {"type": "string", "nullable": True, "description": "why it cannot be used"},
            "kernel_name": {"type": "string", "nullable": True, "description": "null: not a kernel (no ipykernel)"},
            "hint": {"type": "string", "nullable": True, "description": "what to do to use it as a kernel"},
        },
    },
)

BACKEND = Schema(
    "Backend",
    {
        "type": "object",
        "required": ["name", "available", "address", "message"],
        "properties": {
            "name": {"type": "string", "enum": ["local", "ray"], "description": "local: this machine"},
            "available": {"type": "boolean", "description": "whether it takes jobs now (Ray: answered lately)"},
            "address": {"type": "string", "nullable": True, "description": "the Ray cluster's dashboard URL"},
            "message": {"type": "string", "nullable": True, "description": "why it is not available"},
        },
    },
)

openapi_paths = {
    "/jobs": {
        "get": {
            "summary": "The caller's jobs (an admin's: everyone's), oldest first",
            "tags": ["jobs"],
            "responses": {
                "200": {
                    "description": "jobs",
                    "content": json_content(
                        {"type": "object", "properties": {"jobs": {"type": "array", "items": JOB}}}
                    ),
                },
                **ERRORS,
            },
        },
        "post": {
            "summary": "Start a background job (queued while the concurrency limit is reached)",
            "tags": ["jobs"],
            "requestBody": {
                "required": True,
                "content": json_content(
                    {
                        "type": "object",
                        "required": ["command"],
                        "properties": {
                            "command": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
                            "name": {"type": "string"},
                            "cwd": {"type": "string", "description": "relative to the server's root folder"},
                            "env": {"type": "object", "additionalProperties": {"type": "string"}},
                            "environment": {"type": "string", "description": "name or path, see /envs"},
                            "stdin": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
                            "backend": {
                                "type": "string",
                                "enum": ["local", "ray"],
                                "description": "default: the server's",
                            },
                            "resources": RESOURCES,
                        },
                    }
                ),
            },
            "responses": {"201": {"description": "the job", "content": json_content(JOB)}, **ERRORS},
        },
    },
    "/jobs/kill-all": {
        "post": {
            "summary": "Kill every queued and running job of the caller",
            "tags": ["jobs"],
            "responses": {
                "200": {
                    "description": "what was done",
                    "content": json_content(
                        {
                            "type": "object",
                            "properties": {
                                "killed": {"type": "integer"},
                                "results": {"type": "array", "items": KILL_RESULT},
                            },
                        }
                    ),
                },
                **ERRORS,
            },
        }
    },
    "/jobs/backends": {
        "get": {
            "summary": "Where new jobs may run: this machine, and the server's Ray cluster when it has one",
            "tags": ["jobs"],
            "responses": {
                "200": {
                    "description": "the backends, and the one a job runs on unless it asks",
                    "content": json_content(
                        {
                            "type": "object",
                            "required": ["default", "backends"],
                            "properties": {
                                "default": {"type": "string", "enum": ["local", "ray"]},
                                "backends": {"type": "array", "items": BACKEND},
                            },
                        }
                    ),
                },
                **ERRORS,
            },
        }
    },
    "/jobs/clear-finished": {
        "post": {
            "summary": "Remove the caller's finished jobs (an admin's: everyone's) with their logs",
            "tags": ["jobs"],
            "requestBody": {
                "required": False,
                "content": json_content(
                    {
                        "type": "object",
                        "properties": {
                            "older_than": {
                                "type": "number",
                                "minimum": 0,
                                "description": "only jobs that ended more than this many seconds ago",
                            }
                        },
                    }
                ),
            },
            "responses": {
                "200": {
                    "description": "how many were removed",
                    "content": json_content({"type": "object", "properties": {"removed": {"type": "integer"}}}),
                },
                **ERRORS,
            },
        }
    },
    "/jobs/{job_id}": {
        "get": {
            "summary": "One job",
            "tags": ["jobs"],
            "parameters": [JOB_PARAM],
            "responses": {"200": {"description": "the job", "content": json_content(JOB)}, **ERRORS, **NOT_FOUND},
        },
        "delete": {
            "summary": "Remove a finished job: its record and its log",
            "tags": ["jobs"],
            "parameters": [JOB_PARAM],
            "responses": {
                "204": {"description": "removed"},
                **ERRORS,
                **NOT_FOUND,
                "409": refused("JobActive", "the job is queued or running: kill it first"),
            },
        },
    },
    "/jobs/{job_id}/log": {
        "get": {
            "summary": "A bounded piece of the job's log (stdout and stderr)",
            "tags": ["jobs"],
            "parameters": [
                JOB_PARAM,
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 4194304}},
                {
                    "name": "tail",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "the last N bytes instead of reading from offset",
                },
            ],
            "responses": {
                "200": {
                    "description": "log text",
                    "content": json_content(
                        {
                            "type": "object",
                            "properties": {
                                "text": {"type": "string"},
                                "offset": {"type": "integer"},
                                "next_offset": {"type": "integer"},
                                "size": {"type": "integer"},
                            },
                        }
                    ),
                },
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/jobs/{job_id}/kill": {
        "post": {
            "summary": "SIGTERM to the job's process group, SIGKILL after the grace period",
            "tags": ["jobs"],
            "parameters": [JOB_PARAM],
            "responses": {
                "200": {"description": "what was done", "content": json_content(KILL_RESULT)},
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/envs": {
        "get": {
            "summary": "Conda and virtual environments jobs and kernels can run in",
            "tags": ["jobs"],
            "parameters": [{"name": "refresh", "in": "query", "schema": {"type": "boolean"}}],
            "responses": {
                "200": {
                    "description": "environments",
                    "content": json_content(
                        {
                            "type": "object",
                            "required": ["environments"],
                            "properties": {"environments": {"type": "array", "items": ENVIRONMENT}},
                        }
                    ),
                },
                **ERRORS,
            },
        }
    },
}
