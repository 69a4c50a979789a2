"""Typed messages' layouts and classes: the channel metadata that names a record type, and
the class of a recorded layout (the declared one, or one declared now from the layout text)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from horus._foxglove._types import MAPPING_VERSION, ConversionError
from horus._message import TypedMessage, _MessageMeta, array, record_class, string

_FIELD_RE = re.compile(r"([A-Za-z_]\w*):([^@,]+)@(\d+)")
_TYPE_RE = re.compile(r"(?:(string)<(\d+)>|([A-Za-z_]\w*)#([0-9a-f]{16})|([a-z]+\d*))((?:\[\d+\])*)")
_TEXT_RE = re.compile(r"([A-Za-z_]\w*)\{(.*)\}(\d+)")
_SCALAR_NAMES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                 "float32", "float64"}
_built: dict[tuple[int, str], type[TypedMessage]] = {}


def record_class_for(layout_text: str, layout_hash: int,
                     layouts: Mapping[str, str] | None = None) -> type[TypedMessage]:
    """The message class with this layout: the one declared in this process, or one declared
    now from the layout text (nested types from `layouts`, "Name#hash" -> layout text, or
    declared ones). Raises ConversionError if the text does not give that layout hash."""
    cls = record_class(layout_hash)
    if cls is not None and cls.layout_text == layout_text:
        return cls
    got = _built.get((layout_hash, layout_text))
    if got is not None:
        return got
    cls = _declare_from_text(layout_text, layouts or {}, 0)
    if cls.layout_hash != layout_hash or cls.layout_text != layout_text:
        raise ConversionError(
            f"the recorded layout {layout_text!r} gives hash {cls.layout_hash:#018x}, not the recorded "
            f"{layout_hash:#018x}: the recording's type information is inconsistent"
        )
    _built[(layout_hash, layout_text)] = cls
    return cls


def _declare_from_text(text: str, layouts: Mapping[str, str], depth: int) -> type[TypedMessage]:
    if depth > 16:
        raise ConversionError(f"message layouts nested more than 16 deep ({text!r})")
    m = _TEXT_RE.fullmatch(text)
    if m is None:
        raise ConversionError(f"not a horus layout text: {text!r}")
    name, body, _size = m.groups()
    ann: dict[str, Any] = {}
    for part in body.split(","):
        fm = _FIELD_RE.fullmatch(part)
        tm = _TYPE_RE.fullmatch(fm.group(2)) if fm else None
        if fm is None or tm is None:
            raise ConversionError(f"layout {text!r}: cannot read the field {part!r}")
        is_str, cap, rec_name, rec_hex, scalar, dims_text = tm.groups()
        t: Any
        if is_str:
            t = string(int(cap))
        elif rec_name:
            h = int(rec_hex, 16)
            nested = record_class(h)
            if nested is None:
                nested_text = layouts.get(f"{rec_name}#{rec_hex}")
                if nested_text is None:
                    raise ConversionError(
                        f"layout {text!r}: the nested type {rec_name} (hash 0x{rec_hex}) is not declared in this "
                        "process and its layout was not recorded"
                    )
                nested = record_class_for(nested_text, h, layouts) if depth < 16 else None
                if nested is None:
                    raise ConversionError(f"message layouts nested too deep ({text!r})")
            t = nested
        else:
            if scalar not in _SCALAR_NAMES:
                raise ConversionError(f"layout {text!r}: unknown field type {scalar!r}")
            t = np.dtype(scalar).type
        dims = tuple(int(d) for d in re.findall(r"\[(\d+)\]", dims_text))
        ann[fm.group(1)] = array(t, dims) if dims else t
    ns = {"__annotations__": ann, "__module__": __package__, "__qualname__": name,
          "__doc__": f"{name}, declared from a recorded layout: {text}"}
    try:
        return _MessageMeta(name, (TypedMessage,), ns)  # type: ignore[return-value]
    except (TypeError, ValueError) as e:
        raise ConversionError(f"cannot declare {name} from the recorded layout {text!r}: {e}") from None


def _nested_layouts(cls: type[TypedMessage], out: dict[str, str] | None = None) -> dict[str, str]:
    out = {} if out is None else out
    for sub in cls._horus_nested.values():  # type: ignore[attr-defined]
        key = f"{sub.__name__}#{sub.layout_hash:016x}"
        if key not in out:
            out[key] = sub.layout_text
            _nested_layouts(sub, out)
    return out


def _record_metadata(cls: type[TypedMessage], kind: str) -> dict[str, str]:
    md = {"horus.kind": kind, "horus.type_name": cls.__name__, "horus.layout_hash": f"{cls.layout_hash:#018x}",
          "horus.layout_text": cls.layout_text, "horus.mapping": MAPPING_VERSION}
    nested = _nested_layouts(cls)
    if nested:
        md["horus.layouts"] = json.dumps(nested, separators=(",", ":"), sort_keys=True)
    return md


def _record_class_from_metadata(metadata: Mapping[str, str], what: str) -> type[TypedMessage]:
    text = metadata.get("horus.layout_text", "")
    hash_text = metadata.get("horus.layout_hash", "")
    try:
        h = int(hash_text, 16)
    except ValueError:
        raise ConversionError(f"{what}: the channel's horus.layout_hash {hash_text!r} is not a hex number") from None
    cls = record_class(h)
    if cls is not None and (not text or cls.layout_text == text):
        return cls
    if not text:
        raise ConversionError(f"{what}: type {metadata.get('horus.type_name', '?')} (hash {hash_text}) is not "
                              "declared in this process and the channel has no horus.layout_text")
    try:
        layouts = json.loads(metadata.get("horus.layouts", "{}"))
    except ValueError as e:
        raise ConversionError(f"{what}: the channel's horus.layouts is not JSON ({e})") from None
    if not isinstance(layouts, dict):
        raise ConversionError(f"{what}: the channel's horus.layouts is not a JSON object")
    try:
        return record_class_for(text, h, layouts)
    except ConversionError as e:
        raise ConversionError(f"{what}: {e}") from None
