"""Typed messages' layouts and classes: the channel metadata that names a record type, and
the class of a layout (the declared one, or one declared now from its layout text).

Where the texts come from: a recording's channel metadata (horus.layout_text and
horus.layouts, the nested types' texts by "Name#hash"), or, for a live topic, the namespace's
type registry (``_core._layout_bundle(hash)``: the type's text first, then every nested type's)
with the topic header's type_description as the fallback (it holds 1023 characters and the
outer type only). Texts are checked before anything is declared: at most 16 levels of
nesting, 64 MiB per message, and the declared class must give the recorded layout hash.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np

from horus import _core
from horus._foxglove._types import MAPPING_VERSION, ConversionError
from horus._message import TypedMessage, _MessageMeta, array, record_class, string

__all__ = ["describe_layout", "live_record_class", "record_class_for", "record_class_from_texts"]

_FIELD_RE = re.compile(r"([A-Za-z_]\w*):([^@,]+)@(\d+)")
_TYPE_RE = re.compile(r"(?:(string)<(\d+)>|([A-Za-z_]\w*)#([0-9a-f]{16})|([a-z]+\d*))((?:\[\d+\])*)")
_TEXT_RE = re.compile(r"([A-Za-z_]\w*)\{(.*)\}(\d+)")
#: Topic.type_description of a typed topic: "<Name> messages with layout <text> (hash 0x...)".
_DESCRIPTION_RE = re.compile(r" with layout (\S+) \(hash (0x[0-9a-f]{16})\)")
_SCALAR_NAMES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                 "float32", "float64"}
#: Nesting levels a layout may have (a type, its nested types, theirs, ...).
MAX_DEPTH = 16
#: Bytes one message may have (RecordLayout::kMaxSize).
MAX_SIZE = 64 << 20
#: Characters of one layout text.
MAX_TEXT = 1 << 20
_built: dict[tuple[int, str], type[TypedMessage]] = {}


class _ByName:
    """Nested layout texts known by type name only (a registry bundle: the texts carry no hash);
    a name given to several texts is resolved by trying each against the wanted hash."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.by_name: dict[str, list[str]] = {}
        for t in texts:
            self.by_name.setdefault(t.partition("{")[0], []).append(t)


_Layouts = Union[Mapping[str, str], _ByName]


class _MissingNested(ConversionError):
    """A nested type that is neither declared here nor among the texts given."""


def _candidates(layouts: _Layouts, name: str, hex_hash: str) -> list[str]:
    if isinstance(layouts, _ByName):
        return layouts.by_name.get(name, [])
    text = layouts.get(f"{name}#{hex_hash}")
    return [text] if isinstance(text, str) else []


def record_class_for(layout_text: str, layout_hash: int,
                     layouts: Mapping[str, str] | None = None) -> type[TypedMessage]:
    """The message class with this layout: the one declared in this process, or one declared
    now from the layout text (nested types from `layouts`, "Name#hash" -> layout text, or
    declared ones). Raises ConversionError if the text is not a valid layout or does not give
    that layout hash."""
    return _class_for(layout_text, layout_hash, layouts or {}, 0)


def record_class_from_texts(texts: Sequence[str], layout_hash: int) -> type[TypedMessage]:
    """The message class with this layout hash from the canonical layout texts of the type
    (first) and of every type nested in it (any order): what ``_core._layout_bundle`` gives."""
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ConversionError(f"the layout texts of type 0x{layout_hash:016x} are not a list of str: {texts!r}"[:300])
    return _class_for(texts[0], layout_hash, _ByName(texts[1:]), 0)


def _class_for(text: str, layout_hash: int, layouts: _Layouts, depth: int) -> type[TypedMessage]:
    cls = record_class(layout_hash)
    if cls is not None and cls.layout_text == text:
        return cls
    got = _built.get((layout_hash, text))
    if got is not None:
        return got
    cls = _declare_from_text(text, layouts, depth)
    if cls.layout_hash != layout_hash or cls.layout_text != text:
        raise ConversionError(
            f"the recorded layout {text!r} gives hash {cls.layout_hash:#018x}, not the recorded "
            f"{layout_hash:#018x}: the recording's type information is inconsistent"
        )
    _built[(layout_hash, text)] = cls
    return cls


def _nested_class(text: str, name: str, hex_hash: str, layouts: _Layouts, depth: int) -> type[TypedMessage]:
    h = int(hex_hash, 16)
    nested = record_class(h)
    if nested is not None:
        return nested
    found = _candidates(layouts, name, hex_hash)
    if not found:
        raise _MissingNested(f"layout {text[:200]!r}: the nested type {name} (hash 0x{hex_hash}) is not declared in "
                             "this process and its layout was not recorded")
    error: ConversionError | None = None
    for candidate in found:
        try:
            return _class_for(candidate, h, layouts, depth + 1)
        except ConversionError as e:
            error = error if isinstance(e, _MissingNested) and error is not None else e
    assert error is not None
    raise error


