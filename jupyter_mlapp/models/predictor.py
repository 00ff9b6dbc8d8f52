"""Predictions: checked inputs, an adaptive micro-batcher, and the service that serves the registry.

``ModelService`` loads every model of a registry once (a model that fails to load is listed as
unavailable with its reason), answers predictions in the shape the original Flask service used
(``{"Responses": [[result, image], ...]}``), and batches concurrent requests for the same model:
while one batch runs in a worker thread, new requests queue, and the next batch takes them all
(up to ``max_batch_size``), so a heavy model answers many clients for the price of one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import math
import os
import time
import warnings
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import Forbidden, InvalidInput, MLAppError, TooLarge
from . import images
from .registry import ModelRegistry, Version, check_config, check_name

log = logging.getLogger(__name__)

ROIS = "rois [y_min, x_min, y_max, x_max]"
MAX_INPUTS = 1000  # rows or images per request
MAX_CSV_ROWS = MAX_INPUTS


def _check_value(value, kind: str, where: str):
    """One cell of a row, checked against its column type; returns the value the model gets."""
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{where} must be a number, not {type(value).__name__} {value!r}"[:200])
        if not math.isfinite(value):
            raise InvalidInput(f"{where} must be a finite number")
        if kind == "integer" and value != int(value):
            raise InvalidInput(f"{where} must be a whole number, not {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(f"{where} must be true or false, not {value!r}"[:200])
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, not {type(value).__name__}")
    return value


def check_rows(rows, schema: dict) -> list[list]:
    """Records (``[{"column": value, ...}, ...]``) as lists of values in the schema's column order.

    Wrong, missing or unknown columns and wrong types are refused naming the row and the column.
    """
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("rows must be a non-empty list of records ({column: value})")
    if len(rows) > MAX_INPUTS:
        raise TooLarge(f"{len(rows)} rows in one request; send at most {MAX_INPUTS}")
    columns = schema["columns"]
    names = [c["name"] for c in columns]
    expected = set(names)
    checked = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"rows[{i}] must be a record ({{column: value}}), not {type(row).__name__}")
        if row.keys() != expected:
            missing = [n for n in names if n not in row]
            unknown = sorted(str(k) for k in row if k not in expected)
            problems = ([f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
            )
            raise InvalidInput(f"rows[{i}]: {'; '.join(problems)}; the model takes {', '.join(names)}"[:500])
        checked.append([_check_value(row[c["name"]], c["type"], f"rows[{i}][{c['name']!r}]") for c in columns])
    return checked


def csv_rows(text: str, schema: dict) -> list[dict]:
    """A CSV body with a header line as records, each cell converted to its column's type."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV body is empty; send a header line and one line per row") from None
    except csv.Error as exc:
        raise InvalidInput(f"the CSV body cannot be read ({exc})") from exc
    types = {c["name"]: c["type"] for c in schema["columns"]}
    convert = {
        "number": float,
        "integer": int,
        "boolean": lambda v: {"true": True, "false": False}[v.lower()],
        "string": str,
    }
    rows = []
    try:
        for line, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(header):
                raise InvalidInput(f"CSV line {line} has {len(values)} values for {len(header)} columns")
            if len(rows) >= MAX_CSV_ROWS:
                raise TooLarge(f"more than {MAX_CSV_ROWS} CSV rows in one request")
            row = {}
            for name, value in zip(header, values, strict=True):
                try:
                    row[name] = convert[types[name]](value) if name in types else value
                except (ValueError, KeyError):
                    raise InvalidInput(
                        f"CSV line {line}, column {name!r}: {value!r} is not a {types[name]}"[:300]
                    ) from None
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV body cannot be read ({exc})") from exc
    return rows


