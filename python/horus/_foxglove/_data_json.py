"""Schemaless data (Topic(name) values) <-> horus.Data: tagged JSON for the values JSON cannot
hold (NumPy arrays, bytes, tuples, non-finite floats, non-string keys, MessagePack extensions)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any, cast

import msgpack
import numpy as np

from horus._foxglove._record_json import _NONFINITE_TEXT, _finite
from horus._foxglove._types import ConversionError

_TAG = "__horus__"
_SMALL_ARRAY = 256  # arrays of at most this many numbers are written as a list of values, others base64
_DATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "horus.Data",
    "description": (
        "horus schemaless data (Topic(name)): the value as JSON. Values JSON cannot hold are objects "
        'with a "__horus__" tag: {"__horus__": "ndarray", "dtype": <NumPy descr>, "shape": [...], '
        '"values": [...] or "base64": "..."} (little-endian C-order bytes), {"__horus__": "bytes", '
        '"base64": "..."}, {"__horus__": "tuple", "items": [...]}, {"__horus__": "float", "value": '
        '"NaN" | "Infinity" | "-Infinity"}, {"__horus__": "dict", "items": [[key, value], ...]} (keys '
        'that are not strings, or a "__horus__" key), {"__horus__": "value", "value": ...} (a top-level '
        'value that is not a dict), {"__horus__": "ext", "code": n, "base64": "..."} and '
        '{"__horus__": "timestamp", "seconds": s, "nanoseconds": n} (MessagePack extension values).'
    ),
}


def _to_json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return {_TAG: "float", "value": "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")}
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v) and _TAG not in v:
            return {k: _to_json_value(x) for k, x in v.items()}
        return {_TAG: "dict", "items": [[_to_json_value(k), _to_json_value(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return [_to_json_value(x) for x in v]
    if isinstance(v, msgpack.ExtType):  # (a namedtuple: before tuples)
        return {_TAG: "ext", "code": v.code, "base64": base64.b64encode(v.data).decode("ascii")}
    if isinstance(v, tuple):
        return {_TAG: "tuple", "items": [_to_json_value(x) for x in v]}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {_TAG: "bytes", "base64": base64.b64encode(v).decode("ascii")}
    if isinstance(v, np.ndarray):
        return _array_json(v)
    if isinstance(v, np.generic):
        return _to_json_value(v.item())
    if isinstance(v, msgpack.Timestamp):
        return {_TAG: "timestamp", "seconds": v.seconds, "nanoseconds": v.nanoseconds}
    raise ConversionError(f"schemaless value of type {type(v).__qualname__} cannot be recorded")


def _array_json(a: np.ndarray) -> dict[str, Any]:
    if a.dtype.hasobject:
        raise ConversionError(f"a NumPy array of dtype {a.dtype} holds Python objects and cannot be recorded")
    out: dict[str, Any] = {_TAG: "ndarray", "dtype": np.lib.format.dtype_to_descr(a.dtype), "shape": list(a.shape)}
    if a.dtype.kind in "biuf" and a.size <= _SMALL_ARRAY:
        out["values"] = _finite(a.reshape(-1).tolist())
    else:
        c = np.ascontiguousarray(a)
        if c.dtype.byteorder == ">":
            c = c.astype(c.dtype.newbyteorder("<"))
            out["dtype"] = np.lib.format.dtype_to_descr(c.dtype)
        out["base64"] = base64.b64encode(cast(Any, c.reshape(-1).view(np.uint8))).decode("ascii")
    return out


def _encode_data(value: Any) -> bytes:
    j = _to_json_value(value)
    if not isinstance(value, dict):
        j = {_TAG: "value", "value": j}
    return json.dumps(j, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _descr(x: Any) -> Any:
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return [tuple(_descr(e) if i == 1 else (tuple(e) if isinstance(e, list) else e) for i, e in enumerate(f))
                for f in x]
    raise ValueError(f"bad dtype description {x!r}")


def _from_tag(d: dict[str, Any]) -> Any:
    tag = d.get(_TAG)
    if tag is None:
        return d
    if tag == "ndarray":
        dt = np.lib.format.descr_to_dtype(_descr(d["dtype"]))
        if dt.hasobject:
            raise ValueError(f"dtype {dt} holds Python objects")
        shape = tuple(int(n) for n in d["shape"])
        if "values" in d:
            vals = [_NONFINITE_TEXT[x] if isinstance(x, str) else x for x in d["values"]]
            return np.array(vals, dtype=dt).reshape(shape)
        raw = base64.b64decode(d["base64"], validate=True)
        return np.frombuffer(raw, dtype=dt, count=math.prod(shape)).reshape(shape)
    if tag == "bytes":
        return base64.b64decode(d["base64"], validate=True)
    if tag == "tuple":
        return tuple(d["items"])
    if tag == "float":
        return _NONFINITE_TEXT[d["value"]]
    if tag == "dict":
        return {k: v for k, v in d["items"]}
    if tag == "value":
        return d["value"]
    if tag == "ext":
        return msgpack.ExtType(int(d["code"]), base64.b64decode(d["base64"], validate=True))
    if tag == "timestamp":
        return msgpack.Timestamp(int(d["seconds"]), int(d["nanoseconds"]))
    raise ValueError(f"unknown {_TAG} tag {tag!r}")


def _decode_data(data: Any, what: str) -> Any:
    try:
        return json.loads(bytes(data), object_hook=_from_tag)
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise ConversionError(f"{what}: not valid horus.Data JSON ({type(e).__name__}: {e})") from None
