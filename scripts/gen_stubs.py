"""Regenerates python/horus/_core.pyi from the installed horus._core.

Usage (after `make install`): .venv/bin/python scripts/gen_stubs.py python/horus/_core.pyi
Runs nanobind.stubgen, then replaces its generic types (object, dict, tuple) with
precise ones and declares the exception classes in the stub itself.
"""
import re
import sys
import subprocess, tempfile, os
raw = os.path.join(tempfile.mkdtemp(), "_core.pyi")
subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-q", "-m", "horus._core", "-o", raw], check=True)
s = open(raw).read()
header_old = s[s.index("from horus import ("):s.index(")\n", s.index("from horus import (")) + 2]
header_new = '''from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy
import numpy.typing

#: Anything from_numpy/from_torch accept: NumPy arrays, torch tensors, JAX arrays,
#: objects with __dlpack__ or the buffer protocol (CPU memory, numeric dtypes).
ArrayLike: TypeAlias = numpy.typing.ArrayLike | Any
#: bytes-like objects (buffer protocol, C-contiguous).
BytesLike: TypeAlias = bytes | bytearray | memoryview | numpy.ndarray[Any, Any]
#: One value per channel, or one number for all channels (fill).
PixelValues: TypeAlias = float | Sequence[float] | numpy.ndarray[Any, Any]


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
    (r"^ENCODINGS: dict = \.\.\.", "#: encoding name -> (channels, bytes per pixel, dtype name), as in the spec's table.\nENCODINGS: dict[str, tuple[int, int, str]] = ..."),
]
for a, b in rep:
    s, n = re.subn(a, b, s, flags=re.M)
    if n == 0:
        sys.exit(f"no match: {a}")
s = '"""horus C++ core: shared-memory pool and zero-copy message types.\n\nType stubs for the nanobind extension horus._core: generated with\n`python -m nanobind.stubgen -m horus._core`, then given precise types\n(see tests/test_stubs.py, which checks they match the module).\n"""' + s[s.index('"""', 3) + 3:]
open(sys.argv[1], "w").write(s)
