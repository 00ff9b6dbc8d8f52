"""The models room: the registry's prediction API (Flask-compatible), under ``/mlapp/api/models``."""

from __future__ import annotations

import sqlite3

from ..rooms import Room, RoomError
from .handlers import (
    Base64Handler,
    ConfigsHandler,
    HealthHandler,
    ModelListHandler,
    PredictHandler,
    VersionHandler,
)
from .openapi import openapi_paths
from .registry import ModelRegistry
from .service import ModelService


def build(app) -> ModelService:
    try:
        registry = ModelRegistry(app.models_dir or None, home=app.home_path)
        registry.list()
    except (OSError, sqlite3.Error) as exc:
        if not app.standalone:
            raise
        raise RoomError(
            f"cannot use the model registry at {app.models_dir or app.home_path / 'models'} ({exc}); "
            f"choose another folder with --models DIR"
        ) from exc
    service = ModelService(registry, max_batch_size=app.models_max_batch_size, max_wait=app.models_max_wait_ms / 1000)
    if app.standalone:  # ready (or failed, with reasons) before serving
        service.load_all()
    else:  # inside JupyterLab's server: don't delay its start; a model loads on first use anyway
        service.executor.submit(service.load_all)
    return service


ROUTES = (
    (r"/models/models", ModelListHandler),
    (r"/models/configs", ConfigsHandler),
    (r"/models/base64", Base64Handler),
    (r"/models/predict", PredictHandler),
    (r"/models/health", HealthHandler),
    (r"/models/version", VersionHandler),
)

ROOM = Room("models", build=build, routes=ROUTES, openapi=openapi_paths)
