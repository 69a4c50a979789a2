"""How `horus topic echo` shows a message: field by field for people, one JSON object for programs.

`describe(msg)` turns any received message into a plain tree (dicts, lists, str, int, float,
bool, None, bytes) once; `lines(tree)` prints that tree YAML-style (long lists shortened) and
`record(...)` wraps it into the JSON line. Typed messages and schemaless data give their
values; Image, DepthImage, PointCloud and Tensor give their metadata and a summary
(shape, dtype, min/max/mean), never their payload. NumPy arrays inside schemaless data are
summarised the same way (their values too when they have at most 16 elements).

Floats of float32/float16 fields print as the shortest decimal that reads back to the same
float32 (12.4, not 12.399999618530273), in both forms.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np

import horus

__all__ = ["describe", "kind_of", "lines", "payload_bytes", "record"]

#: Arrays and lists up to this long print in full; longer ones as their first and last EDGE items.
_FULL = 16
_EDGE = 3


def kind_of(msg: Any) -> str:
    """The kind of a received message, as horus.topics() names them."""
    if isinstance(msg, horus.Image):
        return "Image"
    if isinstance(msg, horus.DepthImage):
        return "DepthImage"
    if isinstance(msg, horus.PointCloud):
        return "PointCloud"
    if isinstance(msg, horus.Tensor):
        return "Tensor"
    if isinstance(msg, horus.TypedMessage):
        return "Record"
    return "Data"


def _short_float(v: float, dt: np.dtype[Any]) -> float:
    if dt.kind == "f" and dt.itemsize < 8 and math.isfinite(v):
        return float(str(dt.type(v)))
    return float(v)


def _values(a: np.ndarray) -> Any:
    """An array's values as nested lists (floats of narrow dtypes in their short form)."""
    if a.dtype.kind == "f" and a.dtype.itemsize < 8:
        flat = [float(str(x)) if math.isfinite(x) else float(x) for x in a.reshape(-1)]
        return np.array(flat, dtype=object).reshape(a.shape).tolist() if a.ndim > 1 else flat
    return a.tolist()


def _fields(msg: horus.TypedMessage) -> dict[str, Any]:
    cls = type(msg)
    dtypes = cls.dtype.fields
    assert dtypes is not None
    out: dict[str, Any] = {}
    for name in cls.fields:
        v = getattr(msg, name)
        dt = dtypes[name][0].base
        if isinstance(v, horus.TypedMessage):
            out[name] = _fields(v)
        elif isinstance(v, np.ndarray):
            out[name] = _values(v)
        elif isinstance(v, tuple):  # an array of strings
            out[name] = json.loads(json.dumps(v))
        elif isinstance(v, float):
            out[name] = _short_float(v, dt)
        else:
            out[name] = v
    return out