class Predictor:
    """One loaded model version: turns checked inputs into raw outputs, and raw outputs into results."""

    def __init__(self, model, schema: dict, task: str, classes: list[str] | None = None):
        self.model = model
        self.schema = schema
        self.task = task
        self.classes = classes or [str(c) for c in getattr(model, "classes_", [])]
        self._feature_names = getattr(model, "feature_names_in_", None)
        self._numeric = self.schema.get("type") == "table" and all(
            c["type"] in ("number", "integer") for c in self.schema["columns"]
        )

    def features(self, rows: list[list]):
        """The batch as the model reads it: a float array for numeric columns (already checked by
        name, in the model's order), else a DataFrame with the column names and types."""
        if self._numeric:
            return np.asarray(rows, dtype=np.float64)
        import pandas as pd

        return pd.DataFrame(rows, columns=[c["name"] for c in self.schema["columns"]]).infer_objects()

    def _call(self, method, X):
        if self._numeric and self._feature_names is not None:
            # A DataFrame costs ~5x the model call itself; the names were checked in check_rows.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "X does not have valid feature names", UserWarning)
                return method(X)
        return method(X)

    def run(self, inputs: list) -> list:
        """Raw outputs for a batch (called in a worker thread): probabilities, labels or detections.

        Inputs passed the schema; what the model still refuses of them (a value out of its
        range, a category it never saw) is the input's problem, told as such: a 400, never a 500.
        """
        try:
            return self._run(inputs)
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
            raise InvalidInput(f"the model cannot predict this input: {type(exc).__name__}: {exc}"[:500]) from exc

    def _run(self, inputs: list) -> list:
        if self.task == "detection":
            return list(self.model.detect(inputs))
        if self.schema.get("type") == "image":
            X = np.stack([x.reshape(-1) if self.schema.get("flatten", True) else x for x in inputs])
        else:
            X = self.features(inputs)
        if self.task == "classification" and hasattr(self.model, "predict_proba"):
            return list(self._call(self.model.predict_proba, X))
        return list(self._call(self.model.predict, X))

    def result(self, raw, config: dict) -> dict:
        """One raw output in the response shape of the original Flask service."""
        min_confidence = float(config.get("DETECTION_MIN_CONFIDENCE") or 0.0)
        if self.task == "detection":
            keep = [i for i, s in enumerate(raw["scores"]) if s >= min_confidence]
            return {
                "class_name": [str(raw["class_name"][i]) for i in keep],
                "scores": [round(float(raw["scores"][i]), 6) for i in keep],
                ROIS: [[int(v) for v in raw["rois"][i]] for i in keep],
            }
        if self.task == "classification":
            if np.ndim(raw) == 0:  # a classifier without predict_proba: its label, fully confident
                label = str(raw)
                names = self.classes
                if label in [str(c) for c in getattr(self.model, "classes_", [])]:
                    label = names[[str(c) for c in self.model.classes_].index(label)]
                return {"class_name": [label], "scores": [1.0]}
            top_k = int(config.get("TOP_K") or 1)
            order = np.argsort(-raw)[:top_k]
            keep = [i for i in order if raw[i] >= min_confidence]
            return {"class_name": [self.classes[i] for i in keep], "scores": [round(float(raw[i]), 6) for i in keep]}
        return {"class_name": [], "scores": [], "value": float(raw)}


def check_sample_prediction(model, schema: dict, examples: list[dict], task: str) -> None:
    """Refuse to save a model that its own sample does not fit (an ``X`` with other columns than
    it was trained on): saved, every prediction would fail. The sample (``X``'s first rows, or a
    row of zeros for numbers only) takes the path a prediction takes."""
    if schema.get("type") != "table" or not hasattr(model, "predict"):
        return
    columns = [c["name"] for c in schema["columns"]]
    trained = getattr(model, "feature_names_in_", None)
    if trained is not None and [str(c) for c in trained] != columns:
        raise InvalidInput(
            f"X has the columns {', '.join(columns)} but the model was trained on {', '.join(map(str, trained))}: "
            "save it with the X it was trained on"[:500]
        )
    rows = None
    if examples:
        with contextlib.suppress(InvalidInput):  # missing values in the sample: not the model's fault
            rows = check_rows(examples, schema)
    if rows is None and all(c["type"] in ("number", "integer") for c in schema["columns"]):
        rows = [[0] * len(columns)]
    if rows is None:
        return
    try:
        Predictor(model, schema, task).run(rows)
    except InvalidInput as exc:
        raise InvalidInput(
            f"the model cannot predict a sample of X ({exc.message}): save it with the X it was trained on"[:500]
        ) from exc


