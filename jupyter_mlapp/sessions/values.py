"""How a value of the app state becomes bytes on disk, and back.

Each value is stored in the safest format that keeps it exactly: plain values as JSON, pandas
objects as Parquet, numpy arrays as ``.npy`` without pickles, scikit-learn models with skops,
paths as paths, bytes as they are. Arbitrary pickles only when the user opted in, and they are
only ever loaded back for the user who wrote them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import Forbidden, InvalidInput

# The kinds of stored values (``kind_of`` picks one).
JSON, TIME, PATH, BYTES, FRAME, SERIES, ARRAY, SKOPS, BUNDLE, PICKLE = (
    "json",
    "time",
    "path",
    "bytes",
    "parquet",
    "series",
    "npy",
    "skops",
    "bundle",
    "pickle",
)


@dataclass
class Encoded:
    """A value as stored: its kind, a little metadata (JSON) and its bytes."""

    kind: str
    data: bytes
    meta: dict = field(default_factory=dict)


def _is_plain(value, depth: int = 0) -> bool:
    """True for values JSON keeps (numbers, text, lists, tuples, dicts with text keys)."""
    if depth > 100:
        return False
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:  # numpy floats subclass float but are kept as numpy scalars
        return True
    if type(value) in (list, tuple):
        return all(_is_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_plain(v, depth + 1) for k, v in value.items())
    return False


def kind_of(value, allow_pickle: bool = False) -> str:
    """How ``value`` would be stored; ``InvalidInput`` saying which types can be kept if it cannot.

    Cheap (no serialization): the state checks a value when it is set and encodes it later, off
    the kernel's thread.
    """
    if _is_plain(value):
        return JSON
    if isinstance(value, (dt.date, dt.time)):  # date pickers; a datetime is a date
        return TIME
    if isinstance(value, pathlib.PurePath):
        return PATH
    if isinstance(value, (bytes, bytearray)):
        return BYTES
    pd = _module_if_loaded("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return FRAME
    if pd is not None and isinstance(value, pd.Series):
        return SERIES
    np = _module_if_loaded("numpy")
    if np is not None and isinstance(value, (np.ndarray, np.generic)) and value.dtype != object:
        return ARRAY
    base = _module_if_loaded("sklearn.base")
    if base is not None and isinstance(value, base.BaseEstimator):
        return SKOPS
    if _is_container(value):  # (model, metrics), {"model": ..., "data": frame}: each part in its format
        for part in _parts(value).values():
            kind_of(part, allow_pickle)
        return BUNDLE
    if allow_pickle:
        return PICKLE
    raise InvalidInput(
        f"cannot keep a value of type {type(value).__module__}.{type(value).__qualname__}: use plain "
        f"values (numbers, text, lists, dicts), dates, paths, bytes, DataFrames, numpy arrays or "
        f"scikit-learn models, or opt in to pickles with allow_pickle=True"
    )


def encode(value, allow_pickle: bool = False) -> Encoded:
    """``value`` as bytes, with a short summary of it in the metadata."""
    kind = kind_of(value, allow_pickle)
    meta: dict = {"summary": describe(value)}
    if kind == JSON:
        # Widgets hold tuples (range sliders, multiple selections): the outer one comes back as
        # a tuple; nested ones come back as lists, as JSON has no tuples.
        if type(value) is tuple:
            meta["tuple"] = True
        data = json.dumps(value, separators=(",", ":")).encode()
    elif kind in (TIME, PATH):
        meta["class"] = type(value).__name__
        data = (value.isoformat() if kind == TIME else str(value)).encode()
    elif kind == BYTES:
        data = bytes(value)
    elif kind == FRAME:
        data = _parquet(value)
    elif kind == SERIES:
        meta["name"] = value.name if _is_plain(value.name) else str(value.name)
        data = _parquet(value.to_frame(name="__value__"))
    elif kind == ARRAY:
        import numpy as np

        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        data = buf.getvalue()
        if isinstance(value, np.generic):
            meta["scalar"] = True
    elif kind == SKOPS:
        import skops.io as sio

        data = sio.dumps(value)
        # The types to trust when loading are exactly those saved here, recorded with the value.
        meta["trusted"] = sio.get_untrusted_types(data=data)
    elif kind == BUNDLE:
        parts = {key: encode(part, allow_pickle) for key, part in _parts(value).items()}
        meta["container"] = type(value).__name__
        meta["parts"] = [{"key": key, "kind": p.kind, "meta": p.meta, "size": len(p.data)} for key, p in parts.items()]
        data = b"".join(p.data for p in parts.values())
    else:
        import pickle

        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return Encoded(kind, data, meta)


def _is_container(value) -> bool:
    return type(value) in (list, tuple) or (type(value) is dict and all(type(k) is str for k in value))


def _parts(value) -> dict:
    return dict(value) if type(value) is dict else dict(enumerate(value))


def decode(stored: Encoded, *, owner: str, user: str, allow_pickle: bool = False):
    """The value back. ``owner`` wrote it, ``user`` reads it: pickles only cross when they are one."""
    kind, data = stored.kind, stored.data
    if kind == JSON:
        value = json.loads(data)
        return tuple(value) if stored.meta.get("tuple") else value
    if kind == TIME:
        times: dict[str, Any] = {"date": dt.date, "datetime": dt.datetime, "time": dt.time}
        return times[stored.meta["class"]].fromisoformat(data.decode())
    if kind == PATH:
        cls = getattr(pathlib, stored.meta.get("class", "Path"), pathlib.Path)
        return cls(data.decode())
    if kind == BYTES:
        return data
    if kind in (FRAME, SERIES):
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(data))
        if kind == FRAME:
            return frame
        series = frame["__value__"]
        series.name = stored.meta.get("name")
        return series
    if kind == ARRAY:
        import numpy as np

        array = np.load(io.BytesIO(data), allow_pickle=False)
        return array[()] if stored.meta.get("scalar") else array
    if kind == SKOPS:
        import skops.io as sio

        # Trust the types recorded with the model only if this user recorded them.
        trusted = list(stored.meta.get("trusted", [])) if owner == user else []
        untrusted = set(sio.get_untrusted_types(data=data)) - set(trusted)
        if untrusted:
            raise Forbidden(f"model file holds types that were not saved with it: {sorted(untrusted)}")
        return sio.loads(data, trusted=trusted)
    if kind == BUNDLE:
        parts, offset = {}, 0
        for part in stored.meta["parts"]:
            chunk = data[offset : offset + part["size"]]
            offset += part["size"]
            parts[part["key"]] = decode(
                Encoded(part["kind"], chunk, part["meta"]), owner=owner, user=user, allow_pickle=allow_pickle
            )
        container = stored.meta["container"]
        return parts if container == "dict" else (tuple if container == "tuple" else list)(parts.values())
    if kind == PICKLE:
        if owner != user:
            raise Forbidden(f"refusing to load a pickle written by {owner!r} for {user!r}")
        if not allow_pickle:
            raise Forbidden("this value is a pickle: load it with allow_pickle=True if you trust it")
        import pickle

        return pickle.loads(data)
    raise InvalidInput(f"unknown stored kind {kind!r}")


def describe(value) -> str:
    """A short human summary of a value, for snapshot tables: ``DataFrame 100000x8``, ``0.01``."""
    pd = _module_if_loaded("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return f"DataFrame {value.shape[0]}x{value.shape[1]}"
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
        return text if len(text) <= 24 else text[:21] + "..."
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} {'x'.join(map(str, shape))}"
    if isinstance(value, (list, tuple, dict)):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def _parquet(frame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, compression="snappy")  # the fastest to read back
    return buf.getvalue()


def _module_if_loaded(name: str):
    """The module if the program imported it: a value of its types cannot exist otherwise, and
    the check must not pay for importing pandas, numpy or scikit-learn."""
    return sys.modules.get(name)
