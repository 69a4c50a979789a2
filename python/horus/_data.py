"""Schemaless data topics: ``Topic("status")`` carries any MessagePack-able value.

A value is encoded with msgpack (dict, list, tuple, str, int, float, bool, None, bytes);
NumPy arrays anywhere inside are replaced by a reference (an extension type naming the
array's dtype, shape and index) and their bytes are copied once, by the C core, into the
same pool block after the MessagePack header (64-byte aligned). The receiver gets the
arrays as read-only NumPy views of that block: no copy. Layout of the payload:

    u32 header bytes | u32 arrays | header | u64 offset of each array | arrays

There is no size cap other than the pool. Tuples come back as tuples (an extension
type), dict keys may be any of these values that is hashable.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

__all__ = ["encode", "decode", "CORRUPT"]

_EXT_ARRAY = 1
_EXT_TUPLE = 2

#: What decode() returns for a payload that is not a valid message (the core drops it).
CORRUPT = object()

_SUPPORTED = "dict, list, tuple, str, int, float, bool, None, bytes and NumPy arrays (or NumPy scalars)"


def encode(value: Any) -> tuple[bytes, list[np.ndarray]]:
    """(MessagePack header, the NumPy arrays it refers to, C-contiguous)."""
    arrays: list[np.ndarray] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError(f"cannot send a NumPy array of dtype {obj.dtype} (it holds Python objects); {_SUPPORTED}")
            a = obj if obj.flags.c_contiguous else obj.copy(order="C")  # (keeps 0-d arrays 0-d)
            arrays.append(a)
            descr = np.lib.format.dtype_to_descr(a.dtype)
            return msgpack.ExtType(_EXT_ARRAY, msgpack.packb([descr, list(a.shape), len(arrays) - 1]))
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, tuple):
            return msgpack.ExtType(_EXT_TUPLE, _pack(list(obj)))
        if isinstance(obj, dict):
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
        for t in (int, float, str, bytes):  # subclasses (IntEnum, str enums): their base value
            if isinstance(obj, t):
                return t(obj)
        raise TypeError(f"cannot send a value of type {type(obj).__qualname__} ({_short(obj)}) on a schemaless "
                        f"topic; it carries {_SUPPORTED}")

    def _pack(v: Any) -> bytes:
        try:
            return msgpack.packb(v, default=default, strict_types=True, use_bin_type=True)
        except OverflowError as e:
            raise ValueError(f"cannot send {_short(v)}: an int beyond MessagePack's range (-2**63 to 2**64-1) ({e})") from None
        except ValueError as e:
            raise ValueError(f"cannot send {_short(v)}: {e}") from None

    return _pack(value), arrays


def decode(payload: Any) -> Any:
    """The value of a received payload (a read-only buffer that keeps the pool block alive),
    or CORRUPT."""
    mv = memoryview(payload)
    try:
        if mv.nbytes < 8:
            return CORRUPT
        head = np.frombuffer(mv, dtype="<u4", count=2)
        hlen, n = int(head[0]), int(head[1])
        if 8 + hlen + 8 * n > mv.nbytes:
            return CORRUPT
        offsets = np.frombuffer(mv, dtype="<u8", count=n, offset=8 + hlen)

        def ext_hook(code: int, data: bytes) -> Any:
            if code == _EXT_TUPLE:
                return tuple(msgpack.unpackb(data, ext_hook=ext_hook, strict_map_key=False, use_list=True))
            if code != _EXT_ARRAY:
                raise ValueError(f"unknown extension type {code}")
            descr, shape, index = msgpack.unpackb(data, strict_map_key=False)
            dt = np.lib.format.descr_to_dtype(descr if isinstance(descr, str) else [tuple(x) for x in descr])
            if dt.hasobject or not 0 <= index < n:
                raise ValueError("bad array reference")
            count = int(np.prod(shape)) if shape else 1
            off = int(offsets[index])
            if off + count * dt.itemsize > mv.nbytes:
                raise ValueError("array outside the payload")
            return np.frombuffer(mv, dtype=dt, count=count, offset=off).reshape(shape)

        return msgpack.unpackb(mv[8 : 8 + hlen], ext_hook=ext_hook, strict_map_key=False, raw=False)
    except Exception:  # noqa: BLE001 (anything a corrupt payload makes msgpack or numpy raise)
        return CORRUPT


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."
