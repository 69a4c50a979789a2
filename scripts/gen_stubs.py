"""Regenerates python/horus/_core.pyi from the installed horus._core.

Usage (after `make install`): .venv/bin/python scripts/gen_stubs.py python/horus/_core.pyi
Runs nanobind.stubgen (private members included), then replaces its generic types
(object, dict, tuple) with precise ones, declares the exception classes in the stub
itself, makes Topic generic in its message type (Topic[Image], Topic[BatteryState];
Topic[Any] for schemaless and untyped topics) and Tensor generic in its record type
(Tensor[Detection]), and writes the private names the Python package uses (the typed
messages' C base _RecordBase, _declare_record, ...) with precise signatures. Each
docstring comes from the module itself.
"""
import os
import re
import subprocess
import sys
import tempfile

import horus._core as core

raw = os.path.join(tempfile.mkdtemp(), "_core.pyi")
subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-q", "-P", "-m", "horus._core", "-o", raw], check=True)
s = open(raw).read()


def doc(obj, indent="    "):
    """A stub docstring for obj (the module's own text)."""
    text = (obj.__doc__ or "").strip()
    if "\n" not in text and len(text) < 90:
        return f'{indent}"""{text}"""\n'
    body = "\n".join((indent + line).rstrip() for line in text.splitlines())
    return f'{indent}"""\n{body}\n{indent}"""\n'


def body_doc(func):
    """A nanobind function's docstring without its signature line."""
    text = (func.__doc__ or "").strip()
    first, _, rest = text.partition("\n")
    return rest.strip() if first.startswith(func.__name__ + "(") else text


class _Doc:
    def __init__(self, text):
        self.__doc__ = text


def fdoc(func, indent="    "):
    return doc(_Doc(body_doc(func)), indent)


s = re.sub(r"^from collections\.abc import Sequence\n\n?", "", s, count=1, flags=re.M)  # header_new has it
header_old = s[s.index("from horus import ("):s.index(")\n", s.index("from horus import (")) + 2]
header_new = '''from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeAlias, overload

import numpy
import numpy.typing
from typing_extensions import Self, TypeVar

#: Anything from_numpy/from_torch accept: NumPy arrays, torch tensors, JAX arrays,
#: objects with __dlpack__ or the buffer protocol (CPU memory, numeric dtypes).
ArrayLike: TypeAlias = numpy.typing.ArrayLike | Any
#: bytes-like objects (buffer protocol, C-contiguous).
BytesLike: TypeAlias = bytes | bytearray | memoryview | numpy.ndarray[Any, Any]
#: One value per channel, or one number for all channels (fill).
PixelValues: TypeAlias = float | Sequence[float] | numpy.ndarray[Any, Any]

#: The record type of a Tensor of records (horus.Tensor[Detection]); Any for other tensors.
_R = TypeVar("_R", bound="_RecordBase", default=Any)
_R2 = TypeVar("_R2", bound="_RecordBase")
#: What a Topic carries: Topic[Image], Topic[BatteryState], Topic[Tensor[Detection]]; Topic[Any]
#: for schemaless topics (Topic("name")) and topics opened untyped (Topic(None, "name")).
_M = TypeVar("_M", bound="Image | DepthImage | PointCloud | Tensor[Any] | _RecordBase", default=Any)


class HorusError(Exception):
    """Base class of horus errors."""

class PoolExhausted(HorusError, MemoryError):
    """The shared-memory pool cannot fit an allocation under its cap (HORUS_POOL_MAX_BYTES)."""

class ReadOnlyError(HorusError, ValueError):
    """A mutation of a shared message (sent or received); call copy() for a writable one."""

class ShmError(HorusError, OSError):
    """A shared-memory object is missing, corrupt or foreign."""

class StaleReference(HorusError):
    """A pool reference whose block was already freed."""
'''
s = s.replace(header_old, header_new)
s = s.replace("import types\n\n", "", 1)  # only the private types' descriptors used it (written below)

