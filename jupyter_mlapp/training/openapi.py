"""The OpenAPI description of a job's metrics and log download."""

from __future__ import annotations

from ..api import NOT_FOUND, Schema
from ..jobs.openapi import ERRORS, JOB_PARAM

_NUMBERS = {"type": "array", "items": {"type": "number", "nullable": True}}
SERIES = Schema(
    "MetricSeries",
    {
        "type": "object",
        "description": "one metric: its values and, per value, the step and epoch it was logged at "
        "(null when unknown). Non-finite values are the strings NaN, Infinity, -Infinity.",
        "properties": {
            "family": {"type": "string", "description": "the chart it belongs on (loss for val_loss)"},
            "value": {"type": "array", "items": {"oneOf": [{"type": "number"}, {"type": "string"}]}},
            "step": _NUMBERS,
            "epoch": _NUMBERS,
        },
    },
)

openapi_paths = {
    "/jobs/{job_id}/metrics": {
        "get": {
            "summary": "Metrics parsed from the job's log from byte offset 'since' (bounded: follow 'next')",
            "tags": ["training"],
            "parameters": [
                JOB_PARAM,
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "byte offset to parse from: 0, or the 'next' of the previous answer",
                },
                {
                    "name": "step",
                    "in": "query",
                    "schema": {"type": "number"},
                    "description": "'carry.step' of the previous answer",
                },
                {
                    "name": "epoch",
                    "in": "query",
                    "schema": {"type": "number"},
                    "description": "'carry.epoch' of the previous answer",
                },
            ],
            "responses": {
                "200": {
                    "description": "metrics",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                # read_metrics and the handler write every one of them.
                                "required": [
                                    "since",
                                    "start",
                                    "next",
                                    "size",
                                    "more",
                                    "reset",
                                    "missing",
                                    "lines",
                                    "notes",
                                    "carry",
                                    "series",
                                    "state",
                                    "finished",
                                    "progress",
                                ],
                                "properties": {
                                    "since": {"type": "integer"},
                                    "start": {
                                        "type": "integer",
                                        "description": "where parsing started (0 after a reset)",
                                    },
                                    "next": {"type": "integer", "description": "offset to ask for next time"},
                                    "size": {"type": "integer", "description": "size of the log in bytes"},
                                    "more": {
                                        "type": "boolean",
                                        "description": "more is already waiting: ask again now",
                                    },
                                    "reset": {"type": "boolean", "description": "the log restarted: drop what you had"},
                                    "missing": {
                                        "type": "boolean",
                                        "description": "the log does not exist (yet, or any more)",
                                    },
                                    "lines": {"type": "integer"},
                                    "notes": {"type": "array", "items": {"type": "string"}},
                                    "carry": {
                                        "type": "object",
                                        "description": "pass back as step and epoch next time",
                                        "properties": {
                                            "step": {"type": "number", "nullable": True},
                                            "epoch": {"type": "number", "nullable": True},
                                        },
                                    },
                                    "series": {"type": "object", "additionalProperties": SERIES},
                                    "state": {"type": "string"},
                                    "finished": {"type": "boolean"},
                                    "progress": {
                                        "type": "object",
                                        "nullable": True,
                                        "description": "where the training is, from the log's last lines "
                                        "(Epoch 3/10, a tqdm bar, step 30/100); null when it says nothing of it",
                                        "properties": {
                                            "fraction": {"type": "number", "minimum": 0, "maximum": 1},
                                            "label": {"type": "string"},
                                            "eta": {
                                                "type": "number",
                                                "nullable": True,
                                                "description": "seconds left at the pace so far (while running)",
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
    "/jobs/{job_id}/log/download": {
        "get": {
            "summary": "The job's whole log as a file download",
            "tags": ["training"],
            "parameters": [JOB_PARAM],
            "responses": {
                "200": {"description": "the log", "content": {"text/plain": {"schema": {"type": "string"}}}},
                **ERRORS,
                **NOT_FOUND,
            },
        }
    },
}
