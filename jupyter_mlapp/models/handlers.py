"""The model serving API under ``/mlapp/api/models/...``, in the Jupyter server and standalone.

It keeps the shape of the hand-made Flask service users already have, so their clients work by
changing only the base URL (``<server>/mlapp/api/models``) and adding credentials:
``GET/POST /models``, ``GET/POST /configs``, ``POST /base64``, ``POST /predict``, ``GET /health``,
``GET /version``. Form-encoded and JSON bodies are both accepted, as Flask's ``request.values``
and ``request.get_json()`` were.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from jupyter_server.auth.decorator import authorized
from tornado import httputil, web

from .. import __version__
from ..errors import InvalidInput, MLAppError, TooLarge
from ..settings import truthy
from ..web import MLAppHandler
from .images import zip_to_base64
from .inputs import csv_rows
from .registry import NAME_KEYS, requested_version
from .service import ModelService

API_VERSION = "1"
JSON_TYPES = ("application/json", "")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.stream_request_body
class ModelsAPIHandler(MLAppHandler):
    """Reads bodies as a stream so an oversized upload is refused (413) before it is read."""

    auth_resource = "models"

    def initialize(self, name: str, manager: ModelService | None = None, **kwargs):
        super().initialize(name, manager=manager, **kwargs)
        self.max_body = self.mlapp.models_max_body_mb << 20

    @property
    def service(self) -> ModelService:
        return self.manager

    @property
    def client(self) -> str:
        """Whose prediction config applies: the signed-in account or API client, from the server side."""
        return self.username

    async def prepare(self):
        self._chunks: list[bytes] = []
        self._size = 0
        self._refusal: web.HTTPError | MLAppError | None = None
        length = self.request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_body:
            raise TooLarge(f"the request body has {int(length):,} bytes, more than the {self.max_body:,} allowed")
        self.request.connection.set_max_body_size(self.max_body)
        try:
            await super().prepare()  # who is asking; the XSRF check
        except (web.HTTPError, MLAppError) as refusal:  # not signed in, the XSRF check
            # Answered once the body is read (and dropped): answering now would close the
            # connection on unread bytes, which a proxy in front (JupyterHub's, nginx) reports
            # as a 503 instead of this 403. The verb's method is not run.
            self._refusal = refusal
            setattr(self, self.request.method.lower(), self._refuse)

    def _refuse(self, *args, **kwargs):
        raise self._refusal

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.max_body:
            raise TooLarge(f"the request body is larger than the {self.max_body:,} bytes allowed")
        if self._refusal is None:
            self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    def content_type(self) -> str:
        return self.request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def payload(self) -> tuple[dict, dict]:
        """The request's fields (JSON object, form fields or query arguments) and uploaded files.

        Form fields appear once, except the lists ``images`` and ``rows`` (repeated fields).
        """
        kind = self.content_type()
        fields: dict = {k: self.get_query_argument(k) for k in self.request.query_arguments if k != "token"}
        files: dict = {}
        if kind in FORM_TYPES:
            arguments: dict = {}
            try:
                httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), self.body, arguments, files)
            except (httputil.HTTPInputError, ValueError) as exc:
                raise InvalidInput(f"the form body cannot be read ({exc})") from exc
            for key, values in arguments.items():
                decoded = [v.decode("utf-8", "replace") for v in values]
                fields[key] = decoded if key in ("images", "rows") else decoded[-1]
            if isinstance(fields.get("rows"), list):
                fields["rows"] = [self._json_value(r, "rows") for r in fields["rows"]]
            if isinstance(fields.get("config"), str):
                fields["config"] = self._json_value(fields["config"], "config")
        elif kind in JSON_TYPES or kind.endswith("+json"):
            self.request.body = self.body
            fields.update(self.json_body())
        return fields, files

    @staticmethod
    def _json_value(text: str, name: str):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"form field {name!r} is not valid JSON ({exc})") from exc

    @staticmethod
    def required(fields: dict, name: str):
        value = fields.get(name)
        if value in (None, ""):
            raise InvalidInput(f"{name} is required")
        return value


class ModelListHandler(ModelsAPIHandler):
    """``GET /models``: the algorithms; ``POST /models``: one algorithm's weights or classes."""

    @web.authenticated
    @authorized
    async def get(self):
        models = await self.call(self.service.models, self.username)
        self.write_json({"algorithms": [m["name"] for m in models if m["available"]], "models": models})

    @web.authenticated
    @authorized("read")
    async def post(self):
        fields, _ = self.payload()
        name = self.required(fields, "algorithm")
        info = await self.call(self.service.info, name)
        asked = requested_version(fields)
        version = info.version(asked)
        answer: dict = {"algorithm": info.name, "Model_path": version.id}
        want_weights, want_classes = truthy(fields.get("return_weights")), truthy(fields.get("return_classes"))
        if want_weights:
            chosen = [version] if asked else list(info.versions.values())
            answer["weights"] = [v.id for v in chosen]
            answer["details"] = {
                v.id: {
                    "format": v.format,
                    "size": v.size,
                    "sha256": v.sha256,
                    "metrics": v.metrics,
                    "saved_by": v.saved_by,
                    "saved_at": v.saved_at,
                }
                for v in chosen
            }
        if want_classes:
            answer["classes"] = version.classes
        if not (want_weights or want_classes):
            models = await self.call(self.service.models, self.username)
            answer["model"] = next(m for m in models if m["name"] == info.name)
        self.write_json(answer)

    @web.authenticated
    @authorized
    async def delete(self):
        fields, _ = self.payload()
        name = self.required(fields, "algorithm")
        version = requested_version(fields) or self.required(fields, "Model_path")
        await self.call(self.service.delete, name, version, self.username, is_admin=self.is_admin)
        self.set_status(204)
        self.finish()