# ---- top-level blocks written here (private C types and helpers) ---------------------------
R_BASE = core._RecordBase
blocks = {
    "class _RecordBase": (
        "class _RecordBase:\n" + doc(R_BASE) + "\n"
        "    __hash__: ClassVar[None]  # type: ignore[assignment]\n\n"
        "    def __init__(self, *args: Any, **fields: Any) -> None:\n"
        '        """Fields by position (in order) or by name; also timestamp_ns= and frame_id=."""\n\n'
        "    def __eq__(self, other: object, /) -> bool: ...\n\n"
        "    def __ne__(self, other: object, /) -> bool: ...\n\n"
        "    def __buffer__(self, flags: int, /) -> memoryview:\n"
        '        """The message\'s C bytes (buffer protocol: bytes(msg), memoryview(msg), numpy.frombuffer)."""\n\n'
        "    def copy(self) -> Self:\n" + doc(R_BASE.copy, "        ") + "\n"
        "    def __copy__(self) -> Self: ...\n\n"
        "    def __deepcopy__(self, memo: Any, /) -> Self: ...\n\n"
        "    def set_timestamp_ns(self, timestamp_ns: int, /) -> None:\n" + doc(R_BASE.set_timestamp_ns, "        ") + "\n"
        "    def set_frame_id(self, frame_id: str, /) -> None:\n" + doc(R_BASE.set_frame_id, "        ") + "\n"
        "    def is_shared(self) -> bool:\n" + doc(R_BASE.is_shared, "        ") + "\n"
        "    @property\n    def timestamp_ns(self) -> int:\n" + doc(R_BASE.timestamp_ns, "        ") + "\n"
        "    @property\n    def frame_id(self) -> str:\n" + doc(R_BASE.frame_id, "        ")
    ),
    "class _RecordField": (
        "class _RecordField:\n" + doc(core._RecordField) + "\n"
        "    def __get__(self, instance: Any, owner: type | None = None, /) -> Any: ...\n\n"
        "    def __set__(self, instance: Any, value: Any, /) -> None: ...\n\n"
        "    def __delete__(self, instance: Any, /) -> None: ...\n\n"
        "    def __repr__(self) -> str: ...\n"
    ),
    "class _Payload": "class _Payload:\n" + doc(core._Payload) + "\n    def __repr__(self) -> str: ...\n",
    "def _declare_record": (
        "def _declare_record(cls: type, name: str, fields: Sequence[tuple[str, str, Any, tuple[int, ...], int]], "
        "size: int) -> tuple[int, str, int, int]:\n" + fdoc(core._declare_record)
    ),
    "def _standard_layouts": (
        "def _standard_layouts() -> list[tuple[str, list[tuple[str, str, Any, tuple[int, ...], int]], int, int]]:\n"
        + doc(_Doc(body_doc(core._standard_layouts) + "\n\n(name, fields, size, layout_hash) per message; a field is "
                   "(name, kind, arg, dims, offset),\nkind 'scalar' (arg: dtype name), 'string' (arg: capacity) "
                   "or 'record' (arg: message name)."))
    ),
    "def _record_field_info": (
        "def _record_field_info(cls: type, index: int, /) -> tuple[str, int, tuple[int, ...], int, int]:\n"
        + fdoc(core._record_field_info)
    ),
    "def _list_namespaces": "def _list_namespaces() -> list[dict[str, Any]]:\n" + fdoc(core._list_namespaces),
}
for head, text in blocks.items():
    m = re.search(rf"^{re.escape(head)}\b.*?(?=^\S)", s, flags=re.M | re.S)
    if not m:
        sys.exit(f"no block: {head}")
    s = s[:m.start()] + text + "\n" + s[m.end():]

