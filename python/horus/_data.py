"""Schemaless data topics: ``Topic("status")`` carries any MessagePack-able value.

A value is encoded with msgpack (dict, list, tuple, str, int, float, bool, None, bytes);
NumPy arrays anywhere inside are replaced by a reference (an extension type naming the
array's dtype, shape and index) and their bytes are copied once, by the C core, into the
same pool block after the MessagePack header (64-byte aligned). The receiver gets the
arrays as read-only NumPy views of that block: no copy. Layout of the payload:

    u32 header bytes | u32 arrays | header | u64 offset of each array | arrays

There is no size cap other than the pool. msgpack.ExtType values of other codes than 1 and
2 (horus's) and msgpack.Timestamp pass through as MessagePack carries them. Tuples come back as tuples (an extension type
holding the items), so at most MAX_TUPLE_DEPTH tuples may nest inside each other (each
level is a MessagePack document of its own); lists and dicts nest up to msgpack's limit.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

import msgpack
import numpy as np

__all__ = ["encode", "decode", "CORRUPT", "MAX_TUPLE_DEPTH"]

_EXT_ARRAY = 1
_EXT_TUPLE = 2

#: Tuples nested deeper than this are refused (ValueError on send; dropped on receive).
MAX_TUPLE_DEPTH = 8

#: What decode() returns for a payload that is not a valid message (the core drops it).
CORRUPT = object()

_SUPPORTED = "dict, list, tuple, str, int, float, bool, None, bytes and NumPy arrays (or NumPy scalars)"
_HEAD = struct.Struct("<II")
_BASIC = (bool, int, float, str, bytes)


class _Encoder:
    """One per thread: a reusable Packer and the arrays of the message being encoded."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.depth = 0
        self.packer = msgpack.Packer(default=self.default, strict_types=True, use_bin_type=True)

    def default(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, np.void):  # a structured scalar: its item() (a tuple), like other NumPy scalars
            return self.default(obj.item())
        if isinstance(obj, np.generic):
            v = obj.item()
            if isinstance(v, _BASIC):
                return v
            raise TypeError(f"cannot send a NumPy {type(obj).__name__} ({_short(obj)}) on a schemaless topic; "
                            f"it carries {_SUPPORTED}")
        if isinstance(obj, tuple):
            if self.depth >= MAX_TUPLE_DEPTH:
                raise ValueError(f"cannot send tuples nested more than {MAX_TUPLE_DEPTH} deep on a schemaless topic "
                                 "(use lists for deeper nesting)")
            self.depth += 1
            try:
                inner = msgpack.packb(list(obj), default=self.default, strict_types=True, use_bin_type=True)
            finally:
                self.depth -= 1
            return msgpack.ExtType(_EXT_TUPLE, inner)
        if isinstance(obj, dict):
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
        if isinstance(obj, bytearray | memoryview):
            return bytes(obj)
        # Subclasses (IntEnum, str enums): their base value, not their str().
        if isinstance(obj, str):
            return str.__str__(obj)
        if isinstance(obj, int):
            return int.__index__(obj)
        if isinstance(obj, float):
            return float.__float__(obj)
        if isinstance(obj, bytes):
            return bytes.__getitem__(obj, slice(None))
        raise TypeError(f"cannot send a value of type {type(obj).__qualname__} ({_short(obj)}) on a schemaless "
                        f"topic; it carries {_SUPPORTED}")

    def array(self, obj: np.ndarray) -> msgpack.ExtType:
        if isinstance(obj, np.ma.MaskedArray):
            raise TypeError("cannot send a NumPy masked array on a schemaless topic (its mask would be lost); "
                            "send .data and .mask as two arrays")
        if obj.dtype.hasobject:
            raise TypeError(f"cannot send a NumPy array of dtype {obj.dtype} (it holds Python objects); {_SUPPORTED}")
        a = obj if obj.flags.c_contiguous else obj.copy(order="C")  # (keeps 0-d arrays 0-d)
        self.arrays.append(a.reshape(-1).view(np.uint8))  # its bytes (any dtype, datetime64 too)
        descr = np.lib.format.dtype_to_descr(a.dtype)
        return msgpack.ExtType(_EXT_ARRAY, msgpack.packb([descr, list(a.shape), len(self.arrays) - 1]))


