"""The OpenAPI description of ``/mlapp/api/models/...``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema
from ..web import json_content


def _ok(description: str, schema: dict | None = None) -> dict:
    response = {"description": description}
    if schema:
        response["content"] = json_content(schema)
    return response


ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, **NOT_FOUND}
FLAG = {"oneOf": [{"type": "boolean"}, {"type": "string"}]}
NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}
# A request names a weights version by its Flask-compatible name Model_path or by our name, version.
VERSION = {**NAME, "description": "the weights version, as Model_path (which wins when both are given)"}
MODEL_QUERY = {
    "type": "object",
    "required": ["algorithm"],
    "properties": {
        "algorithm": NAME,
        "Model_path": NAME,
        "version": VERSION,
        "return_weights": FLAG,
        "return_classes": FLAG,
    },
}
CONFIG = {
    "type": "object",
    "description": "algorithm, Model_path (or version), DETECTION_MIN_CONFIDENCE (0-1), TOP_K, and any other settings",
    "properties": {
        "algorithm": NAME,
        "Model_path": NAME,
        # stored as Model_path; unlike a request's version, one that differs from Model_path is refused
        "version": {**NAME, "description": "the weights version, as Model_path (both given: they must be the same)"},
        "DETECTION_MIN_CONFIDENCE": {"type": "number", "minimum": 0, "maximum": 1},
        "TOP_K": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}
RESULT = {
    "type": "object",
    "properties": {
        "results": {
            "type": "object",
            "properties": {
                "class_name": {"type": "array", "items": {"type": "string"}},
                "scores": {"type": "array", "items": {"type": "number"}},
                "rois [y_min, x_min, y_max, x_max]": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": "integer"}},
                },
            },
        }
    },
}
PREDICT = {
    "type": "object",
    "properties": {
        "algorithm": NAME,
        "Model_path": NAME,
        "version": VERSION,
        "images": {"type": "array", "items": {"type": "string", "format": "byte"}, "description": "base64 images"},
        "rows": {"type": "array", "items": {"type": "object"}, "description": "records {column: value}"},
        "create_images": FLAG,
        "config": CONFIG,
    },
}
TAGS = ["models"]
_TEXT = {"type": "string"}
_NAMES = {"type": "array", "items": _TEXT}
_OBJECT = {"type": "object"}
_KIND = {"type": "string", "enum": ["image", "tabular"]}
_TASK = {"type": "string", "description": "classification, detection or regression"}
_VERSION_PROPERTIES = {
    "name": _TEXT,
    "version": _TEXT,
    "model_path": {**_TEXT, "deprecated": True, "description": "version, old name"},
    "format": _TEXT,
    "size": {"type": "integer", "description": "bytes"},
    "sha256": _TEXT,
    "task": _TASK,
    "kind": _KIND,
    "classes": _NAMES,
    "input_schema": _OBJECT,
    "config": _OBJECT,
    "metrics": _OBJECT,
    "examples": {"type": "array", "items": _OBJECT},
    "description": _TEXT,
    "saved_by": _TEXT,
    "saved_at": {"type": "number"},
    "available": {"type": "boolean", "description": "whether it can serve the caller"},
    "reason": {"type": "string", "nullable": True, "description": "why it cannot"},
}
# ModelService.models: a weights version as the registry recorded it, and whether it serves the caller.
MODEL_VERSION = Schema(
    "ModelVersion",
    {
        "type": "object",
        "required": [key for key in _VERSION_PROPERTIES if key != "model_path"],
        "properties": _VERSION_PROPERTIES,
    },
)
_MODEL_PROPERTIES = {
    "name": _TEXT,
    "kind": _KIND,
    "task": _TASK,
    "classes": _NAMES,
    "input_schema": _OBJECT,
    "weights": {**_NAMES, "description": "its weights versions"},
    "default_weights": {**_TEXT, "description": "the latest version's, which predictions use by default"},
    "saved_by": _TEXT,
    "saved_at": {"type": "number"},
    "size": {"type": "integer", "description": "bytes, every version"},
    "available": {"type": "boolean", "description": "whether a version can serve the caller"},
    "versions": {"type": "array", "items": MODEL_VERSION},
}
MODEL = Schema("Model", {"type": "object", "required": list(_MODEL_PROPERTIES), "properties": _MODEL_PROPERTIES})

# A form with one uploaded file, as the article's client sends its configs.json and image zips.
FILE_UPLOAD = {
    "multipart/form-data": {
        "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
    }
}

openapi_paths = {
    "/models/models": {
        "get": {
            "summary": "The algorithms (models) and their weights, classes and availability",
            "tags": TAGS,
            "responses": {
                "200": _ok(
                    "the models",
                    {
                        "type": "object",
                        "required": ["algorithms", "models"],
                        "properties": {
                            "algorithms": {**_NAMES, "description": "the available models' names"},
                            "models": {"type": "array", "items": MODEL},
                        },
                    },
                ),
                "401": ERRORS["401"],
            },
        },
        "post": {
            "summary": "One algorithm's weights (return_weights) or classes (return_classes)",
            "tags": TAGS,
            "requestBody": {
                "required": True,
                "content": {**json_content(MODEL_QUERY), "application/x-www-form-urlencoded": {"schema": MODEL_QUERY}},
            },
            "responses": {
                "200": _ok("the weights and/or classes", {"type": "object", "required": ["algorithm"]}),
                **ERRORS,
            },
        },
        "delete": {
            "summary": "Retire one weights version (its saver or an admin)",
            "tags": TAGS,
            "parameters": [
                {"name": "algorithm", "in": "query", "required": True, "schema": NAME},
                {"name": "Model_path", "in": "query", "schema": NAME, "description": "required, or version"},
                {"name": "version", "in": "query", "schema": VERSION},
            ],
            "responses": {"204": {"description": "deleted"}, **ERRORS, "403": {"description": "saved by someone else"}},
        },
    },
    "/models/configs": {
        "get": {
            "summary": "The caller's prediction config",
            "tags": TAGS,
            "responses": {"200": _ok("the config", {"type": "object", "required": ["config"]}), "401": ERRORS["401"]},
        },
        "post": {
            "summary": "Set the caller's prediction config from an uploaded JSON file (or a JSON body)",
            "tags": TAGS,
            "requestBody": {
                "required": True,
                "content": {
                    **json_content(CONFIG),
                    **FILE_UPLOAD,
                },
            },
            "responses": {"200": _ok("the stored config", {"type": "object", "required": ["config"]}), **ERRORS},
        },
    },
    "/models/base64": {
        "post": {
            "summary": "A zip of images -> the list of their base64 strings",
            "tags": TAGS,
            "requestBody": {
                "required": True,
                "content": {
                    **FILE_UPLOAD,
                    "application/zip": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "responses": {
                "200": _ok("base64 strings, in the zip's order", {"type": "array", "items": {"type": "string"}}),
                "400": ERRORS["400"],
                "401": ERRORS["401"],
                "413": {"description": "too large (or a zip bomb)"},
            },
        },
    },
    "/models/predict": {
        "post": {
            "summary": "Predict on images (base64), rows (records) or a CSV body",
            "tags": TAGS,
            "requestBody": {
                "required": True,
                "content": {
                    **json_content(PREDICT),
                    "application/x-www-form-urlencoded": {"schema": PREDICT},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": _ok(
                    "one [result, image] pair per input",
                    {
                        "type": "object",
                        "required": ["Responses"],
                        "properties": {
                            "Responses": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "minItems": 2,
                                    "maxItems": 2,
                                    "description": "[result, image]: image is base64 PNG or null",
                                    "items": {"anyOf": [RESULT, {"type": "string"}], "nullable": True},
                                },
                            }
                        },
                    },
                ),
                **ERRORS,
                "409": {"description": "the model is unavailable (its reason is given)"},
                "413": {"description": "too many inputs or too large a body"},
            },
        },
    },
    "/models/health": {
        "get": {
            "summary": "Liveness, with the models that failed to load and why",
            "tags": TAGS,
            "responses": {
                "200": _ok(
                    "healthy",
                    {
                        "type": "object",
                        "required": ["status", "models", "unavailable"],
                        "properties": {
                            "status": {"type": "string", "enum": ["ok"]},
                            "models": {"type": "integer", "description": "how many models the registry has"},
                            "unavailable": {
                                "type": "array",
                                "description": "the weights versions that cannot serve the caller, and why",
                                "items": {
                                    "type": "object",
                                    "properties": {"algorithm": _TEXT, "Model_path": _TEXT, "reason": _TEXT},
                                },
                            },
                            "workers": {"description": "jupyter mlapp serve: its worker processes"},
                        },
                    },
                ),
                "401": ERRORS["401"],
            },
        },
    },
    "/models/version": {
        "get": {
            "summary": "Server and API version",
            "tags": TAGS,
            "responses": {
                "200": _ok(
                    "versions",
                    {
                        "type": "object",
                        "required": ["version", "api"],
                        "properties": {"version": {**_TEXT, "description": "jupyter-mlapp's"}, "api": _TEXT},
                    },
                ),
                "401": ERRORS["401"],
            },
        },
    },
}