class ConfigsHandler(ModelsAPIHandler):
    """The prediction config of the caller: set with a JSON file upload (or a JSON body)."""

    @web.authenticated
    @authorized
    async def get(self):
        config = await self.call(self.service.client_config, self.client)
        self.write_json({"client": self.client, "config": config})

    @web.authenticated
    @authorized
    async def post(self):
        fields, files = self.payload()
        if files:
            upload = next(iter(files.values()))[0]
            try:
                config = json.loads(upload["body"])
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"the uploaded file {upload['filename']!r} is not valid JSON ({exc})") from exc
        elif self.content_type() in FORM_TYPES:
            config = {k: v for k, v in fields.items()}
            for key, value in config.items():  # form values are text: numbers as numbers
                with contextlib.suppress(ValueError):
                    config[key] = json.loads(value) if key not in NAME_KEYS else value
        else:
            config = fields
        config = await self.call(self.service.set_client_config, self.client, config)
        self.write_json({"client": self.client, "config": config})


class Base64Handler(ModelsAPIHandler):
    """``POST /base64``: a zip of images (a file upload or the raw body) -> their base64 strings."""

    @web.authenticated
    @authorized("execute")
    async def post(self):
        if self.content_type() in FORM_TYPES:
            _, files = self.payload()
            if not files:
                raise InvalidInput("upload a zip file of images (multipart form, any field name)")
            data = next(iter(files.values()))[0]["body"]
        else:
            data = self.body
        if not data:
            raise InvalidInput("the request has no zip: upload one as a file or send it as the body")
        encoded, _names = await asyncio.get_running_loop().run_in_executor(self.service.executor, zip_to_base64, data)
        self.write_json(encoded)


class PredictHandler(ModelsAPIHandler):
    """``POST /predict``: ``images`` (base64 list), ``rows`` (records) or a CSV body -> ``Responses``."""

    @web.authenticated
    @authorized("execute")
    async def post(self):
        if self.content_type() in ("text/csv", "application/csv"):
            fields = {k: self.get_query_argument(k) for k in self.request.query_arguments if k != "token"}
            name, version, _ = self.service.effective_config(self.client, fields)
            schema = self.service.info(name).version(version).input_schema
            if schema["type"] != "table":
                raise InvalidInput(f"model {name!r} takes images; a CSV body is for table models")
            try:
                text = self.body.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidInput("the CSV body is not UTF-8 text") from exc
            fields["rows"] = csv_rows(text, schema)
        else:
            fields, _ = self.payload()
        self.write_json(await self.service.predict(self.username, self.client, fields))


class HealthHandler(ModelsAPIHandler):
    @web.authenticated
    @authorized
    async def get(self):
        models = await self.call(self.service.models, self.username)
        unavailable = [
            {"algorithm": m["name"], "Model_path": v["version"], "reason": v["reason"]}
            for m in models
            for v in m["versions"]
            if not v["available"]
        ]
        answer = {"status": "ok", "models": len(models), "unavailable": unavailable}
        workers = self.settings.get("mlapp_workers")  # `jupyter mlapp serve` and its worker processes
        if workers:
            answer["workers"] = workers()
        self.write_json(answer)


class VersionHandler(ModelsAPIHandler):
    @web.authenticated
    @authorized
    def get(self):
        self.write_json({"version": __version__, "api": API_VERSION})
