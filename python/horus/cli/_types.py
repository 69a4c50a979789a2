"""Message types for the horus command: names on the command line, and types seen on topics.

* `resolve(spec)`: a TYPE argument as a message class: a standard message (`CmdVel`,
  `horus.msg.CmdVel`, `horus.CmdVel`), a user's class (`module:Class`, or `path/file.py:Class`;
  the current directory is on the import path, as for `python -m`), or `data` for a
  schemaless topic.
* `declare_seen(layout_hash, description)`: makes a typed topic receivable in this process
  when its class is not declared here, with the mapping's rebuilder
  (horus._foxglove._layouts.live_record_class: the namespace's type registry, which knows
  nested types, else the layout text in the topic's description).
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


import horus
from horus._foxglove import ConversionError
from horus._foxglove._layouts import live_record_class
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
    except SystemExit as e:  # sys.exit() in the module: the command did not run, say why
        raise CliError(f"type {spec!r}: importing {module!r} called sys.exit({e.code!r})") from None
    except KeyboardInterrupt:  # Ctrl-C (or a raise) while importing: the command never started
        raise CliError(f"type {spec!r}: importing {module!r} was interrupted (KeyboardInterrupt)") from None
    cls = getattr(mod, attr, None)
    if cls is None:
        raise CliError(f"type {spec!r}: module {module!r} has no attribute {attr!r}")
    if not _is_message_class(cls):
        raise CliError(f"type {spec!r}: {cls!r} is not a @horus.message class")
    return typing.cast("type[horus.TypedMessage]", cls)


def declare_seen(layout_hash: int, description: str) -> type[horus.TypedMessage] | None:
    """The message class of a topic with this layout hash and type description, declared in
    this process when it is not (horus._foxglove's live_record_class: from the namespace's
    type registry, else from the description's layout text). None when layout_hash is 0 (the
    topic is not typed). CliError when the type cannot be rebuilt."""
    if not layout_hash:
        return None
    advice = "name its class with --type module:Class"
    try:
        cls = live_record_class(layout_hash, description)
    except ConversionError as e:
        raise CliError(f"cannot rebuild the type of layout hash 0x{layout_hash:016x} ({e}); {advice}") from None
    if cls is None:
        raise CliError(f"cannot read the layout of {description!r} (the namespace's type registry does not know "
                       f"layout hash 0x{layout_hash:016x}); {advice}")
    return cls
