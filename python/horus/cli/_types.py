"""Message types for the horus command: names on the command line, and types seen on topics.

* `resolve(spec)`: a TYPE argument as a message class: a standard message (`CmdVel`,
  `horus.msg.CmdVel`, `horus.CmdVel`), a user's class (`module:Class`, or `path/file.py:Class`;
  the current directory is on the import path, as for `python -m`), or `data` for a
  schemaless topic.
* `declare_seen(layout_hash, description)`: makes a typed topic receivable in this process
  when its class is not declared here. The namespace's type registry
  (`_core._layout_bundle(hash)`) gives the layout texts of the type and of every type nested
  in it, from which identical classes are declared (their layout hash is checked to be the
  topic's). Without it, the layout text of the topic's description (e.g.
  `Foo{a:float32@0,b:int16[3]@4,s:string<8>@10}20`) serves a flat message whose text fits
  the topic header; nested types enter that text by name and hash only, so they must be
  standard or declared with --type module:Class.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import re
import sys
import typing
from typing import Any

import numpy as np

import horus
from horus.cli._output import CliError

__all__ = ["DATA", "declare_seen", "import_type", "resolve"]

#: The TYPE that names a schemaless topic (any JSON value is sent as it is).
DATA = "data"


def _is_message_class(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, horus.TypedMessage) and "layout_hash" in cls.__dict__


def _standard_names() -> list[str]:
    return sorted(n for n in dir(horus.msg) if not n.startswith("_") and _is_message_class(getattr(horus.msg, n)))


def resolve(spec: str) -> Any:
    """The message class TYPE names (or DATA). CliError for a name that is none."""
    if spec.lower() == DATA:
        return DATA
    if ":" in spec:
        return import_type(spec)
    name = spec
    for prefix in ("horus.msg.", "horus."):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if "." in name:
        module, _, attr = spec.rpartition(".")
        return import_type(f"{module}:{attr}")
    standard = getattr(horus.msg, name, None)
    if _is_message_class(standard):
        return standard
    if name in ("Image", "DepthImage", "PointCloud", "Tensor", "GenericMessage"):
        raise CliError(f"TYPE {spec!r}: `horus topic pub` sends typed messages (and `data`); {name} carries "
                       "pixels or arrays, which JSON cannot give: publish those from a program")
    names = _standard_names()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise CliError(f"unknown message type {spec!r}; {hint}standard types: {', '.join(names)}; "
                   "a type of your own: module:Class; schemaless: data")


def import_type(spec: str) -> type[horus.TypedMessage]:
    """Imports `module:Class` (or `file.py:Class`) and checks it is a typed message class."""
    module, _, attr = spec.rpartition(":")
    if not module or not attr:
        raise CliError(f"type {spec!r}: use module:Class (e.g. my_robot.msgs:Battery) or path/file.py:Class")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if module.endswith(".py"):
            path = os.path.abspath(module)
            if not os.path.isfile(path):
                raise CliError(f"type {spec!r}: no file {module!r}")
            mod_name = "_horus_cli_user_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
            loader_spec = importlib.util.spec_from_file_location(mod_name, path)
            assert loader_spec is not None and loader_spec.loader is not None
            mod = importlib.util.module_from_spec(loader_spec)
            sys.modules[mod_name] = mod
            loader_spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(module)
    except CliError:
        raise
    except ImportError as e:
        raise CliError(f"type {spec!r}: cannot import {module!r} ({e})") from None
    except Exception as e:  # the user's module raised while importing: say which and why
        raise CliError(f"type {spec!r}: importing {module!r} failed: {type(e).__name__}: {e}") from None
    cls = getattr(mod, attr, None)
    if cls is None:
        raise CliError(f"type {spec!r}: module {module!r} has no attribute {attr!r}")
    if not _is_message_class(cls):
        raise CliError(f"type {spec!r}: {cls!r} is not a @horus.message class")
    return typing.cast("type[horus.TypedMessage]", cls)


_LAYOUT = re.compile(r"(?P<name>[A-Za-z_]\w*)\{(?P<fields>[^{}]*)\}(?P<size>\d+)")
_FIELD = re.compile(r"^(?P<name>[A-Za-z_]\w*):(?P<base>[A-Za-z_]\w*)(?:<(?P<cap>\d+)>)?(?:#(?P<hash>[0-9a-fA-F]+))?"
                    r"(?P<dims>(?:\[\d+\])*)@(?P<offset>\d+)$")


def _annotation(m: re.Match[str], where: str) -> Any:
    base, cap, nested, dims_text = m["base"], m["cap"], m["hash"], m["dims"]
    dims = tuple(int(d) for d in re.findall(r"\[(\d+)\]", dims_text))
    element: Any
    if nested is not None:
        element = horus.record_class(int(nested, 16))
        if element is None:
            raise LookupError(f"its field {m['name']!r} is a {base} (hash 0x{nested}), not declared in this process")
        if dims:
            raise LookupError(f"its field {m['name']!r} is an array of {base} messages")
        return element
    if base == "string":
        element = horus.string(int(cap))
    elif base == "bool":
        element = np.bool_
    else:
        try:
            element = np.dtype(base).type
        except TypeError:
            raise LookupError(f"its field {m['name']!r} has the unknown type {base!r}") from None
    return horus.array(element, dims) if dims else element


_declared: dict[int, type[horus.TypedMessage]] = {}


def declare_seen(layout_hash: int, description: str) -> type[horus.TypedMessage] | None:
    """Declares, in this process, the message class a topic with this layout hash and type
    description carries, when no class of that hash is declared yet. Returns the class
    (None when layout_hash is 0: the topic is not typed). CliError when the layout cannot be
    rebuilt (a nested type not declared here) or gives another hash."""
    if not layout_hash:
        return None
    known = horus.record_class(layout_hash)
    if known is not None:
        return known
    if layout_hash in _declared:
        return _declared[layout_hash]
    advice = "name its class with --type module:Class"
    bundle = getattr(horus._core, "_layout_bundle", None)
    texts = bundle(layout_hash) if bundle is not None else None
    if texts:  # the namespace's type registry: the type's layout text and its nested types'
        from horus._foxglove import ConversionError, record_class_from_texts

        try:
            rebuilt = record_class_from_texts(list(texts), layout_hash)
        except ConversionError as e:
            raise CliError(f"cannot rebuild the type of layout hash 0x{layout_hash:016x} from the namespace's type "
                           f"registry ({e}); {advice}") from None
        _declared[layout_hash] = rebuilt
        return rebuilt
    found = _LAYOUT.search(description)
    if found is None:
        raise CliError(f"cannot read the layout of {description!r}; {advice}")
    name = found["name"]
    annotations: dict[str, Any] = {}
    try:
        for text in filter(None, found["fields"].split(",")):
            m = _FIELD.match(text)
            if m is None:
                raise LookupError(f"its field {text!r} is not a layout this version knows")
            annotations[m["name"]] = _annotation(m, name)
        body = {"__annotations__": annotations, "__module__": __name__, "__qualname__": name}
        cls: type[horus.TypedMessage] = horus.message(type(name, (), body))
    except LookupError as e:
        raise CliError(f"the topic carries {name} messages ({found.group(0)}), and {e}; {advice}") from None
    except (TypeError, ValueError) as e:
        raise CliError(f"cannot rebuild {name} from its layout {found.group(0)} ({e}); {advice}") from None
    if cls.layout_hash != layout_hash:
        raise CliError(f"rebuilding {name} from its layout {found.group(0)} gave another layout hash "
                       f"(0x{cls.layout_hash:016x}, the topic's is 0x{layout_hash:016x}); {advice}")
    _declared[layout_hash] = cls
    return cls