def _field_type(text: str, part: str, layouts: _Layouts, depth: int) -> tuple[str, Any]:
    fm = _FIELD_RE.fullmatch(part)
    tm = _TYPE_RE.fullmatch(fm.group(2)) if fm else None
    if fm is None or tm is None:
        raise ConversionError(f"layout {text[:200]!r}: cannot read the field {part[:100]!r}")
    is_str, cap, rec_name, rec_hex, scalar, dims_text = tm.groups()
    dims = tuple(int(d) for d in re.findall(r"\[(\d+)\]", dims_text))
    t: Any
    if is_str:
        itemsize = int(cap)
    elif rec_name:
        itemsize = 0  # the nested type checks its own size
    elif scalar in _SCALAR_NAMES:
        itemsize = np.dtype(scalar).itemsize
    else:
        raise ConversionError(f"layout {text[:200]!r}: unknown field type {scalar!r}")
    if itemsize * math.prod(dims) > MAX_SIZE or (dims and math.prod(dims) > MAX_SIZE):
        raise ConversionError(f"layout {text[:200]!r}: the field {fm.group(1)} ({fm.group(2)[:60]}) is larger than "
                              f"a message may be ({MAX_SIZE} bytes)")
    try:
        if is_str:
            t = string(int(cap))
        elif rec_name:
            t = _nested_class(text, rec_name, rec_hex, layouts, depth)
        else:
            t = np.dtype(scalar).type
        return fm.group(1), (array(t, dims) if dims else t)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConversionError):
            raise
        raise ConversionError(f"layout {text[:200]!r}: the field {part[:100]!r} cannot be declared: {e}") from None


def _declare_from_text(text: str, layouts: _Layouts, depth: int) -> type[TypedMessage]:
    if depth > MAX_DEPTH:
        raise ConversionError(f"message layouts nested more than {MAX_DEPTH} deep ({text[:200]!r})")
    if len(text) > MAX_TEXT:
        raise ConversionError(f"a layout text of {len(text)} characters (at most {MAX_TEXT})")
    m = _TEXT_RE.fullmatch(text)
    if m is None:
        raise ConversionError(f"not a horus layout text: {text[:200]!r}")
    name, body, size = m.groups()
    if int(size) > MAX_SIZE:
        raise ConversionError(f"layout {text[:200]!r}: {size} bytes per message; a message may have at most "
                              f"{MAX_SIZE}")
    ann: dict[str, Any] = {}
    for part in body.split(","):
        field, t = _field_type(text, part, layouts, depth)
        ann[field] = t
    ns = {"__annotations__": ann, "__module__": __package__, "__qualname__": name,
          "__doc__": f"{name}, declared from a recorded layout: {text}"}
    try:
        return _MessageMeta(name, (TypedMessage,), ns)  # type: ignore[return-value]
    except (TypeError, ValueError) as e:
        raise ConversionError(f"cannot declare {name} from the recorded layout {text[:200]!r}: {e}") from None


def describe_layout(description: str) -> tuple[str, int] | None:
    """(layout text, layout hash) from a Topic.type_description; None if it has none (an
    untyped topic, or a text the topic header cut short)."""
    m = _DESCRIPTION_RE.search(description)
    return None if m is None else (m.group(1), int(m.group(2), 16))


def live_record_class(layout_hash: int, description: str = "") -> type[TypedMessage] | None:
    """The class of a live topic's record type: the one declared in this process; else one
    declared from the namespace's type registry (_core._layout_bundle: the type's layout text
    and its nested types'); else from the layout text in the topic's type_description (enough
    for a type without nested types whose text fits the topic header). None when neither knows
    the type; ConversionError when its texts cannot be declared."""
    cls = record_class(layout_hash)
    if cls is not None:
        return cls
    texts = _core._layout_bundle(layout_hash)
    error: ConversionError | None = None
    if texts:
        try:
            return record_class_from_texts(list(texts), layout_hash)
        except ConversionError as e:
            error = e
    found = describe_layout(description)
    if found is None or found[1] != layout_hash:
        if error is not None:
            raise error
        return None
    try:
        return record_class_for(found[0], layout_hash)
    except ConversionError:
        if error is not None:
            raise error from None
        raise


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
    except (ValueError, RecursionError) as e:
        raise ConversionError(f"{what}: the channel's horus.layouts is not JSON ({e})") from None
    if not isinstance(layouts, dict):
        raise ConversionError(f"{what}: the channel's horus.layouts is not a JSON object")
    try:
        return record_class_for(text, h, layouts)
    except ConversionError as e:
        raise ConversionError(f"{what}: {e}") from None
