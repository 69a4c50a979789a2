"""PointCloud <-> foxglove.PointCloud: the field names of a cloud of F fields, packed
float32/float64 fields, float16 clouds stored as float32 with the horus_dtype extension."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

import horus
from horus._foxglove._images import _stamp
from horus._foxglove._types import ConversionError
from horus._foxglove._wire import (
    _LEN,
    EXT_DTYPE,
    _get_bytes,
    _get_str,
    _get_timestamp,
    _key,
    _last,
    _pb_fields,
    _pb_fixed32,
    _pb_len,
    _pb_quaternion,
    _pb_str,
    _pb_timestamp,
    _pb_varint,
    _varint,
)

#: Foxglove field names of a horus cloud of F fields (3 = XYZ, 4 = XYZI, 6 = XYZRGB); fields
#: past these are f<index>. Colours are separate float fields (Foxglove's "RGBA (separate
#: fields)" colour mode reads red/green/blue), as horus stores them.
_CLOUD_NAMES = {
    3: ("x", "y", "z"),
    4: ("x", "y", "z", "intensity"),
    5: ("x", "y", "z", "intensity", "f4"),
    6: ("x", "y", "z", "red", "green", "blue"),
}
_CLOUD_NAMES_7 = ("x", "y", "z", "intensity", "red", "green", "blue")
_FLOAT32, _FLOAT64 = 7, 8  # foxglove.PackedElementField.NumericType
_NUMERIC_SIZE = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8}
_IDENTITY_POSE = _pb_len(3, _pb_len(1, b"") + _pb_quaternion(2, 0.0, 0.0, 0.0, 1.0))
_cloud_heads: dict[tuple[int, int], bytes] = {}


def cloud_field_names(fields: int) -> tuple[str, ...]:
    """The Foxglove field names of a horus PointCloud with `fields` values per point."""
    if fields in _CLOUD_NAMES:
        return _CLOUD_NAMES[fields]
    if fields < 3:
        return ("x", "y", "z")[:fields]
    return _CLOUD_NAMES_7 + tuple(f"f{i}" for i in range(7, fields))


def _cloud_fields(fields: int, size: int) -> bytes:
    """pose (identity), point_stride and the PackedElementFields of a cloud (cached)."""
    head = _cloud_heads.get((fields, size))
    if head is None:
        kind = _FLOAT32 if size == 4 else _FLOAT64
        elems = b"".join(
            _pb_len(5, _pb_str(1, name) + _pb_fixed32(2, i * size) + _pb_varint(3, kind))
            for i, name in enumerate(cloud_field_names(fields))
        )
        head = _cloud_heads[(fields, size)] = _IDENTITY_POSE + _pb_fixed32(4, fields * size) + elems
    return head


def _encode_cloud(c: horus.PointCloud) -> bytes:
    a = c.to_numpy()
    ext = b""
    if a.dtype == np.float16:  # Foxglove has no float16: float32 holds every value exactly
        a = a.astype(np.float32)
        ext = _pb_str(EXT_DTYPE, "float16")
    n, fields = a.shape
    head = _pb_timestamp(1, c.timestamp_ns) + _pb_str(2, c.frame_id) + _cloud_fields(fields, a.itemsize)
    return b"".join((head, _key(6, _LEN), _varint(a.nbytes), cast(Any, a), ext))


def _decode_cloud(data: Any, what: str) -> horus.PointCloud:
    f = _pb_fields(memoryview(data), what)
    ns = _get_timestamp(f, 1, what)
    frame_id = _get_str(f, 2, what)
    stride = int(_last(f, 4, 0))
    elems = []
    for raw in f.get(5, []):
        if not isinstance(raw, memoryview):
            raise ConversionError(f"{what}: malformed PackedElementField")
        e = _pb_fields(raw, what + " field")
        elems.append((_get_str(e, 1, what), int(_last(e, 2, 0)), int(_last(e, 3, 0))))
    pts = _get_bytes(f, 6, what)
    types = {t for _, _, t in elems}
    if not elems or len(types) != 1 or types - {_FLOAT32, _FLOAT64}:
        raise ConversionError(
            f"{what}: fields {[(n, o, t) for n, o, t in elems]}: a horus PointCloud is made of float32 or float64 "
            "fields of one type (PackedElementField types 7 or 8)"
        )
    size = _NUMERIC_SIZE[types.pop()]
    offsets = sorted(o for _, o, _ in elems)
    if offsets != [i * size for i in range(len(elems))] or stride != len(elems) * size:
        raise ConversionError(
            f"{what}: fields at offsets {offsets} with point_stride {stride}: a horus PointCloud's fields are "
            f"packed one after another ({size} bytes each, stride {len(elems) * size})"
        )
    if pts.nbytes % stride:
        raise ConversionError(f"{what}: {pts.nbytes} bytes of points is not a multiple of point_stride {stride}")
    dt = np.float32 if size == 4 else np.float64
    a = np.frombuffer(pts, dt).reshape(pts.nbytes // stride, len(elems))
    ext = _get_str(f, EXT_DTYPE, what)
    if ext:
        if ext != "float16" or size != 4:
            raise ConversionError(f"{what}: horus_dtype {ext!r} (only 'float16' over float32 fields is defined)")
        a = a.astype(np.float16)
    try:
        cloud = horus.PointCloud.from_numpy(a)
    except (ValueError, TypeError) as e:
        raise ConversionError(f"{what}: {a.shape[0]} points x {a.shape[1]} fields: {e}") from None
    return _stamp(cloud, ns, frame_id, what)
