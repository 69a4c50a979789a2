"""Schemaless data (Topic(name) values) <-> horus.Data: tagged JSON for the values JSON cannot
hold (NumPy arrays, bytes, tuples, non-finite floats, non-string keys, MessagePack extensions)."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from typing import Any, cast

import msgpack
import numpy as np

from horus._foxglove._record_json import _NONFINITE_TEXT, CANONICAL_NAN, _finite
from horus._foxglove._types import ConversionError

_TAG = "__horus__"
_SMALL_ARRAY = 256  # arrays of at most this many numbers are written as a list of values, others base64
_DATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "horus.Data",
    "description": (
        "horus schemaless data (Topic(name)): the value as JSON. Values JSON cannot hold are objects "
        'with a "__horus__" tag: {"__horus__": "ndarray", "dtype": <NumPy descr>, "shape": [...], '
        '"values": [...] or "base64": "..."} (the C-order bytes, in the byte order dtype gives; "values" '
        'for at most 256 numbers and NaNs with the bits of NumPy\'s nan only), {"__horus__": "bytes", '
        '"base64": "..."}, {"__horus__": "tuple", "items": [...]}, {"__horus__": "float", "value": '
        '"NaN" | "Infinity" | "-Infinity"} (with "bits": "0x<16 hex digits>" for a NaN with a sign or '
        'payload), {"__horus__": "dict", "items": [[key, value], ...]} (keys '
        'that are not strings, or a "__horus__" key), {"__horus__": "value", "value": ...} (a top-level '
        'value that is not a dict), {"__horus__": "ext", "code": n, "base64": "..."} and '
        '{"__horus__": "timestamp", "seconds": s, "nanoseconds": n} (MessagePack extension values).'
    ),
}


def _float_json(v: float) -> Any:
    if math.isfinite(v):
        return v
    if v != v:
        out: dict[str, Any] = {_TAG: "float", "value": "NaN"}
        bits = struct.unpack("<Q", struct.pack("<d", v))[0]
        if bits != CANONICAL_NAN[8]:  # a sign or payload: keep the exact double
            out["bits"] = f"0x{bits:016x}"
        return out
    return {_TAG: "float", "value": "Infinity" if v > 0 else "-Infinity"}


def _to_json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return _float_json(v)
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


def _odd_nans(flat: np.ndarray) -> bool:
    """True if the float array `flat` holds a NaN other than NumPy's nan (sign, payload bits)."""
    nan = np.isnan(flat)
    if not nan.any():
        return False
    bits = flat.view(np.dtype(f"u{flat.itemsize}").newbyteorder(flat.dtype.byteorder))
    return bool((bits[nan] != CANONICAL_NAN[flat.itemsize]).any())


def _array_json(a: np.ndarray) -> dict[str, Any]:
    if a.dtype.hasobject:
        raise ConversionError(f"a NumPy array of dtype {a.dtype} holds Python objects and cannot be recorded")
    out: dict[str, Any] = {_TAG: "ndarray", "dtype": np.lib.format.dtype_to_descr(a.dtype), "shape": list(a.shape)}
    c = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind in "biuf" and a.size <= _SMALL_ARRAY and not (a.dtype.kind == "f" and _odd_nans(c)):
        out["values"] = _finite(c.tolist())
    else:  # the bytes in the array's own byte order (its dtype says which)
        out["base64"] = base64.b64encode(cast(Any, c.view(np.uint8))).decode("ascii")
    return out


