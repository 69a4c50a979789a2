"""Typed messages as JSON: their JSON Schema, and JSON with exact floats: non-finite ones as
the strings "NaN", "Infinity", "-Infinity", and a NaN with other bits than NumPy's nan (a sign,
a payload, a signalling NaN) as "NaN:0x<bits>" (e.g. "NaN:0xffc00001" for a float32), so that
every message reads back with its exact bytes. Decoding refuses JSON that does not follow the
schema (a missing or unknown field, a value of the wrong type or range)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from horus._foxglove._types import ConversionError
from horus._message import TypedMessage

_NONFINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: The bits of the NaN that is written as "NaN": the quiet NaN of positive sign and no payload
#: (what NumPy's and Python's nan are). Any other NaN is written "NaN:0x<its bits in hex>".
CANONICAL_NAN = {2: 0x7E00, 4: 0x7FC00000, 8: 0x7FF8000000000000}
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_NAN_BITS_RE = re.compile(r"NaN:0x([0-9a-f]+)")


def _float_schema(dt: np.dtype[Any]) -> dict[str, Any]:
    digits = 2 * dt.itemsize
    return {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]},
                      {"type": "string", "pattern": f"^NaN:0x[0-9a-f]{{{digits}}}$"}],
            "description": dt.name}  # "NaN:0x<bits>": a NaN with a sign or payload bits (see the module's text)


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
        return _float_schema(dt)
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


def _nonfinite_text(x: np.ndarray) -> str:
    """The JSON text of one non-finite float element (a 1-element array, for its exact bits)."""
    v = float(x[0])
    if v == math.inf:
        return "Infinity"
    if v == -math.inf:
        return "-Infinity"
    bits = int(x.view(_uint_of(x.dtype))[0])
    return "NaN" if bits == CANONICAL_NAN[x.itemsize] else f"NaN:0x{bits:0{2 * x.itemsize}x}"


def _uint_of(dt: np.dtype[Any]) -> np.dtype[Any]:
    """The unsigned integer dtype of a float dtype's size and byte order (to view its bits)."""
    return np.dtype(_UINT[dt.itemsize]).newbyteorder(dt.byteorder)


def _tag_nonfinite(d: dict[str, Any], cls: type[TypedMessage], raw: np.ndarray, base: int) -> None:
    """Replaces, in to_dict() output `d`, each non-finite float by its text, read from the
    message's bytes `raw` (uint8) so that a NaN keeps its exact bits."""
    fields = cls.dtype.fields
    assert fields is not None
    nested = cls._horus_nested  # type: ignore[attr-defined]
    for name in cls.fields:
        dt, off = fields[name][0], base + fields[name][1]
        sub = nested.get(name)
        if sub is not None:
            _tag_nonfinite(d[name], sub, raw, off)
            continue
        el, shape = dt.subdtype if dt.subdtype is not None else (dt, ())
        if el.kind != "f":
            continue
        count = math.prod(shape)
        a = raw[off : off + count * el.itemsize].view(el)
        bad = np.flatnonzero(~np.isfinite(a))
        if not len(bad):
            continue
        if not shape:
            d[name] = _nonfinite_text(a)
            continue
        flat: list[Any] = a.tolist()
        for i in bad:
            flat[i] = _nonfinite_text(a[i : i + 1])
        d[name] = np.array(flat, dtype=object).reshape(shape).tolist()