class MicroBatcher:
    """Runs ``fn(list_of_inputs) -> list_of_outputs`` on batches of concurrent requests.

    Adaptive: a lone request runs at once (no added latency). When requests arrive while a batch
    runs, they queue, and the next batch takes everything queued, up to ``max_batch_size``
    inputs; under such concurrent load it also waits for more, so a burst fills a batch: up to
    ``max_wait`` seconds, and never longer than the last model call took (for a model that
    answers in 0.2 ms, waiting 2 ms would cost more latency than batching saves). One batch per
    model runs at a time, in ``executor``, so the event loop keeps accepting and answering
    requests meanwhile.
    """

    def __init__(self, fn: Callable[[list], list], max_batch_size: int = 64, max_wait: float = 0.002, executor=None):
        if max_batch_size < 1 or max_wait < 0:
            raise ValueError("max_batch_size must be >= 1 and max_wait >= 0")
        self.fn = fn
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.executor = executor
        self._queue: deque[tuple[list, asyncio.Future]] = deque()
        self._worker: asyncio.Task | None = None
        self._concurrent = False  # did the last batch hold more than one request?
        self._last_call = 0.0  # seconds the last model call took
        self.batches = 0
        self.inputs = 0

    async def submit(self, inputs: list) -> list:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((inputs, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return await future

    def _take(self) -> list[tuple[list, asyncio.Future]]:
        batch, size = [], 0
        while self._queue and (not batch or size + len(self._queue[0][0]) <= self.max_batch_size):
            inputs, future = self._queue.popleft()
            if not future.cancelled():
                batch.append((inputs, future))
                size += len(inputs)
        return batch

    def _queued(self) -> int:
        return sum(len(inputs) for inputs, _ in self._queue)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            wait = min(self.max_wait, self._last_call)
            if self._concurrent and wait > 0 and self._queued() < self.max_batch_size:
                await asyncio.sleep(wait)
            batch = self._take()
            if not batch:
                continue
            self._concurrent = len(batch) > 1
            flat = [x for inputs, _ in batch for x in inputs]
            self.batches += 1
            self.inputs += len(flat)
            started = time.perf_counter()
            try:
                outputs = await loop.run_in_executor(self.executor, self.fn, flat)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exception=exc)
                else:  # one request's input broke the batch: answer each request on its own
                    for inputs, future in batch:
                        try:
                            _settle(future, await loop.run_in_executor(self.executor, self.fn, inputs))
                        except Exception as alone:
                            _settle(future, exception=alone)
                continue
            self._last_call = time.perf_counter() - started
            start = 0
            for inputs, future in batch:
                _settle(future, outputs[start : start + len(inputs)])
                start += len(inputs)


def _settle(future: asyncio.Future, result=None, exception: BaseException | None = None) -> None:
    if future.done():  # the client went away
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


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

    # -- loading -----------------------------------------------------------------------------
    def load_all(self) -> None:
        """Load every model now (pickles wait for their owner): failures are kept with their reason."""
        for info in self.registry.list():
            for version in info.versions.values():
                if version.format != "pickle":
                    self._load(version, version.saved_by)

    def _load(self, version: Version, user: str) -> Loaded:
        key = (version.name, version.model_path)
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
            log.warning("model %s/%s is unavailable: %s", version.name, version.model_path, reason)
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

    def _served(self, name: str, model_path: str | None, user: str) -> tuple[Version, Loaded | None]:
        """The registry's version and what we serve of it, if that is current."""
        version = self.info(name).version(model_path)
        if version.format == "pickle" and version.saved_by != user:  # on every request, loaded or not
            raise Forbidden(
                f"weights {version.model_path!r} of {name!r} are a pickle saved by "
                f"{version.saved_by}: only they may use it"
            )
        entry = (self._pickles if version.format == "pickle" else self._loaded).get((name, version.model_path))
        return version, entry if entry is not None and entry.version.sha256 == version.sha256 else None

    def entry(self, name: str, model_path: str | None, user: str) -> Loaded:
        """The loaded version, (re)loaded if the registry holds newer weights than we serve."""
        version, entry = self._served(name, model_path, user)
        entry = entry or self._load(version, user)
        if entry.error:
            raise ModelUnavailable(f"model {name!r} weights {version.model_path!r} is unavailable: {entry.error}")
        return entry

    def delete(self, name: str, model_path: str, user: str, is_admin: bool = False) -> None:
        """Retire a weights version (its saver or an admin): it stops serving at once."""
        self.registry.delete(name, model_path, user, is_admin)
        self._cache.pop(("model", name), None)
        self._loaded.pop((name, model_path), None)
        self._pickles.pop((name, model_path), None)

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
                loaded = self._loaded.get((version.name, version.model_path))
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
        return self._cached(("config", client), lambda: self.registry.get_config(client))

    def set_client_config(self, client: str, config) -> dict:
        config = self.registry.set_config(client, config)
        self._cache[("config", client)] = (time.monotonic(), config)
        return config

    def effective_config(self, client: str, payload: dict | None = None) -> tuple[str, str, dict]:
        """Which model, which weights and which settings a prediction of ``client`` uses.

        The request's own ``algorithm``/``Model_path``/``config`` first, then the client's saved
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
        model_path = payload.get("Model_path") or (
            saved.get("Model_path") if saved.get("algorithm") in (None, name) else None
        )
        if model_path is not None:
            check_name(model_path, "Model_path")
        version = self.info(name).version(model_path)
        config = {**version.config, **{k: v for k, v in saved.items() if saved.get("algorithm") in (None, name)}}
        config.update(check_config(payload.get("config")))
        config.update(algorithm=name, Model_path=version.model_path)
        return name, version.model_path, config

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
        name, model_path, config = self.effective_config(client, payload)
        loop = asyncio.get_running_loop()
        if self._served(name, model_path, user)[1] is not None:
            entry = self.entry(name, model_path, user)
        else:  # new weights (or a first use): loading can take a while, keep the loop serving
            entry = await loop.run_in_executor(self.executor, self.entry, name, model_path, user)
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
        name, model_path, config = self.effective_config(user, payload)
        entry = self.entry(name, model_path, user)
        inputs, pictures = self.parse(entry, payload)
        return self.respond(
            entry, config, entry.predictor.run(inputs), pictures, truthy(payload.get("create_images", False))
        )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class ModelUnavailable(MLAppError):
    status = 409


def truthy(value) -> bool:
    """``True``, ``"True"``, ``"true"``, ``"1"``: what form-encoded and JSON clients send."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)