def _encode_data(value: Any) -> bytes:
    j = _to_json_value(value)
    if not isinstance(value, dict):
        j = {_TAG: "value", "value": j}
    return json.dumps(j, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


#: dimensions an ndarray may have (NumPy's own limit is 64)
_MAX_DIMS = 32


class _Bad(ValueError):
    """A tagged value that does not follow the horus.Data schema."""


def _descr(x: Any, depth: int = 0) -> Any:
    if depth > 8:
        raise _Bad("dtype description nested too deep")
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        out = []
        for f in x:
            if not isinstance(f, list) or len(f) not in (2, 3):
                raise _Bad(f"bad dtype field description {str(f)[:60]}")
            out.append(tuple(_descr(e, depth + 1) if i == 1 else (tuple(e) if isinstance(e, list) else e)
                             for i, e in enumerate(f)))
        return out
    raise _Bad(f"bad dtype description {str(x)[:60]}")


def _int(d: dict[str, Any], key: str, low: int, high: int) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise _Bad(f"{d.get(_TAG)} {key} {str(v)[:40]} is not an integer of {low} to {high}")
    return v


def _b64(d: dict[str, Any]) -> bytes:
    v = d.get("base64")
    if not isinstance(v, str):
        raise _Bad(f"{d.get(_TAG)} without a base64 string")
    return base64.b64decode(v, validate=True)


def _ndarray(d: dict[str, Any]) -> np.ndarray:
    dt = np.lib.format.descr_to_dtype(_descr(d.get("dtype")))
    if dt.hasobject:
        raise _Bad(f"dtype {dt} holds Python objects")
    shape_v = d.get("shape")
    if not isinstance(shape_v, list) or len(shape_v) > _MAX_DIMS or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape_v):
        raise _Bad(f"ndarray shape {str(shape_v)[:60]} is not a list of at most {_MAX_DIMS} integers >= 0")
    shape = tuple(shape_v)
    count = math.prod(shape)
    if "values" in d:
        vals = d["values"]
        if not isinstance(vals, list) or len(vals) != count:
            raise _Bad(f"ndarray of shape {shape} with {len(vals) if isinstance(vals, list) else 'no'} values")
        vals = [_NONFINITE_TEXT[x] if isinstance(x, str) else x for x in vals]
        return np.array(vals, dtype=dt).reshape(shape)
    raw = _b64(d)
    if len(raw) != count * dt.itemsize:
        raise _Bad(f"ndarray of shape {shape} {dt} needs {count * dt.itemsize} bytes; base64 gives {len(raw)}")
    return np.frombuffer(raw, dtype=dt, count=count).reshape(shape)


def _from_tag(d: dict[str, Any]) -> Any:
    tag = d.get(_TAG)
    if tag is None:
        return d
    if tag == "ndarray":
        return _ndarray(d)
    if tag == "bytes":
        return _b64(d)
    if tag == "tuple":
        if not isinstance(d.get("items"), list):
            raise _Bad("tuple without a list of items")
        return tuple(d["items"])
    if tag == "float":
        if "bits" in d:
            bits = d["bits"]
            if not isinstance(bits, str) or not _BITS_RE.fullmatch(bits):
                raise _Bad(f"float bits {str(bits)[:40]} are not 0x and 16 hex digits")
            v = struct.unpack("<d", struct.pack("<Q", int(bits, 16)))[0]
            if v == v:
                raise _Bad(f"float bits {bits} are not a NaN's")
            return v
        return _NONFINITE_TEXT[d["value"]]
    if tag == "dict":
        items = d["items"]
        if not isinstance(items, list) or not all(isinstance(kv, list) and len(kv) == 2 for kv in items):
            raise _Bad("dict items are not a list of [key, value] pairs")
        return {k: v for k, v in items}
    if tag == "value":
        return d["value"]
    if tag == "ext":
        return msgpack.ExtType(_int(d, "code", -128, 127), _b64(d))
    if tag == "timestamp":
        return msgpack.Timestamp(_int(d, "seconds", -(2**63), 2**63 - 1), _int(d, "nanoseconds", 0, 999_999_999))
    raise _Bad(f"unknown {_TAG} tag {str(tag)[:40]!r}")


_BITS_RE = re.compile(r"0x[0-9a-f]{16}")


def _decode_data(data: Any, what: str) -> Any:
    try:
        return json.loads(bytes(data), object_hook=_from_tag)
    except RecursionError:
        raise ConversionError(f"{what}: not valid horus.Data JSON (nested too deep)") from None
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, MemoryError) as e:
        raise ConversionError(f"{what}: not valid horus.Data JSON ({type(e).__name__}: {e})") from None