def _dumps(v: Any) -> bytes:
    return json.dumps(v, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encode_record_json(msg: TypedMessage) -> bytes:
    d = msg.to_dict()
    d["timestamp_ns"] = msg.timestamp_ns
    d["frame_id"] = msg.frame_id
    try:
        return _dumps(d)  # the common case: every float is finite
    except ValueError:
        pass
    _tag_nonfinite(d, type(msg), np.frombuffer(msg, np.uint8), 0)  # type: ignore[call-overload]
    return _dumps(d)


#: (byte offset in the message, bytes) of the NaNs to write after construction
_Patches = list[tuple[int, bytes]]


def _restore_float(v: Any, dt: np.dtype[Any], offset: int, patches: _Patches, where: str) -> Any:
    """A float field's JSON value as a float: "NaN", "Infinity", "-Infinity", and "NaN:0x<bits>"
    (a NaN whose exact bits are written into the message after it is built)."""
    if not isinstance(v, str):
        return v
    got = _NONFINITE_TEXT.get(v)
    if got is not None:
        return got
    m = _NAN_BITS_RE.fullmatch(v)
    size = dt.itemsize
    if m is None or len(m.group(1)) != 2 * size:
        raise ConversionError(f"{where}: {v[:80]!r} in a {dt.name} field (only numbers, 'NaN', 'Infinity', "
                              f"'-Infinity' and 'NaN:0x' with {2 * size} hex digits)")
    bits = int(m.group(1), 16)
    exp_bits = {2: 5, 4: 8, 8: 11}[size]
    mant_bits = 8 * size - 1 - exp_bits
    if (bits >> mant_bits) & ((1 << exp_bits) - 1) != (1 << exp_bits) - 1 or not bits & ((1 << mant_bits) - 1):
        raise ConversionError(f"{where}: {v!r} is not the bit pattern of a {dt.name} NaN")
    patches.append((offset, np.array(bits, _uint_of(dt)).tobytes()))
    return math.nan


def _restore_array(v: Any, el: np.dtype[Any], shape: tuple[int, ...], offset: int, patches: _Patches,
                   where: str) -> Any:
    if not isinstance(v, list) or len(v) != shape[0]:
        return v  # the constructor names the mismatch
    step = math.prod(shape[1:]) * el.itemsize
    if len(shape) == 1:
        return [_restore_float(x, el, offset + i * step, patches, where) for i, x in enumerate(v)]
    return [_restore_array(x, el, shape[1:], offset + i * step, patches, where) for i, x in enumerate(v)]


def _restore_record(d: dict[str, Any], cls: type[TypedMessage], base: int, patches: _Patches, where: str,
                    stamped: bool) -> None:
    """Checks that `d` has exactly the fields of `cls` (and timestamp_ns and frame_id when
    `stamped`), and turns the float texts of its float fields into floats, in place."""
    fields = cls.dtype.fields
    assert fields is not None
    wanted = list(cls.fields) + (["timestamp_ns", "frame_id"] if stamped else [])
    missing = [n for n in wanted if n not in d]
    unknown = [k for k in d if k not in wanted]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"it lacks the field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if unknown:
            parts.append(f"{cls.__name__} has no field{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(k[:40]) for k in unknown[:5])}")
        raise ConversionError(f"{where}: not a valid {cls.__name__}: {'; '.join(parts)} (its JSON Schema requires "
                              f"exactly {', '.join(wanted)})")
    nested = cls._horus_nested  # type: ignore[attr-defined]
    for name in cls.fields:
        dt, off = fields[name][0], base + fields[name][1]
        sub = nested.get(name)
        here = f"{where}.{name}"
        if sub is not None:
            if isinstance(d[name], dict):
                _restore_record(d[name], sub, off, patches, here, stamped=False)
            continue
        if dt.subdtype is not None:
            el, shape = dt.subdtype
            if el.kind == "f":
                d[name] = _restore_array(d[name], el, shape, off, patches, here)
        elif dt.kind == "f":
            d[name] = _restore_float(d[name], dt, off, patches, here)


def _decode_record_json(data: Any, cls: type[TypedMessage], what: str) -> TypedMessage:
    try:
        obj = json.loads(bytes(data))
    except RecursionError:
        raise ConversionError(f"{what}: not valid {cls.__name__} JSON (nested too deep)") from None
    except ValueError as e:  # UnicodeDecodeError included
        raise ConversionError(f"{what}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ConversionError(f"{what}: a {cls.__name__} message must be a JSON object; got {type(obj).__name__}")
    patches: _Patches = []
    _restore_record(obj, cls, 0, patches, what, stamped=True)
    ts = obj.pop("timestamp_ns")
    frame_id = obj.pop("frame_id")
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < 1 << 64:
        raise ConversionError(f"{what}: timestamp_ns {str(ts)[:40]} is not an integer of 0 to 2**64-1")
    if not isinstance(frame_id, str):
        raise ConversionError(f"{what}: frame_id {str(frame_id)[:40]} is not a string")
    try:
        msg = cls(**obj, timestamp_ns=ts, frame_id=frame_id)
    except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as e:
        raise ConversionError(f"{what}: not a valid {cls.__name__}: {e}") from None
    if patches:
        raw = np.frombuffer(msg, np.uint8)  # type: ignore[call-overload]  # writable: msg is
        for off, b in patches:
            raw[off : off + len(b)] = np.frombuffer(b, np.uint8)
    return msg