rep = [
    (r"\(array: object", "(array: ArrayLike"),
    (r"\(tensor: object", "(tensor: Any"),
    (r"def from_bytes\(data: object", "def from_bytes(data: BytesLike"),
    (r"def copy_from\(self, data: object\)", "def copy_from(self, data: BytesLike)"),
    (r"values: object\)", "values: PixelValues)"),
    (r"def pixel\(self, x: int, y: int\) -> list:", "def pixel(self, x: int, y: int) -> list[int] | list[float]:"),
    (r"def to_numpy\(self\) -> object:", "def to_numpy(self) -> numpy.ndarray[Any, numpy.dtype[Any]]:"),
    (r"def to_torch\(self\) -> object:", "def to_torch(self) -> Any:"),
    (r"def to_jax\(self\) -> object:", "def to_jax(self) -> Any:"),
    (r"def __array_interface__\(self\) -> dict:", "def __array_interface__(self) -> dict[str, Any]:"),
    (r"def __dlpack__\(self, \*\*kwargs\) -> object:",
     "def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None, "
     "dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:"),
    (r"def __dlpack_device__\(self\) -> tuple:", "def __dlpack_device__(self) -> tuple[int, int]:"),
    (r"def depth_statistics\(self\) -> object:", "def depth_statistics(self) -> tuple[float, float, float] | None:"),
    (r"def __init__\(self, shape: object,", "def __init__(self, shape: int | Sequence[int],"),
    (r"def shape\(self\) -> tuple:", "def shape(self) -> tuple[int, ...]:"),
    (r"def as_dict\(self\) -> dict:", "def as_dict(self) -> dict[str, int | str]:"),
    (r"def _topics\(\) -> list:", "def _topics() -> list[dict[str, Any]]:"),
    (r"def _topic\(name: str\) -> object:", "def _topic(name: str) -> dict[str, Any] | None:"),
    (r"def _nodes\(\) -> list:", "def _nodes() -> list[dict[str, Any]]:"),
    (r"def stats\(self\) -> dict:", "def stats(self) -> dict[str, Any]:"),
    (r"def _layout_bundle\(layout_hash: int\) -> object:", "def _layout_bundle(layout_hash: int) -> list[str] | None:"),
    (r"def block_ref\(msg: object \| None\) -> tuple:", "def block_ref(msg: object | None) -> tuple[int, int, int, int]:"),
    (r"^ENCODINGS: dict = \.\.\.", "#: encoding name -> (channels, bytes per pixel, dtype name), as in the spec's table.\nENCODINGS: dict[str, tuple[int, int, str]] = ..."),
    # Tensor: generic in its record type (Tensor[Detection]; Tensor = Tensor[Any] for other tensors).
    (r"^class Tensor:", "class Tensor(Generic[_R]):"),
    (r"def _set_record_type\(self, message_type: object\) -> None:", "def _set_record_type(self, message_type: type[_RecordBase]) -> None:"),
    (r"def record_type\(self\) -> object:", "def record_type(self) -> type[_R] | None:"),
    (r"(\n    @staticmethod\n    def from_torch\(tensor: Any\) -> Tensor:)",
     "\n    @staticmethod\n    def from_records(array: ArrayLike, message_type: type[_R2]) -> Tensor[_R2]:\n"
     '        """\n        A Tensor of `message_type` records from a structured array of its dtype (one copy).\n'
     "        (Set on the class by horus/__init__.py.)\n" '        """\n\\1'),
    (r"def copy\(self\) -> Tensor:", "def copy(self) -> Tensor[_R]:"),
    # Topic: generic in its message type.
    (r"^class Topic:", "class Topic(Generic[_M]):"),
    (r"    def __init__\(self, message_type: object \| None, name: str \| None = None, capacity: int \| None = None\) -> None: \.\.\.\n",
     "    @overload\n"
     "    def __init__(self, message_type: type[_M], name: str | None = None, capacity: int | None = None) -> None:\n"
     '        """Topic(Image), Topic(BatteryState, "battery"), Topic(horus.Tensor[Detection], "d"): a typed topic."""\n\n'
     "    @overload\n"
     "    def __init__(self: Topic[Any], message_type: str, name: None = None, capacity: int | None = None) -> None:\n"
     '        """Topic("status"): a schemaless topic (any MessagePack-able value)."""\n\n'
     "    @overload\n"
     "    def __init__(self: Topic[Any], message_type: None, name: str, capacity: int | None = None) -> None:\n"
     '        """Topic(None, "name"): opens whatever the topic carries."""\n'),
    (r"def send\(self, msg: object \| None\) -> None:", "def send(self, msg: _M) -> None:"),
    (r"def try_recv\(self\) -> object:", "def try_recv(self) -> _M | None:"),
    (r"def recv\(self, timeout: object \| None = None\) -> object:", "def recv(self, timeout: float | None = None) -> _M | None:"),
    (r"def message_type\(self\) -> object:", "def message_type(self) -> type[_M] | None:"),
]
for a, b in rep:
    s, n = re.subn(a, b, s, flags=re.M)
    if n == 0:
        sys.exit(f"no match: {a}")
leftover = [line for line in s.splitlines() if re.search(r"-> (object|list|tuple|dict)\b(?!\[)|: (list|tuple|dict)[,)]|getset_descriptor|MethodDescriptorType", line)]
if leftover:
    sys.exit("untyped or generic left in the stub:\n" + "\n".join(leftover))
s = '"""horus C++ core: shared-memory pool and zero-copy message types.\n\nType stubs for the nanobind extension horus._core: generated by scripts/gen_stubs.py\n(`python -m nanobind.stubgen -P -m horus._core`, then given precise types; see\ntests/test_stubs.py, which checks they match the module).\n"""' + s[s.index('"""', 3) + 3:]
open(sys.argv[1], "w").write(s)