def _stats(a: np.ndarray) -> dict[str, Any]:
    """min, max and mean of an array (NaNs ignored; None for an empty or all-NaN array)."""
    if a.size == 0 or a.dtype.kind not in "biuf":
        return {"min": None, "max": None, "mean": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if a.dtype.kind == "b":
            return {"min": bool(a.min()), "max": bool(a.max()), "mean": float(a.mean())}
        if a.dtype.kind == "f":
            lo, hi, mean = np.nanmin(a), np.nanmax(a), np.nanmean(a, dtype=np.float64)
            if math.isnan(lo):
                return {"min": None, "max": None, "mean": None}
            return {"min": _short_float(float(lo), a.dtype), "max": _short_float(float(hi), a.dtype),
                    "mean": float(mean)}
        return {"min": int(a.min()), "max": int(a.max()), "mean": float(a.mean(dtype=np.float64))}


class ArraySummary(dict):  # type: ignore[type-arg]
    """A NumPy array inside schemaless data: shape, dtype, min/max/mean (and values if small)."""


def _array_summary(a: np.ndarray) -> ArraySummary:
    s = ArraySummary(shape=list(a.shape), dtype=str(a.dtype))
    if a.dtype.names is None:
        s.update(_stats(a))
        if a.size <= _FULL:
            s["values"] = _values(a)
    return s


def _data(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _data(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_data(x) for x in v]
    if isinstance(v, np.ndarray):
        return _array_summary(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, horus.TypedMessage):
        return _fields(v)
    return v


def _tensor(t: horus.Tensor) -> dict[str, Any]:
    rt = t.record_type
    if rt is not None:
        records = t.to_numpy()
        first = [_fields(_record_at(rt, records, i)) for i in range(min(len(records.reshape(-1)), 3))]
        return {"record_type": rt.__name__, "records": int(records.size), "shape": list(records.shape),
                "nbytes": t.nbytes, "first": first}
    a = t.to_numpy()
    return {"shape": list(t.shape), "dtype": t.dtype, "nbytes": t.nbytes, **_stats(a)}


def _record_at(cls: type[horus.TypedMessage], records: np.ndarray, i: int) -> horus.TypedMessage:
    msg = cls()
    np.frombuffer(msg, dtype=cls.dtype, count=1)[...] = records.reshape(-1)[i]  # type: ignore[call-overload]
    return msg


def _image(m: horus.Image) -> dict[str, Any]:
    return {"height": m.height, "width": m.width, "encoding": m.encoding, "channels": m.channels,
            "dtype": m.dtype, "step": m.step, "nbytes": m.nbytes, **_stats(m.to_numpy())}


def _depth(m: horus.DepthImage) -> dict[str, Any]:
    st = m.depth_statistics()
    return {"height": m.height, "width": m.width, "dtype": m.dtype, "unit": "m" if m.is_meters() else "mm",
            "depth_scale": m.depth_scale, "nbytes": m.nbytes,
            "min_m": None if st is None else st[0], "max_m": None if st is None else st[1],
            "mean_m": None if st is None else st[2]}


def _cloud(m: horus.PointCloud) -> dict[str, Any]:
    a = m.to_numpy().reshape(m.point_count, m.fields_per_point)
    out: dict[str, Any] = {"points": m.point_count, "fields_per_point": m.fields_per_point, "dtype": m.dtype,
                           "nbytes": m.nbytes}
    if m.point_count:
        per = [_stats(a[:, i]) for i in range(m.fields_per_point)]
        for key in ("min", "max", "mean"):
            out[key] = [p[key] for p in per]
    else:
        out.update(min=None, max=None, mean=None)
    return out


def describe(msg: Any) -> tuple[dict[str, Any] | None, Any]:
    """(metadata, data) of a received message: metadata {"timestamp_ns", "frame_id"} (None for
    schemaless data, which has none) and the data tree (fields or a summary)."""
    kind = kind_of(msg)
    if kind == "Data":
        return None, _data(msg)
    meta = {"timestamp_ns": msg.timestamp_ns, "frame_id": msg.frame_id}
    if kind == "Record":
        return meta, _fields(msg)
    if kind == "Image":
        return meta, _image(msg)
    if kind == "DepthImage":
        return meta, _depth(msg)
    if kind == "PointCloud":
        return meta, _cloud(msg)
    return meta, _tensor(msg)


def type_name(msg: Any) -> str:
    """The message's type name: the class of a typed message, Tensor[Rec] for a Tensor of
    records, the kind for other memory types, "" for schemaless data."""
    kind = kind_of(msg)
    if kind == "Record":
        return type(msg).__name__
    if kind == "Tensor" and msg.record_type is not None:
        return f"Tensor[{msg.record_type.__name__}]"
    return "" if kind == "Data" else kind


def record(topic: str, msg: Any) -> dict[str, Any]:
    """The JSON object `topic echo --json` writes for one message."""
    meta, data = describe(msg)
    return {"topic": topic, "kind": kind_of(msg), "type": type_name(msg),
            "timestamp_ns": None if meta is None else meta["timestamp_ns"],
            "frame_id": None if meta is None else meta["frame_id"], "data": data}


def payload_bytes(msg: Any) -> int:
    """The size of a message as it travels: the payload of a memory type, the C bytes of a typed
    message, the MessagePack header plus the arrays of schemaless data."""
    if isinstance(msg, (horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)):
        return int(msg.nbytes)
    if isinstance(msg, horus.TypedMessage):
        return int(type(msg).dtype.itemsize)
    from horus import _data

    encoded = _data.encode(msg)
    if isinstance(encoded, tuple):
        header, arrays = encoded
        return len(header) + sum(int(a.nbytes) for a in arrays)
    return len(encoded)


# ---- YAML-style text ---------------------------------------------------------------------------


def _scalar(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        return f"bytes({len(b)}): {b[:32].hex()}{'...' if len(b) > 32 else ''}"
    if isinstance(v, ArraySummary):
        return _summary_text(v)
    return str(v)


def _summary_text(s: ArraySummary) -> str:
    if "values" in s:
        return f"array({_inline(s['values'])}, dtype={s['dtype']})"
    parts = [f"shape={_inline(s['shape'])}", f"dtype={s['dtype']}"]
    parts += [f"{k}={_scalar(s[k])}" for k in ("min", "max", "mean") if k in s]
    return "array(" + ", ".join(parts) + ")"


def _inline(v: Any, top: bool = True) -> str:
    """A list on one line; longer than 16 items: first 3, ..., last 3, and the count."""
    if not isinstance(v, list):
        return _scalar(v)
    if len(v) <= _FULL:
        return "[" + ", ".join(_inline(x, False) for x in v) + "]"
    items = [_inline(x, False) for x in v[:_EDGE]] + ["..."] + [_inline(x, False) for x in v[-_EDGE:]]
    return "[" + ", ".join(items) + "]" + (f" ({len(v)} items)" if top else "")


def _is_block(v: Any) -> bool:
    """Values that print on lines of their own: dicts (not array summaries) and lists holding dicts."""
    if isinstance(v, dict) and not isinstance(v, ArraySummary):
        return bool(v)
    return isinstance(v, list) and any(isinstance(x, dict) and not isinstance(x, ArraySummary) for x in v)


def _block(v: Any, indent: str) -> list[str]:
    out: list[str] = []
    if isinstance(v, dict):
        for k, x in v.items():
            key = k if isinstance(k, str) else repr(k)
            if _is_block(x):
                out.append(f"{indent}{key}:")
                out.extend(_block(x, indent + "  "))
            else:
                empty = isinstance(x, dict) and not isinstance(x, ArraySummary)
                out.append(f"{indent}{key}: {'{}' if empty else _inline(x)}")
        return out
    for x in v:  # a list with dicts inside
        if _is_block(x):
            sub = _block(x, indent + "  ")
            out.append(f"{indent}- {sub[0].lstrip()}" if sub else f"{indent}- {{}}")
            out.extend(sub[1:])
        else:
            out.append(f"{indent}- {_inline(x)}")
    return out


def lines(meta: dict[str, Any] | None, data: Any) -> list[str]:
    """The text of one message: metadata that is set (timestamp_ns, frame_id), then the data."""
    out: list[str] = []
    if meta is not None:
        if meta["timestamp_ns"]:
            out.append(f"timestamp_ns: {meta['timestamp_ns']}")
        if meta["frame_id"]:
            out.append(f"frame_id: {_scalar(meta['frame_id'])}")
    if _is_block(data):
        out.extend(_block(data, ""))
    elif isinstance(data, dict):
        out.append("{}")
    else:
        out.append(_inline(data))
    return out