_tls = threading.local()


def encode(value: Any) -> bytes | tuple[bytes, list[np.ndarray]]:
    """The MessagePack header, or (header, the bytes (uint8 views) of the NumPy arrays it
    refers to) when there are arrays."""
    enc: _Encoder | None = getattr(_tls, "encoder", None)
    if enc is None:
        enc = _tls.encoder = _Encoder()
    enc.arrays = []
    enc.depth = 0
    try:
        header = enc.packer.pack(value)
    except OverflowError as e:
        enc.packer.reset()
        raise ValueError(f"cannot send {_short(value)}: an int beyond MessagePack's range (-2**63 to 2**64-1) ({e})"
                         ) from None
    except ValueError as e:
        enc.packer.reset()
        raise ValueError(f"cannot send {_short(value)}: {e}") from None
    except BaseException:
        enc.packer.reset()
        raise
    if not enc.arrays:
        return header
    arrays, enc.arrays = enc.arrays, []
    return header, arrays


def _tuple(data: bytes, hook: Any) -> tuple[Any, ...]:
    """A tuple extension: its items, decoded with `hook`; depth-limited per thread."""
    depth = getattr(_tls, "depth", 0)
    if depth >= MAX_TUPLE_DEPTH:
        raise ValueError("tuples nested too deep")
    _tls.depth = depth + 1
    try:
        return tuple(msgpack.unpackb(data, ext_hook=hook, strict_map_key=False))
    finally:
        _tls.depth = depth


def _inline_hook(code: int, data: bytes) -> Any:
    """ext_hook of a message without arrays (the core calls msgpack.unpackb with it for
    inline messages): tuples; other codes than horus's pass through."""
    if code == _EXT_TUPLE:
        return _tuple(data, _inline_hook)
    if code == _EXT_ARRAY:
        raise ValueError("an array reference in a message without arrays")
    return msgpack.ExtType(code, data)  # not ours: MessagePack's own value, passed through


class _Decoder:
    """The ext hook of a payload with arrays: they are views of `mv` at `offsets`."""

    __slots__ = ("mv", "offsets")

    def __init__(self, mv: memoryview, offsets: Any) -> None:
        self.mv, self.offsets = mv, offsets

    def hook(self, code: int, data: bytes) -> Any:
        if code != _EXT_ARRAY:
            return _tuple(data, self.hook) if code == _EXT_TUPLE else _inline_hook(code, data)
        descr, shape, index = msgpack.unpackb(data, strict_map_key=False)
        dt = np.lib.format.descr_to_dtype(descr if isinstance(descr, str) else [tuple(x) for x in descr])
        if dt.hasobject or not 0 <= index < len(self.offsets):
            raise ValueError("bad array reference")
        count = 1
        for d in shape:
            if not isinstance(d, int) or d < 0:
                raise ValueError("bad shape")
            count *= d
        off = int(self.offsets[index])
        if off + count * dt.itemsize > self.mv.nbytes:
            raise ValueError("array outside the payload")
        return np.frombuffer(self.mv, dtype=dt, count=count, offset=off).reshape(shape)


def decode(payload: Any) -> Any:
    """The value of a received payload (bytes, or a read-only buffer that keeps the pool
    block alive), or CORRUPT."""
    try:
        mv = memoryview(payload)
        if mv.nbytes < 8:
            return CORRUPT
        hlen, n = _HEAD.unpack_from(mv)
        if 8 + hlen + 8 * n > mv.nbytes:
            return CORRUPT
        hook = _Decoder(mv, struct.unpack_from(f"<{n}Q", mv, 8 + hlen)).hook if n else _inline_hook
        return msgpack.unpackb(mv[8 : 8 + hlen], ext_hook=hook, strict_map_key=False)
    except Exception:  # noqa: BLE001 (anything a corrupt payload makes msgpack or numpy raise)
        return CORRUPT


def _short(v: Any) -> str:
    try:
        r = repr(v)
    except Exception:  # noqa: BLE001
        r = f"<{type(v).__qualname__}>"
    return r if len(r) <= 60 else r[:57] + "..."
