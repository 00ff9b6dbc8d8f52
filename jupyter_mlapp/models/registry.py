"""``ModelRegistry``: trained models saved under a name, with named weights versions.

A model is saved under a name (the "algorithm" of the REST API) and a weights version named after
the collection it was trained on (``version``, e.g. ``coco``; ``Model_path`` in the Flask-compatible
API). Each version records its classes,
its input schema (columns and types, or image size), its prediction config defaults, its metrics,
who saved it and when, and the SHA-256 of its weights file.

Formats are safe by default: scikit-learn models are stored with skops, and the types a skops
file may hold come from a fixed allow-list, never from the file: skops' own defaults, classes of
scikit-learn, NumPy and SciPy, and what an admin adds (``c.MLApp.model_trusted_types``,
``$MLAPP_MODEL_TRUSTED_TYPES``); functions such as ``builtins.eval`` or ``functools.partial``
never. A model holding another type is refused at save, naming the types; at load the file must
match its checksum and pass the same check again. A raw pickle runs arbitrary code when loaded:
it is refused unless the saver marks it trusted, and it is only ever unpickled for the user who
saved it. Viewers (``current_role()`` in a kernel) save and delete nothing.

Layout: ``<root>/registry.sqlite`` (SQLite WAL: notebooks and servers save and read concurrently)
and ``<root>/<name>/<version>.<format>``.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import math
import os
import pickle
import re
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import current_role
from ..errors import Forbidden, InvalidInput, NotFound
from ..home import Database, Schema, atomic_write, room_dir, transaction
from .predictor import check_sample_prediction

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FORMATS = {"skops": "skops", "onnx": "onnx", "torchscript": "pt", "pickle": "pkl"}
COLUMN_TYPES = ("number", "integer", "string", "boolean")
IMAGE_MODES = ("L", "RGB")
MAX_CONFIG_BYTES = 64 * 1024
MAX_EXAMPLES = 5
TRUSTED_TYPES_ENV = "MLAPP_MODEL_TRUSTED_TYPES"  # more types a skops file may hold, separated by ','
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy")  # their classes (not functions) are trusted
# Never trusted, even by an admin's configuration: what runs code or reaches the system.
NEVER_TRUSTED = (
    "builtins",
    "functools",
    "operator",
    "os",
    "posix",
    "nt",
    "subprocess",
    "importlib",
    "sys",
    "shutil",
    "pickle",
    "marshal",
    "runpy",
    "code",
    "ctypes",
    "socket",
    "pty",
    "types",
)
STAFF = ("admin", "editor")
OUR_TYPES = ("jupyter_mlapp.models.detectors.BlobDetector",)  # ours, trusted like scikit-learn's

# Version 1 is the first release's; no change since.
SCHEMA = Schema(
    "models",
    """
