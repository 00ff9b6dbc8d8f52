"""The OpenAPI description of ``/mlapp/api/auth/...``."""

from __future__ import annotations

from ..api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, Schema, refused
from ..web import json_content
from .store import ROLES

_USER = Schema(
    "Account",
    {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": list(ROLES)},
            "created": {"type": "number"},
            "last_login": {"type": "number", "nullable": True},
            "disabled": {"type": "boolean"},
        },
    },
)
_IDENTITY = {
    "type": "object",
    "properties": {
        "user": {
            "type": "object",
            "properties": {
                "username": {"type": "string"},
                "display_name": {"type": "string"},
                "role": {"type": "string"},
                "kind": {"type": "string", "enum": ["account", "owner", "hub"]},
            },
        }
    },
}
_OK = {"description": "done", "content": json_content({"type": "object", "properties": {"ok": {"type": "boolean"}}})}
_ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, "403": refused("RoleRefused", "not allowed for your role")}
_CONFLICT = {"409": refused("AuthConflict", "conflict (exists already, or the last admin)")}


def _body(properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "content": json_content({"type": "object", "properties": properties, "required": required}),
    }


_TEXT = {"type": "string"}
_USERNAME = {"name": "username", "in": "path", "required": True, "schema": _TEXT}
openapi_paths = {
    "/auth/login": {
        "post": {
            "summary": "Sign in with username and password; sets the login cookie (send the _xsrf cookie "
            "value as X-XSRFToken)",
            "tags": ["auth"],
            "security": [],
            "requestBody": _body({"username": _TEXT, "password": _TEXT}, ["username", "password"]),
            "responses": {
                "200": {"description": "signed in", "content": json_content(_IDENTITY)},
                **_ERRORS,
                "429": refused("TooManyAttempts", "too many failed attempts; see Retry-After"),
            },
        }
    },
    "/auth/logout": {
        "post": {
            "summary": "Sign out: every login of the account ends, its app kernels and app session too",
            "tags": ["auth"],
            "responses": {"200": _OK, **_ERRORS},
        }
    },
    "/auth/me": {
        "get": {
            "summary": "Who I am: username, display name, role",
            "tags": ["auth"],
            "responses": {"200": {"description": "the signed-in user", "content": json_content(_IDENTITY)}, **_ERRORS},
        }
    },
    "/auth/password": {
        "post": {
            "summary": "Change my password; my other logins end",
            "tags": ["auth"],
            "requestBody": _body(
                {"current_password": _TEXT, "new_password": _TEXT}, ["current_password", "new_password"]
            ),
            "responses": {"200": _OK, **_ERRORS, "429": {"description": "too many failed attempts"}},
        }
    },
    "/auth/tokens": {
        "get": {
            "summary": "My API tokens (never their secrets)",
            "tags": ["auth"],
            "responses": {"200": {"description": "tokens", "content": json_content({"type": "object"})}, **_ERRORS},
        },
        "post": {
            "summary": "New API token for scripts (`Authorization: token <token>`); shown once",
            "tags": ["auth"],
            "requestBody": _body({"note": _TEXT}, []),
            "responses": {
                "201": {
                    "description": "the token",
                    "content": json_content(
                        {"type": "object", "properties": {"id": _TEXT, "note": _TEXT, "token": _TEXT}}
                    ),
                },
                **_ERRORS,
            },
        },
    },
    "/auth/tokens/{token_id}": {
        "delete": {
            "summary": "Revoke one of my API tokens",
            "tags": ["auth"],
            "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": _TEXT}],
            "responses": {"204": {"description": "revoked"}, **_ERRORS, **NOT_FOUND},
        }
    },
    "/auth/users": {
        "get": {
            "summary": "All users (admins)",
            "tags": ["auth"],
            "responses": {
                "200": {
                    "description": "users",
                    "content": json_content(
                        {"type": "object", "properties": {"users": {"type": "array", "items": _USER}}}
                    ),
                },
                **_ERRORS,
            },
        },
        "post": {
            "summary": "Add a user (admins)",
            "tags": ["auth"],
            "requestBody": _body(
                {
                    "username": _TEXT,
                    "password": _TEXT,
                    "display_name": _TEXT,
                    "role": {"type": "string", "enum": list(ROLES)},
                },
                ["username", "password"],
            ),
            "responses": {"201": {"description": "added", "content": json_content(_USER)}, **_ERRORS, **_CONFLICT},
        },
    },
    "/auth/users/{username}": {
        "get": {
            "summary": "One user (admins)",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "responses": {"200": {"description": "the user", "content": json_content(_USER)}, **_ERRORS, **NOT_FOUND},
        },
        "patch": {
            "summary": "Change role, display name, password or disabled (admins); disabling ends "
            "the user's logins and kernels at once",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "requestBody": _body(
                {
                    "role": {"type": "string", "enum": list(ROLES)},
                    "display_name": _TEXT,
                    "disabled": {"type": "boolean"},
                    "password": _TEXT,
                },
                [],
            ),
            "responses": {
                "200": {"description": "the user", "content": json_content(_USER)},
                **_ERRORS,
                **NOT_FOUND,
                **_CONFLICT,
            },
        },
        "delete": {
            "summary": "Remove a user (admins)",
            "tags": ["auth"],
            "parameters": [_USERNAME],
            "responses": {"204": {"description": "removed"}, **_ERRORS, **NOT_FOUND, **_CONFLICT},
        },
    },
}
