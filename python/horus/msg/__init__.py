"""horus.msg — the standard robotics messages (docs/messages.md).

Declared once, in C++ (cpp/include/horus/msg/standard_messages.hpp); the classes here
are built from that declaration through the core's reflection, so every message has
the same layout and layout hash in both languages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from horus import _core
from horus._message import TypedMessage, _MessageMeta, array, string

__all__: list[str] = []


def _build() -> None:
    built: dict[str, type] = {}
    for name, fields, _size, layout_hash in _core._standard_layouts():
        ann: dict[str, Any] = {}
        for fname, kind, arg, dims, _offset in fields:
            t: Any
            if kind == "scalar":
                t = np.dtype(arg).type
            elif kind == "string":
                t = string(arg)
            else:
                t = built[arg]
            ann[fname] = array(t, tuple(dims)) if dims else t
        ns = {
            "__annotations__": ann,
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"Standard message {name} (fields: {', '.join(ann)}); see docs/messages.md.",
        }
        cls = _MessageMeta(name, (TypedMessage,), ns)
        if cls.layout_hash != layout_hash:  # pragma: no cover (the core lays both out)
            raise ImportError(f"horus.msg.{name}: Python and C++ layouts differ ({cls.layout_text})")
        built[name] = cls
        globals()[name] = cls
        __all__.append(name)


_build()
del _build