CREATE TABLE IF NOT EXISTS versions (
    name          TEXT NOT NULL,
    model_path    TEXT NOT NULL,
    format        TEXT NOT NULL,
    file          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    trusted_types TEXT NOT NULL,
    task          TEXT NOT NULL,
    classes       TEXT NOT NULL,
    input_schema  TEXT NOT NULL,
    config        TEXT NOT NULL,
    metrics       TEXT NOT NULL,
    examples      TEXT NOT NULL,
    description   TEXT NOT NULL,
    saved_by      TEXT NOT NULL,
    saved_at      REAL NOT NULL,
    PRIMARY KEY (name, model_path)
);
CREATE TABLE IF NOT EXISTS configs (
    client     TEXT PRIMARY KEY,
    config     TEXT NOT NULL,
    updated_at REAL NOT NULL
);
""",
)


@dataclass(frozen=True)
class Version:
    """One weights version of a model, as the registry recorded it."""

    name: str
    id: str  # which weights of ``name`` (the ``Model_path`` of the Flask-compatible API, e.g. ``coco``)
    format: str
    file: str
    size: int
    sha256: str
    trusted_types: list[str]
    task: str  # classification, detection or regression
    classes: list[str]
    input_schema: dict
    config: dict
    metrics: dict
    examples: list[dict]
    description: str
    saved_by: str
    saved_at: float

    @property
    def kind(self) -> str:
        return "image" if self.input_schema.get("type") == "image" else "tabular"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["version"] = data.pop("id")
        data["model_path"] = data["version"]  # its old name, deprecated: answered for one more release
        data["kind"] = self.kind
        return data


@dataclass
class ModelInfo:
    """A model and its weights versions; ``latest`` is the version predictions use by default."""

    name: str
    versions: dict[str, Version] = field(default_factory=dict)

    @property
    def latest(self) -> Version:
        return max(self.versions.values(), key=lambda v: v.saved_at)

    def version(self, version: str | None = None) -> Version:
        if not version:
            return self.latest
        try:
            return self.versions[version]
        except KeyError:
            raise NotFound(
                f"model {self.name!r} has no weights {version!r}; it has: {', '.join(sorted(self.versions))}"
            ) from None

    def to_dict(self) -> dict:
        latest = self.latest
        return {
            "name": self.name,
            "kind": latest.kind,
            "task": latest.task,
            "classes": latest.classes,
            "input_schema": latest.input_schema,
            "weights": sorted(self.versions),
            "default_weights": latest.id,
            "saved_by": latest.saved_by,
            "saved_at": latest.saved_at,
            "size": sum(v.size for v in self.versions.values()),
        }


def never_trusted(name: str) -> bool:
    module = name.split(".", 1)[0]
    return module in NEVER_TRUSTED or any(word in name.split(".")[-1] for word in ("eval", "exec"))


def _is_class_of_trusted_package(name: str) -> bool:
    """Whether ``name`` (``module.Qual.name``) is a class defined in scikit-learn, NumPy or SciPy.
    Only those packages' modules are imported to find out; a function is not a class."""
    if name.split(".", 1)[0] not in TRUSTED_PACKAGES or never_trusted(name):
        return False
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return isinstance(obj, type) and obj.__module__.split(".", 1)[0] in TRUSTED_PACKAGES
    return False


def check_role(role: str | None, action: str) -> None:
    """Viewers save and delete no model; ``role`` None is this process's (``current_role()``)."""
    role = role or current_role()
    if role not in STAFF:
        raise Forbidden(f"{action} models is for editors: you are signed in as a {role}", detail={"role": role})


