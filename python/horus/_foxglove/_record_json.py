"""Typed messages as JSON: their JSON Schema, and JSON with exact floats (non-finite ones as
the strings "NaN", "Infinity", "-Infinity")."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from horus._foxglove._types import ConversionError
from horus._message import TypedMessage

_NONFINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FLOAT_SCHEMA = {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]}


def _field_schema(dt: np.dtype[Any], nested: type[TypedMessage] | None) -> dict[str, Any]:
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        s = _field_schema(base, nested)
        for d in reversed(shape):
            s = {"type": "array", "items": s, "minItems": d, "maxItems": d}
        return s
    if nested is not None:
        return _object_schema(nested, stamped=False)
    if dt.kind == "b":
        return {"type": "boolean"}
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return {"type": "integer", "minimum": int(info.min), "maximum": int(info.max), "description": dt.name}
    if dt.kind == "f":
        return dict(_FLOAT_SCHEMA, description=dt.name)
    if dt.kind == "S":
        return {"type": "string", "maxLength": dt.itemsize, "description": f"UTF-8 text of at most {dt.itemsize} bytes"}
    raise ConversionError(f"no JSON Schema for dtype {dt}")  # pragma: no cover (declarations allow no other)


def _object_schema(cls: type[TypedMessage], stamped: bool) -> dict[str, Any]:
    fields = cls.dtype.fields
    assert fields is not None
    nested = cls._horus_nested  # type: ignore[attr-defined]
    props = {name: _field_schema(fields[name][0], nested.get(name)) for name in cls.fields}
    required = list(cls.fields)
    if stamped:
        props["timestamp_ns"] = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1,
                                 "description": "the message's timestamp in nanoseconds"}
        props["frame_id"] = {"type": "string", "maxLength": 63, "description": "the message's frame_id"}
        required += ["timestamp_ns", "frame_id"]
    return {"type": "object", "title": cls.__name__, "description": f"horus layout {cls.layout_text}",
            "properties": props, "required": required, "additionalProperties": False}


def json_schema(cls: type[TypedMessage]) -> dict[str, Any]:
    """The JSON Schema of a typed message's JSON (its fields plus timestamp_ns and frame_id)."""
    s = _object_schema(cls, stamped=True)
    return {"$schema": "http://json-schema.org/draft-07/schema#", **s}


def _finite(v: Any) -> Any:
    """`v` with non-finite floats as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (math.inf, -math.inf):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _dumps(v: Any) -> bytes:
    try:
        s = json.dumps(v, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        s = json.dumps(_finite(v), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return s.encode("utf-8")


def _encode_record_json(msg: TypedMessage) -> bytes:
    d = msg.to_dict()
    d["timestamp_ns"] = msg.timestamp_ns
    d["frame_id"] = msg.frame_id
    return _dumps(d)


def _restore_floats(v: Any, dt: np.dtype[Any], nested: type[TypedMessage] | None, where: str) -> Any:
    """A field's JSON value with the strings "NaN", "Infinity", "-Infinity" of float fields as
    floats (other mismatches are left for the constructor to name)."""
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return _restore_array(v, base, len(shape), where) if base.kind == "f" else v
    if nested is not None:
        if isinstance(v, dict):
            _restore_record(v, nested, where)
        return v
    return _restore_float(v, where) if dt.kind == "f" else v


def _restore_array(v: Any, base: np.dtype[Any], ndim: int, where: str) -> Any:
    if not isinstance(v, list):
        return v
    if ndim == 1:
        return [_restore_float(x, where) for x in v]
    return [_restore_array(x, base, ndim - 1, where) for x in v]


def _restore_float(v: Any, where: str) -> Any:
    if isinstance(v, str):
        if v not in _NONFINITE_TEXT:
            raise ConversionError(f"{where}: {v!r} in a float field (only numbers and 'NaN', 'Infinity', '-Infinity')")
        return _NONFINITE_TEXT[v]
    return v


def _restore_record(d: dict[str, Any], cls: type[TypedMessage], where: str) -> None:
    fields = cls.dtype.fields
    assert fields is not None
    nested = cls._horus_nested  # type: ignore[attr-defined]
    for name in cls.fields:
        if name in d:
            d[name] = _restore_floats(d[name], fields[name][0], nested.get(name), f"{where}.{name}")


def _decode_record_json(data: Any, cls: type[TypedMessage], what: str) -> TypedMessage:
    try:
        obj = json.loads(bytes(data))
    except ValueError as e:
        raise ConversionError(f"{what}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ConversionError(f"{what}: a {cls.__name__} message must be a JSON object; got {type(obj).__name__}")
    ts = obj.pop("timestamp_ns", 0)
    frame_id = obj.pop("frame_id", "")
    _restore_record(obj, cls, what)
    try:
        return cls(**obj, timestamp_ns=ts, frame_id=frame_id)
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ConversionError(f"{what}: not a valid {cls.__name__}: {e}") from None
