"""Tensor (and Tensor of records) <-> horus.Tensor, horus's own protobuf schema
(see _schemas._tensor_file)."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

import horus
from horus._foxglove._images import _stamp
from horus._foxglove._layouts import _record_class_from_metadata
from horus._foxglove._types import ConversionError
from horus._foxglove._wire import (
    _I64,
    _LEN,
    _get_bytes,
    _get_str,
    _get_timestamp,
    _key,
    _last,
    _pb_fields,
    _pb_len,
    _pb_str,
    _pb_timestamp,
    _read_varint,
    _varint,
)


def _encode_tensor(t: horus.Tensor) -> bytes:
    a = t.to_numpy()  # a structured array for a Tensor of records: the same bytes
    rec = t.record_type
    shape = b"".join(_varint(d) for d in t.shape)
    head = (
        _pb_timestamp(1, t.timestamp_ns)
        + _pb_str(2, t.frame_id)
        + _pb_str(3, t.dtype)
        + (_pb_len(4, shape) if shape else b"")
        + _key(5, _LEN)
        + _varint(a.nbytes)
    )
    tail = b""
    if rec is not None:
        tail = _pb_str(6, rec.__name__) + _key(7, _I64) + struct.pack("<Q", rec.layout_hash)
    return b"".join((head, cast(Any, a), tail))


_TENSOR_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                  "float32", "float64"}


def _decode_tensor(data: Any, metadata: Mapping[str, str], what: str) -> horus.Tensor:
    f = _pb_fields(memoryview(data), what)
    ns = _get_timestamp(f, 1, what)
    frame_id = _get_str(f, 2, what)
    dtype = _get_str(f, 3, what)
    if dtype not in _TENSOR_DTYPES:
        raise ConversionError(f"{what}: tensor dtype {dtype!r}; horus tensors are {', '.join(sorted(_TENSOR_DTYPES))}")
    shape: list[int] = []
    for raw in f.get(4, []):
        if isinstance(raw, memoryview):  # packed
            pos = 0
            while pos < len(raw):
                d, pos = _read_varint(raw, pos, len(raw))
                shape.append(d)
        else:
            shape.append(raw)
    if len(shape) > 8:
        raise ConversionError(f"{what}: {len(shape)} dimensions; horus tensors have 0 to 8")
    payload = _get_bytes(f, 5, what)
    count = math.prod(shape)
    itemsize = np.dtype(dtype).itemsize
    if payload.nbytes != count * itemsize:
        raise ConversionError(f"{what}: {payload.nbytes} bytes of data for shape {tuple(shape)} of {dtype} "
                              f"({count * itemsize} bytes)")
    rec_name = _get_str(f, 6, what)
    rec_hash = _last(f, 7, 0)
    rec = None
    if rec_name or rec_hash:
        rec = _record_class_from_metadata(metadata, what)
        if rec.layout_hash != rec_hash or rec.__name__ != rec_name or dtype != "uint8" or not shape or \
                shape[-1] != rec.dtype.itemsize:
            raise ConversionError(
                f"{what}: a Tensor of {rec_name} records (hash {rec_hash:#018x}, dtype {dtype}, shape {tuple(shape)}) "
                f"on a channel of {rec.__name__} records (hash {rec.layout_hash:#018x}, size {rec.dtype.itemsize})"
            )
    try:
        t = horus.Tensor.from_numpy(np.frombuffer(payload, dtype, count=count).reshape(shape))
        if rec is not None:
            t._set_record_type(rec)
    except (ValueError, TypeError) as e:
        raise ConversionError(f"{what}: tensor of shape {tuple(shape)} {dtype}: {e}") from None
    return _stamp(t, ns, frame_id, what)
