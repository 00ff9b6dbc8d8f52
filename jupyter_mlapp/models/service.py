"""The prediction service: the models of a registry, loaded, batched and answering requests.

``ModelService`` loads every model of a registry once (a model that fails to load is listed as
unavailable with its reason), answers predictions in the shape the original Flask service used
(``{"Responses": [[result, image], ...]}``), and batches concurrent requests for the same model:
while one batch runs in a worker thread, new requests queue, and the next batch takes them all
(up to ``max_batch_size``), so a heavy model answers many clients for the price of one call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..errors import Forbidden, InvalidInput, MLAppError, TooLarge
from ..settings import truthy
from . import images
from .batching import MicroBatcher
from .inputs import MAX_INPUTS, check_rows
from .predictor import Predictor
from .registry import ModelRegistry, Version, check_config, check_name, requested_version

MAX_CONFIG_COPIES = 10_000  # clients' configs a thread keeps a copy of (cleared past it)

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    version: Version
    predictor: Predictor | None = None
    batcher: MicroBatcher | None = None
    error: str | None = None


class ModelService:
    """The models of a registry, loaded and ready to predict, for the server and for widgets."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        max_batch_size: int = 64,
        max_wait: float = 0.002,
        refresh: float = 1.0,
        threads: int | None = None,
    ):
        self.registry = registry or ModelRegistry()
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.refresh = refresh
        self.executor = ThreadPoolExecutor(
            max_workers=threads or min(4, os.cpu_count() or 1), thread_name_prefix="mlapp-models"
        )
        self._loaded: dict[tuple[str, str], Loaded] = {}
        self._pickles: dict[tuple[str, str], Loaded] = {}  # apart: each is only for its saver
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._configs = threading.local()  # {client: (data_version, config)} of this thread's connection

    # -- loading -----------------------------------------------------------------------------
    def load_all(self) -> None:
        """Load every model now (pickles wait for their owner): failures are kept with their reason."""
        for info in self.registry.list():
            for version in info.versions.values():
                if version.format != "pickle":
                    self._load(version, version.saved_by)

    def _load(self, version: Version, user: str) -> Loaded:
        key = (version.name, version.id)
        try:
            model = self.registry.load(version, user)
            predictor = Predictor(model, version.input_schema, version.task, version.classes)
            entry = Loaded(
                version, predictor, MicroBatcher(predictor.run, self.max_batch_size, self.max_wait, self.executor)
            )
        except Forbidden:
            raise
        except Exception as exc:  # any failure of a user's model: listed with its reason, server keeps going
            reason = str(exc) if isinstance(exc, MLAppError) else f"{type(exc).__name__}: {exc}"
            log.warning("model %s/%s is unavailable: %s", version.name, version.id, reason)
            entry = Loaded(version, error=reason[:500])
        (self._pickles if version.format == "pickle" else self._loaded)[key] = entry
        return entry

    def _cached(self, key, compute: Callable[[], Any]):
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and now - hit[0] < self.refresh:
            return hit[1]
        value = compute()
        self._cache[key] = (now, value)
        return value

    def info(self, name):
        """The registry's record of a model, re-read at most every ``refresh`` seconds."""
        if not isinstance(name, str):
            raise InvalidInput("algorithm must be a string")
        return self._cached(("model", name), lambda: self.registry.get(name))

    def _served(self, name: str, version: str | None, user: str) -> tuple[Version, Loaded | None]:
        """The registry's record of ``version`` (default: the latest) and what we serve of it, if that is current."""
        recorded = self.info(name).version(version)
        if recorded.format == "pickle" and recorded.saved_by != user:  # on every request, loaded or not
            raise Forbidden(
                f"weights {recorded.id!r} of {name!r} are a pickle saved by {recorded.saved_by}: only they may use it"
            )
        entry = (self._pickles if recorded.format == "pickle" else self._loaded).get((name, recorded.id))
        return recorded, entry if entry is not None and entry.version.sha256 == recorded.sha256 else None

    def entry(self, name: str, version: str | None, user: str) -> Loaded:
        """The loaded version, (re)loaded if the registry holds newer weights than we serve."""
        recorded, entry = self._served(name, version, user)
        entry = entry or self._load(recorded, user)
        if entry.error:
            raise ModelUnavailable(f"model {name!r} weights {recorded.id!r} is unavailable: {entry.error}")
        return entry

    def delete(self, name: str, version: str, user: str, is_admin: bool = False) -> None:
        """Retire a weights version (its saver or an admin): it stops serving at once."""
        self.registry.delete(name, version, user, is_admin)
        self._cache.pop(("model", name), None)
        self._loaded.pop((name, version), None)
        self._pickles.pop((name, version), None)

    # -- listing -------------------------------------------------------------------------------
    def models(self, user: str) -> list[dict]:
        """Every model with, per weights version, whether it can serve ``user`` (and why not)."""
        listed = []
        for info in self.registry.list():
            model = info.to_dict()
            model["versions"] = []
            for version in info.versions.values():
                data = version.to_dict()
                data.pop("file")
                data.pop("trusted_types")
                loaded = self._loaded.get((version.name, version.id))
                if version.format == "pickle" and version.saved_by != user:
                    data["available"], data["reason"] = False, f"a pickle: only {version.saved_by} may use it"
                elif loaded and loaded.version.sha256 == version.sha256:
                    data["available"], data["reason"] = loaded.error is None, loaded.error
                else:
                    data["available"], data["reason"] = True, None  # loaded on first use
                model["versions"].append(data)
            model["available"] = any(v["available"] for v in model["versions"])
            listed.append(model)
        return listed

    # -- configs ---------------------------------------------------------------------------------
    def client_config(self, client: str) -> dict:
        """``client``'s saved config as stored now: a copy is used only while the registry's
        database is unchanged (SQLite's ``data_version``, which another connection's commit moves).
        The article's client stores its config and predicts at once, and with several workers the
        one predicting may not be the one that stored it (a copy of up to a second answered 400)."""
        copies = self._config_copies()
        version = self.registry.data_version()
        copy = copies.get(client)
        if copy is not None and copy[0] == version:
            return copy[1]
        config = self.registry.get_config(client)
        self._keep_config(client, version, config)
        return config

    def set_client_config(self, client: str, config) -> dict:
        config = self.registry.set_config(client, config)
        # The connection's own commit leaves its counter as it was: this thread's copy is replaced.
        self._keep_config(client, self.registry.data_version(), config)
        return config

    def _config_copies(self) -> dict[str, tuple[int, dict]]:
        copies = getattr(self._configs, "copies", None)
        if copies is None:  # per thread, as the connection whose counter they are checked against
            copies = self._configs.copies = {}
        return copies

    def _keep_config(self, client: str, version: int, config: dict) -> None:
        copies = self._config_copies()
        if len(copies) >= MAX_CONFIG_COPIES:
            copies.clear()
        copies[client] = (version, config)

    def effective_config(self, client: str, payload: dict | None = None) -> tuple[str, str, dict]:
        """Which model, which weights and which settings a prediction of ``client`` uses.

        The request's own ``algorithm``/``Model_path`` (or ``version``)/``config`` first, then the client's saved
        config (``POST /configs``), then the model's defaults; with one model, that model.
        """
        payload = payload or {}
        saved = self.client_config(client)
        name = payload.get("algorithm") or saved.get("algorithm")
        if not name:
            names = [m.name for m in self.registry.list()]
            if len(names) != 1:
                raise InvalidInput(
                    "which model? pass algorithm, or set it once with POST /configs; "
                    f"available: {', '.join(names) or 'none yet'}"
                )
            name = names[0]
        check_name(name, "algorithm")
        asked = requested_version(payload) or (
            saved.get("Model_path") if saved.get("algorithm") in (None, name) else None
        )
        if asked is not None:
            check_name(asked, "Model_path")
        version = self.info(name).version(asked)
        config = {**version.config, **{k: v for k, v in saved.items() if saved.get("algorithm") in (None, name)}}
        config.update(check_config(payload.get("config")))
        config.update(algorithm=name, Model_path=version.id)
        return name, version.id, config

    # -- predicting ------------------------------------------------------------------------------
    def parse(self, entry: Loaded, payload: dict) -> tuple[list, list | None]:
        """The request's inputs, checked: model inputs, and the decoded images (to draw on)."""
        schema = entry.version.input_schema
        has_images, has_rows = payload.get("images") is not None, payload.get("rows") is not None
        if has_images == has_rows:
            raise InvalidInput("send either images (a list of base64 strings) or rows (a list of records)")
        if schema["type"] == "image":
            if not has_images:
                raise InvalidInput(f"model {entry.version.name!r} takes images, not rows")
            encoded = payload["images"]
            if not isinstance(encoded, list) or not encoded:
                raise InvalidInput("images must be a non-empty list of base64 strings")
            if len(encoded) > MAX_INPUTS:
                raise TooLarge(f"{len(encoded)} images in one request; send at most {MAX_INPUTS}")
            pictures = [
                images.open_image(images.decode_base64(text, f"images[{i}]"), f"images[{i}]")
                for i, text in enumerate(encoded)
            ]
            pixels = sum(p.width * p.height for p in pictures)  # from the headers, before decoding
            if pixels > images.MAX_PIXELS:
                raise TooLarge(
                    f"the images hold {pixels:,} pixels together, more than the {images.MAX_PIXELS:,} "
                    f"one request may; send them in several requests"
                )
            inputs = [images.image_array(p, schema, f"images[{i}]") for i, p in enumerate(pictures)]
            return inputs, pictures
        if not has_rows:
            raise InvalidInput(
                f"model {entry.version.name!r} takes rows of {len(schema['columns'])} columns, not images"
            )
        return check_rows(payload["rows"], schema), None

    def respond(self, entry: Loaded, config: dict, outputs: list, pictures, create_images: bool) -> dict:
        results = [entry.predictor.result(raw, config) for raw in outputs]
        drawn = (
            [images.draw_result(p, r) for p, r in zip(pictures, results, strict=True)]
            if create_images and pictures
            else None
        )
        return {
            "Responses": [[{"results": r}, drawn[i] if drawn else None] for i, r in enumerate(results)],
            "algorithm": config["algorithm"],
            "Model_path": config["Model_path"],
        }

    async def predict(self, user: str, client: str, payload: dict) -> dict:
        """Predict for a request of the REST API; image decoding and the model run off the loop."""
        name, version, config = self.effective_config(client, payload)
        loop = asyncio.get_running_loop()
        if self._served(name, version, user)[1] is not None:
            entry = self.entry(name, version, user)
        else:  # new weights (or a first use): loading can take a while, keep the loop serving
            entry = await loop.run_in_executor(self.executor, self.entry, name, version, user)
        create_images = truthy(payload.get("create_images", False))
        if entry.version.input_schema["type"] == "image":
            inputs, pictures = await loop.run_in_executor(self.executor, self.parse, entry, payload)
        else:
            inputs, pictures = self.parse(entry, payload)
        outputs = await entry.batcher.submit(inputs)
        if create_images and pictures:
            return await loop.run_in_executor(self.executor, self.respond, entry, config, outputs, pictures, True)
        return self.respond(entry, config, outputs, pictures, False)

    def predict_now(self, user: str, payload: dict) -> dict:
        """The same prediction, synchronously and without batching (notebooks, widgets)."""
        name, version, config = self.effective_config(user, payload)
        entry = self.entry(name, version, user)
        inputs, pictures = self.parse(entry, payload)
        return self.respond(
            entry, config, entry.predictor.run(inputs), pictures, truthy(payload.get("create_images", False))
        )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class ModelUnavailable(MLAppError):
    status = 409