def check_name(value, what: str = "model name") -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InvalidInput(
            f"{what} {value!r} is not valid: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return value


def _json_safe(value):
    """NumPy scalars and arrays, and non-finite floats, as plain JSON values."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _column_type(dtype) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}.get(kind, "string")


def infer_input_schema(model, X=None, image: dict | None = None) -> dict:
    """The input a model takes: an image of a given size, or named and typed columns.

    ``X`` (a sample of the training data) gives column names and types; without it the model's
    own ``feature_names_in_`` or ``n_features_in_`` (all numbers) are used.
    """
    if image is not None:
        return check_image_schema({"type": "image", **image})
    if X is not None and hasattr(X, "dtypes") and hasattr(X, "columns"):
        columns = [{"name": str(c), "type": _column_type(t)} for c, t in zip(X.columns, X.dtypes, strict=False)]
    elif hasattr(model, "feature_names_in_"):
        columns = [{"name": str(c), "type": "number"} for c in model.feature_names_in_]
    elif hasattr(model, "n_features_in_"):
        columns = [{"name": f"x{i}", "type": "number"} for i in range(int(model.n_features_in_))]
    else:
        raise InvalidInput("cannot tell the model's input: pass input_schema=, X= (a sample) or image=")
    return {"type": "table", "columns": columns}


def check_image_schema(schema: dict) -> dict:
    height, width = schema.get("height"), schema.get("width")
    for what, value in (("height", height), ("width", width)):
        if value is not None and (not isinstance(value, int) or not 1 <= value <= 16384):
            raise InvalidInput(f"image {what} must be a whole number of pixels (1-16384) or None (any size)")
    mode = schema.get("mode", "L")
    if mode not in IMAGE_MODES:
        raise InvalidInput(f"image mode must be one of {', '.join(IMAGE_MODES)}")
    low, high = schema.get("value_range", (0, 1))
    return {
        "type": "image",
        "height": height,
        "width": width,
        "mode": mode,
        "value_range": [float(low), float(high)],
        "flatten": bool(schema.get("flatten", True)),
    }


def check_table_schema(schema: dict) -> dict:
    columns = schema.get("columns")
    if not isinstance(columns, list) or not columns:
        raise InvalidInput("input_schema needs a non-empty list of columns")
    for column in columns:
        if (
            not isinstance(column, dict)
            or not isinstance(column.get("name"), str)
            or column.get("type") not in COLUMN_TYPES
        ):
            raise InvalidInput(f"each column needs a name and a type among {', '.join(COLUMN_TYPES)}: {column!r}")
    return {"type": "table", "columns": [{"name": c["name"], "type": c["type"]} for c in columns]}


def task_of(model) -> str:
    if hasattr(model, "detect"):
        return "detection"
    if hasattr(model, "classes_"):
        return "classification"
    return "regression"


def class_names(model, classes) -> list[str]:
    """Display names of the model's classes, in the order of its ``classes_`` (or given)."""
    known = [str(c) for c in getattr(model, "classes_", [])]
    if classes is None:
        return known
    names = [str(c) for c in classes]
    if known and len(names) != len(known):
        raise InvalidInput(f"classes has {len(names)} names but the model has {len(known)} classes")
    return names


NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# The keys that hold names (version: Model_path's other name, see ModelRegistry.set_config).
NAME_KEYS = ("algorithm", "Model_path", "version")


def requested_version(fields: dict) -> str | None:
    """The weights version a request names: ``Model_path`` (the Flask-compatible name) or ``version``."""
    return fields.get("Model_path") or fields.get("version") or None


def _number_meant(key: str, value):
    """The article's configs.json writes numbers as text (``"0.7"``, ``"1024"``): read them as
    the numbers they mean. Names stay text (weights may be called ``"2024"``)."""
    if key in NAME_KEYS or not isinstance(value, str) or not NUMBER_TEXT.fullmatch(value.strip()):
        return value
    number = float(value)
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", value.strip()) else number


def check_config(config) -> dict:
    """A prediction config: a JSON object of plain values (thresholds, sizes, names); numbers
    written as text are read as numbers, keys we do not use are kept as given."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InvalidInput("a prediction config must be a JSON object")
    text = json.dumps(_json_safe(config))
    if len(text) > MAX_CONFIG_BYTES:
        raise InvalidInput(f"the prediction config is larger than {MAX_CONFIG_BYTES // 1024} KB")
    config = {key: _number_meant(key, value) for key, value in json.loads(text).items()}
    confidence = config.get("DETECTION_MIN_CONFIDENCE")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1
    ):
        raise InvalidInput("DETECTION_MIN_CONFIDENCE must be a number between 0 and 1")
    top_k = config.get("TOP_K")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 1000):
        raise InvalidInput("TOP_K must be a whole number between 1 and 1000")
    for key in ("algorithm", "Model_path"):
        if key in config and config[key] is not None:
            check_name(config[key], key)
    return config


class ModelRegistry:
    """The models of one folder: ``room_dir("models")`` by default, or ``root`` (``--models DIR``)."""

    def __init__(self, root: str | Path | None = None, home=None, trusted_types=None):
        self.root = Path(root).expanduser().resolve() if root else room_dir("models", home)
        if trusted_types is None:
            trusted_types = [t for t in os.environ.get(TRUSTED_TYPES_ENV, "").split(",") if t.strip()]
        refused = sorted(t.strip() for t in trusted_types if never_trusted(t.strip()))
        if refused:
            raise InvalidInput(f"these types can run code and are never trusted: {', '.join(refused)}")
        self.trusted_types = frozenset([*OUR_TYPES, *(t.strip() for t in trusted_types)])
        self.root.mkdir(parents=True, exist_ok=True)
        self.database = Database(self.root / "registry.sqlite", SCHEMA)  # a connection per thread

    @property
    def db(self) -> sqlite3.Connection:
        return self.database.connection()

    # -- saving ----------------------------------------------------------------------------
    def save(
        self,
        model,
        name: str,
        *,
        version: str = "default",
        user: str,
        X=None,
        classes=None,
        input_schema: dict | None = None,
        image: dict | None = None,
        config: dict | None = None,
        metrics: dict | None = None,
        description: str = "",
        format: str = "skops",
        trusted: bool = False,
        is_admin: bool = False,
        role: str | None = None,
    ) -> Version:
        """Save ``model`` as weights ``version`` of ``name``; returns the recorded version.

        ``format``: ``skops`` (scikit-learn and NumPy objects), ``onnx`` or ``torchscript`` (the
        model's serialized bytes or a path to them, loaded with onnxruntime or torch when
        installed), or ``pickle`` with ``trusted=True`` only. A viewer (``role``, default
        ``current_role()``) is refused.
        """
        check_role(role, "saving")
        check_name(name)
        check_name(version, "version")
        if format not in FORMATS:
            raise InvalidInput(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
        data, trusted_types = self._serialize(model, format, trusted)
        if format in ("onnx", "torchscript") and not classes:
            raise InvalidInput(f"a {format} model does not name its classes: pass classes=[...]")
        if input_schema is not None:
            schema = (
                check_image_schema(input_schema)
                if input_schema.get("type") == "image"
                else check_table_schema(input_schema)
            )
        else:
            schema = infer_input_schema(model, X, image)
        examples = []
        if X is not None and hasattr(X, "head"):
            examples = _json_safe(X.head(MAX_EXAMPLES).to_dict(orient="records"))
        if format in ("skops", "pickle"):
            check_sample_prediction(model, schema, examples, task_of(model))
        file = f"{name}/{version}.{FORMATS[format]}"
        with transaction(self.db):
            existing = self.db.execute(
                "SELECT saved_by FROM versions WHERE name = ? AND model_path = ?", (name, version)
            ).fetchone()
            if existing and existing["saved_by"] != user and not is_admin:
                raise Forbidden(
                    f"weights {version!r} of {name!r} belong to {existing['saved_by']}; save under another name"
                )
            atomic_write(self.root / file, data)
            row = (
                name,
                version,
                format,
                file,
                len(data),
                hashlib.sha256(data).hexdigest(),
                json.dumps(trusted_types),
                task_of(model) if format in ("skops", "pickle") else "classification",
                json.dumps(class_names(model, classes)),
                json.dumps(schema),
                json.dumps(check_config(config)),
                json.dumps(_json_safe(metrics or {})),
                json.dumps(examples),
                str(description),
                user,
                time.time(),
            )
            self.db.execute("INSERT OR REPLACE INTO versions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
        return self.get(name).versions[version]

    def untrusted(self, types) -> list[str]:
        """Those of ``types`` (what skops does not trust by itself) that our allow-list refuses."""
        return sorted(
            t
            for t in types
            if never_trusted(t) or (t not in self.trusted_types and not _is_class_of_trusted_package(t))
        )

    def _skops_types(self, data: bytes, when: str) -> list[str]:
        """The types of a skops file beyond skops' defaults, all of them allowed, else refused."""
        import skops.io

        types = sorted(skops.io.get_untrusted_types(data=data))
        refused = self.untrusted(types)
        if refused:
            raise InvalidInput(
                f"{when}: the model holds types that are not trusted: {', '.join(refused)}. Models may hold "
                "scikit-learn, NumPy and SciPy classes; an admin may trust more (c.MLApp.model_trusted_types)",
                detail={"untrusted_types": refused},
            )
        return types

    def _serialize(self, model, format: str, trusted: bool) -> tuple[bytes, list[str]]:
        if format == "skops":
            import skops.io

            try:
                data = skops.io.dumps(model)
            except Exception as exc:  # skops names the type it cannot store
                raise InvalidInput(
                    f"skops cannot store this model ({exc}); use onnx or torchscript, "
                    f"or pickle with trusted=True if you trust every reader"
                ) from exc
            return data, self._skops_types(data, "not saved")
        if format == "pickle":
            if not trusted:
                raise InvalidInput(
                    "a pickle runs any code when loaded: save with skops (the default), or "
                    "pass trusted=True to keep a pickle that only you will load"
                )
            return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), []
        if isinstance(model, (str, Path)):
            return Path(model).read_bytes(), []
        if isinstance(model, (bytes, bytearray)):
            return bytes(model), []
        raise InvalidInput(f"for format {format!r} pass the model's serialized bytes or a path to its file")

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def _version(row) -> Version:
        data = dict(row)
        data["id"] = data.pop("model_path")  # the column keeps the name the first schema gave it
        for key in ("trusted_types", "classes", "input_schema", "config", "metrics", "examples"):
            data[key] = json.loads(data[key])
        return Version(**data)

    def list(self) -> list[ModelInfo]:
        models: dict[str, ModelInfo] = {}
        for row in self.db.execute("SELECT * FROM versions ORDER BY name, model_path"):
            version = self._version(row)
            models.setdefault(version.name, ModelInfo(version.name)).versions[version.id] = version
        return list(models.values())

    def get(self, name) -> ModelInfo:
        rows = (
            self.db.execute("SELECT * FROM versions WHERE name = ?", (name,)).fetchall()
            if isinstance(name, str)
            else []
        )
        if not rows:
            known = ", ".join(m.name for m in self.list()) or "none yet"
            raise NotFound(f"unknown algorithm {name!r}; available: {known}")
        info = ModelInfo(name)
        for row in rows:
            version = self._version(row)
            info.versions[version.id] = version
        return info

    def load(self, version: Version, user: str):
        """The model object of ``version``, checked against what the registry recorded."""
        data = (self.root / version.file).read_bytes()
        if hashlib.sha256(data).hexdigest() != version.sha256:
            raise InvalidInput(f"the weights file {version.file} changed since it was saved; save the model again")
        if version.format == "skops":
            import skops.io

            # Checked again: the allow-list may have shrunk, or the record be older than it.
            types = self._skops_types(data, f"weights {version.id!r} of {version.name!r} not loaded")
            return skops.io.loads(data, trusted=types)
        if version.format == "pickle":
            if version.saved_by != user:
                raise Forbidden(
                    f"weights {version.id!r} of {version.name!r} are a pickle saved by "
                    f"{version.saved_by}: only they may load it"
                )
            return pickle.loads(data)
        if version.format == "onnx":
            from .runtimes import OnnxModel

            return OnnxModel(data, version.classes)
        from .runtimes import TorchScriptModel

        return TorchScriptModel(io.BytesIO(data), version.classes)

    def delete(self, name: str, version: str, user: str, is_admin: bool = False, role: str | None = None) -> None:
        check_role(role, "deleting")
        recorded = self.get(name).version(version)
        if recorded.saved_by != user and not is_admin:
            raise Forbidden(f"weights {version!r} of {name!r} belong to {recorded.saved_by}")
        with transaction(self.db):
            self.db.execute("DELETE FROM versions WHERE name = ? AND model_path = ?", (name, version))
        (self.root / recorded.file).unlink(missing_ok=True)

    # -- per-client prediction configs -------------------------------------------------------
    def data_version(self) -> int:
        """SQLite's counter of this thread's connection that another connection's commit moves
        (a worker's or a process's): what a copy of a stored value is checked against."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def get_config(self, client: str) -> dict:
        row = self.db.execute("SELECT config FROM configs WHERE client = ?", (client,)).fetchone()
        return json.loads(row["config"]) if row else {}

    def set_config(self, client: str, config: dict) -> dict:
        """Store the prediction config of one user or API client (checked against the registry).

        The weights are named ``Model_path`` (the Flask-compatible name) or ``version``, as the rest
        of the API takes them; they are stored as ``Model_path``, which predictions and the answers read.
        """
        config = check_config(config)
        version = config.pop("version", None)
        if version is not None:
            if config.get("Model_path") not in (None, version):
                raise InvalidInput(
                    f"Model_path {config['Model_path']!r} and version {version!r} name different weights: give one"
                )
            config["Model_path"] = check_name(version, "version")
        if config.get("algorithm"):
            self.get(config["algorithm"]).version(config.get("Model_path"))
        elif config.get("Model_path"):
            raise InvalidInput("Model_path (or version) needs an algorithm")
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO configs VALUES (?, ?, ?)", (client, json.dumps(config), time.time())
            )
        return config
