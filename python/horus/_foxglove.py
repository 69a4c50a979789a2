"""Conversion between horus messages and Foxglove's schemas: the one mapping shared by the
MCAP recorder, player and reader (horus.bag) and the live view (horus.view).

``channel_schema(msg)`` gives the MCAP channel of a topic from its first message (schema
name, schema encoding and data, message encoding, channel metadata); ``encode(msg)`` the
bytes of one message; ``decode(...)`` turns the bytes back into the exact horus message.

=========================  ============================  ==================================
horus                      schema (message encoding)     notes
=========================  ============================  ==================================
Image                      foxglove.RawImage (protobuf)  encodings below; step = width*bpp
DepthImage float32 / u16   foxglove.RawImage (protobuf)  "32FC1" (metres) / "16UC1" (mm)
PointCloud (N, F)          foxglove.PointCloud           fields x, y, z, intensity, red,
                           (protobuf)                    green, blue (see _CLOUD_NAMES)
horus.msg.TransformStamped foxglove.FrameTransform (pb)  parent/child frames, translation
horus.msg.Pose             foxglove.PoseInFrame (pb)     frame_id = the message's frame_id
other typed messages       <type name> (json)            JSON Schema from the declaration
Tensor (Tensor of records) horus.Tensor (protobuf)       our schema, see _tensor_file()
schemaless data            horus.Data (json)             tagged JSON, see _data_to_json()
=========================  ============================  ==================================

Image encodings: rgb8, bgr8, rgba8, bgra8, mono8, bayer_rggb8 and yuv422 keep their names
(Foxglove reads yuv422 as UYVY), mono16 -> "16UC1", mono32f -> "32FC1", rgb32f -> "32FC3"
(ROS's name; Foxglove does not display it), depth16 -> "16UC1" plus the horus extension
field below. Every horus encoding is mapped (cpp/include/horus/msg/encoding.hpp).

Protobuf messages are written by a small wire-format encoder (fields in number order, proto3
defaults omitted), so that pixel and point bytes are copied once, into the message's bytes;
tests check the output against Foxglove's own classes. Where a Foxglove schema has no slot
for a horus value, a *horus extension field* carries it; protobuf readers (Foxglove
included) skip fields they do not know:

  10001 string horus_frame_id   FrameTransform: the TransformStamped's frame_id, if not ""
  10002 string horus_encoding   RawImage: the horus encoding where the Foxglove one is
                                ambiguous (depth16, which shares "16UC1" with mono16)
  10003 string horus_dtype      PointCloud: "float16" (Foxglove has no float16 field type;
                                the points are stored as float32, exactly)

JSON: floats are written with Python's repr, the shortest text that reads back as the same
double, so every float16/32/64 value survives exactly (a float32 0.1 reads
0.10000000149011612); NaN, Infinity and -Infinity, which JSON lacks, are the strings "NaN",
"Infinity" and "-Infinity" in typed messages (their JSON Schema allows them) and tagged
objects in schemaless data. Integers are exact (JavaScript viewers show int64 values above
2**53 rounded).

Channel metadata (all str): horus.kind (Image, DepthImage, PointCloud, Tensor, Record,
Data), horus.type_name, horus.layout_hash (0x + 16 hex digits), horus.layout_text and
horus.layouts (JSON: the layout text of every nested type, by "Name#hash"), so that decode
restores the exact type, declaring the class from the recorded layout if this process has
not (the layout hash must match); horus.encoding / horus.dtype of the first message;
horus.mapping (the version of this mapping, "1").
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgpack
import numpy as np
from google.protobuf import descriptor_pb2

import horus
from horus._message import TypedMessage, _MessageMeta, array, record_class, string

__all__ = [
    "ChannelSchema",
    "ConversionError",
    "MAPPING_VERSION",
    "channel_schema",
    "decode",
    "encode",
    "horus_type",
    "record_class_for",
]

#: Version of this mapping, written to every channel's metadata (horus.mapping).
MAPPING_VERSION = "1"


class ConversionError(horus.HorusError, ValueError):
    """A message that cannot be converted to or from its channel's encoding (the text says
    what is wrong)."""


@dataclass(frozen=True)
class ChannelSchema:
    """How one topic is written to MCAP: its schema and message encoding, and the channel
    metadata that lets decode() restore the exact horus type."""

    schema_name: str
    schema_encoding: str  # "protobuf" | "jsonschema"
    schema_data: bytes  # a serialized FileDescriptorSet, or JSON Schema text
    message_encoding: str  # "protobuf" | "json"
    metadata: dict[str, str]


# ---- protobuf wire format -------------------------------------------------------------------

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

EXT_FRAME_ID = 10001
EXT_ENCODING = 10002
EXT_DTYPE = 10003


def _varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint((field << 3) | wire_type)


def _pb_len(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _pb_str(field: int, s: str) -> bytes:
    return _pb_len(field, s.encode("utf-8")) if s else b""


def _pb_fixed32(field: int, v: int) -> bytes:
    return _key(field, _I32) + struct.pack("<I", v) if v else b""


def _pb_varint(field: int, v: int) -> bytes:
    return _key(field, _VARINT) + _varint(v) if v else b""


def _pb_double(field: int, v: float) -> bytes:
    b = struct.pack("<d", v)
    return _key(field, _I64) + b if b != b"\0" * 8 else b""


def _pb_timestamp(field: int, ns: int) -> bytes:
    """A google.protobuf.Timestamp (seconds, nanos) of `ns` nanoseconds, exactly."""
    sec, nsec = divmod(ns, 1_000_000_000)
    body = _pb_varint(1, sec) + _pb_varint(2, nsec)
    return _pb_len(field, body) if body else b""


def _pb_vector(field: int, x: float, y: float, z: float) -> bytes:
    return _pb_len(field, _pb_double(1, x) + _pb_double(2, y) + _pb_double(3, z))


def _pb_quaternion(field: int, x: float, y: float, z: float, w: float) -> bytes:
    return _pb_len(field, _pb_double(1, x) + _pb_double(2, y) + _pb_double(3, z) + _pb_double(4, w))


def _read_varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise ConversionError("truncated or malformed protobuf varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _pb_fields(buf: memoryview, what: str) -> dict[int, list[Any]]:
    """The fields of a protobuf message: number -> values (int for varint and fixed fields,
    a memoryview for length-delimited ones, no copy)."""
    out: dict[int, list[Any]] = {}
    v: Any
    pos, end = 0, len(buf)
    try:
        while pos < end:
            key, pos = _read_varint(buf, pos, end)
            field, wt = key >> 3, key & 7
            if wt == _VARINT:
                v, pos = _read_varint(buf, pos, end)
            elif wt == _LEN:
                n, pos = _read_varint(buf, pos, end)
                if pos + n > end:
                    raise ConversionError(f"a field of {n} bytes runs past the end of the message ({end} bytes)")
                v = buf[pos : pos + n]
                pos += n
            elif wt == _I32:
                if pos + 4 > end:
                    raise ConversionError("truncated fixed32 field")
                v = int.from_bytes(buf[pos : pos + 4], "little")
                pos += 4
            elif wt == _I64:
                if pos + 8 > end:
                    raise ConversionError("truncated fixed64 field")
                v = int.from_bytes(buf[pos : pos + 8], "little")
                pos += 8
            else:
                raise ConversionError(f"unsupported protobuf wire type {wt} (field {field})")
            if field == 0:
                raise ConversionError("protobuf field number 0")
            out.setdefault(field, []).append(v)
    except ConversionError as e:
        raise ConversionError(f"{what}: not a valid protobuf message: {e}") from None
    return out


def _last(fields: dict[int, list[Any]], n: int, default: Any) -> Any:
    vs = fields.get(n)
    return vs[-1] if vs else default


def _get_str(fields: dict[int, list[Any]], n: int, what: str) -> str:
    v = _last(fields, n, None)
    if v is None:
        return ""
    if not isinstance(v, memoryview):
        raise ConversionError(f"{what}: field {n} should be a string")
    try:
        return bytes(v).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConversionError(f"{what}: field {n} is not UTF-8 ({e})") from None


def _get_bytes(fields: dict[int, list[Any]], n: int, what: str) -> memoryview:
    v = _last(fields, n, None)
    if v is None:
        return memoryview(b"")
    if not isinstance(v, memoryview):
        raise ConversionError(f"{what}: field {n} should be bytes")
    return v


def _get_msg(fields: dict[int, list[Any]], n: int, what: str) -> dict[int, list[Any]]:
    v = _last(fields, n, None)
    if v is None:
        return {}
    if not isinstance(v, memoryview):
        raise ConversionError(f"{what}: field {n} should be a message")
    return _pb_fields(v, what)


def _get_double(fields: dict[int, list[Any]], n: int) -> float:
    v = _last(fields, n, 0)
    return struct.unpack("<d", v.to_bytes(8, "little"))[0] if isinstance(v, int) else 0.0


def _get_timestamp(fields: dict[int, list[Any]], n: int, what: str) -> int:
    ts = _get_msg(fields, n, what + " timestamp")
    sec, nsec = _last(ts, 1, 0), _last(ts, 2, 0)
    if not isinstance(sec, int) or not isinstance(nsec, int):
        raise ConversionError(f"{what}: malformed timestamp")
    if sec >= 1 << 63:  # int64 seconds: negative times are before 1970
        raise ConversionError(f"{what}: timestamp before 1970 cannot be a horus timestamp_ns")
    if nsec >= 1_000_000_000:
        raise ConversionError(f"{what}: timestamp nanos {nsec} out of range (0..999999999)")
    ns = sec * 1_000_000_000 + nsec
    if ns >= 1 << 64:
        raise ConversionError(f"{what}: timestamp {ns} ns does not fit horus's uint64 timestamp_ns")
    return ns


# ---- schemas ---------------------------------------------------------------------------------


def _file_descriptor_set(*files: Any) -> bytes:
    """A FileDescriptorSet of `files` (FileDescriptors or FileDescriptorProtos) and everything
    they import, dependencies first."""
    fds = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def add(fd: Any) -> None:
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            add(dep)
        fd.CopyToProto(fds.file.add())

    for f in files:
        if isinstance(f, descriptor_pb2.FileDescriptorProto):
            if f.name not in seen:
                seen.add(f.name)
                fds.file.add().CopyFrom(f)
        else:
            add(f)
    return bytes(fds.SerializeToString(deterministic=True))


def _foxglove_schema(name: str) -> tuple[str, bytes]:
    import importlib

    mod = importlib.import_module(f"foxglove_schemas_protobuf.{name}_pb2")
    desc = getattr(mod, name).DESCRIPTOR
    return desc.full_name, _file_descriptor_set(desc.file)


def _tensor_file() -> descriptor_pb2.FileDescriptorProto:
    """horus/Tensor.proto, horus's own schema for Tensors (and Tensors of records):

        syntax = "proto3";
        package horus;
        import "google/protobuf/timestamp.proto";
        message Tensor {
          google.protobuf.Timestamp timestamp = 1;  // the message's timestamp_ns
          string frame_id = 2;
          string dtype = 3;              // bool, int8..int64, uint8..uint64, float16/32/64
          repeated uint64 shape = 4;     // packed; () for a 0-d tensor
          bytes data = 5;                // the elements in C order, little-endian
          string record_type = 6;        // Tensor of records: the record type's name
          fixed64 record_layout_hash = 7;  // ... and its layout hash (dtype uint8, shape (..., size))
        }
    """
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(
        name="horus/Tensor.proto", package="horus", syntax="proto3", dependency=["google/protobuf/timestamp.proto"]
    )
    m = f.message_type.add(name="Tensor")
    for name, number, ftype, label, type_name in (
        ("timestamp", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Timestamp"),
        ("frame_id", 2, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("dtype", 3, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("shape", 4, F.TYPE_UINT64, F.LABEL_REPEATED, ""),
        ("data", 5, F.TYPE_BYTES, F.LABEL_OPTIONAL, ""),
        ("record_type", 6, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("record_layout_hash", 7, F.TYPE_FIXED64, F.LABEL_OPTIONAL, ""),
    ):
        fd = m.field.add(name=name, number=number, type=ftype, label=label, json_name=_camel(name))
        if type_name:
            fd.type_name = type_name
    return f


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(p.title() for p in rest)


_schemas: dict[str, tuple[str, bytes]] = {}


def _schema(which: str) -> tuple[str, bytes]:
    got = _schemas.get(which)
    if got is None:
        if which == "Tensor":
            from google.protobuf import timestamp_pb2

            got = ("horus.Tensor", _file_descriptor_set(timestamp_pb2.DESCRIPTOR, _tensor_file()))
        else:
            got = _foxglove_schema(which)
        _schemas[which] = got
    return got


# ---- images ---------------------------------------------------------------------------------

_TO_FOXGLOVE = {
    "rgb8": "rgb8",
    "bgr8": "bgr8",
    "rgba8": "rgba8",
    "bgra8": "bgra8",
    "mono8": "mono8",
    "mono16": "16UC1",
    "mono32f": "32FC1",
    "rgb32f": "32FC3",
    "yuv422": "yuv422",
    "bayer_rggb8": "bayer_rggb8",
    "depth16": "16UC1",
}
#: Foxglove (and ROS) encoding -> horus encoding, aliases included.
_FROM_FOXGLOVE = {
    "rgb8": "rgb8",
    "bgr8": "bgr8",
    "rgba8": "rgba8",
    "bgra8": "bgra8",
    "mono8": "mono8",
    "8UC1": "mono8",
    "mono16": "mono16",
    "16UC1": "mono16",
    "32FC1": "mono32f",
    "32FC3": "rgb32f",
    "yuv422": "yuv422",
    "uyvy": "yuv422",
    "bayer_rggb8": "bayer_rggb8",
}
assert set(_TO_FOXGLOVE) == set(horus.ENCODINGS), "every horus encoding has a Foxglove name"


def _raw_image(ns: int, frame_id: str, h: int, w: int, enc: str, step: int, data: Any, ext: bytes) -> bytes:
    head = (
        _pb_timestamp(1, ns)
        + _pb_fixed32(2, w)
        + _pb_fixed32(3, h)
        + _pb_str(4, enc)
        + _pb_fixed32(5, step)
        + _key(6, _LEN)
        + _varint(memoryview(data).nbytes)
    )
    return b"".join((head, cast(Any, data), _pb_str(7, frame_id), ext))


def _encode_image(img: horus.Image) -> bytes:
    enc = img.encoding
    ext = _pb_str(EXT_ENCODING, enc) if _FROM_FOXGLOVE.get(_TO_FOXGLOVE[enc]) != enc else b""
    return _raw_image(img.timestamp_ns, img.frame_id, img.height, img.width, _TO_FOXGLOVE[enc], img.step,
                      img.to_numpy(), ext)


def _encode_depth(d: horus.DepthImage) -> bytes:
    a = d.to_numpy()
    enc = "32FC1" if d.dtype == "float32" else "16UC1"
    return _raw_image(d.timestamp_ns, d.frame_id, d.height, d.width, enc, d.width * a.itemsize, a, b"")


def _image_fields(data: Any, what: str) -> tuple[int, str, int, int, str, int, memoryview, str]:
    f = _pb_fields(memoryview(data), what)
    ns = _get_timestamp(f, 1, what)
    w, h, step = _last(f, 2, 0), _last(f, 3, 0), _last(f, 5, 0)
    enc = _get_str(f, 4, what)
    frame_id, ext = _get_str(f, 7, what), _get_str(f, EXT_ENCODING, what)
    return ns, frame_id, int(h), int(w), enc, int(step), _get_bytes(f, 6, what), ext


def _rows(pixels: memoryview, h: int, w: int, row_bytes: int, step: int, what: str) -> Any:
    """The image bytes without row padding (the buffer itself when step == row_bytes; a step of
    0, which some writers leave unset, means rows without padding)."""
    step = step or row_bytes
    if step < row_bytes:
        raise ConversionError(f"{what}: step {step} is less than width {w} x bytes per pixel ({row_bytes} bytes)")
    need = step * (h - 1) + row_bytes if h else 0
    if pixels.nbytes < need:
        raise ConversionError(f"{what}: {pixels.nbytes} bytes of data; {h} rows of step {step} need {need}")
    if step == row_bytes:
        return pixels[: h * row_bytes]
    rows = np.lib.stride_tricks.as_strided(np.frombuffer(pixels, np.uint8), (h, row_bytes), (step, 1))
    return np.ascontiguousarray(rows)  # a padded (foreign) image: one more copy


def _decode_image(data: Any, what: str) -> horus.Image:
    ns, frame_id, h, w, fox, step, pixels, ext = _image_fields(data, what)
    enc = ext or _FROM_FOXGLOVE.get(fox)
    if enc not in horus.ENCODINGS:
        raise ConversionError(
            f"{what}: image encoding {ext or fox!r} has no horus equivalent (supported: "
            f"{', '.join(sorted(_FROM_FOXGLOVE))})"
        )
    if ext and _TO_FOXGLOVE[enc] != fox:
        raise ConversionError(f"{what}: horus encoding {enc!r} does not match the RawImage encoding {fox!r}")
    bpp = horus.ENCODINGS[enc][1]
    try:
        img = horus.Image.from_bytes(_rows(pixels, h, w, w * bpp, step, what), h, w, enc)
    except (ValueError, TypeError) as e:
        raise ConversionError(f"{what}: {h}x{w} {enc} image: {e}") from None
    return _stamp(img, ns, frame_id, what)


def _decode_depth(data: Any, what: str) -> horus.DepthImage:
    ns, frame_id, h, w, fox, step, pixels, _ext = _image_fields(data, what)
    dt = {"32FC1": np.float32, "16UC1": np.uint16, "mono16": np.uint16}.get(fox)
    if dt is None:
        raise ConversionError(f"{what}: depth image encoding {fox!r}; horus depth images are '32FC1' (float32 "
                              "metres) or '16UC1' (uint16 millimetres)")
    size = np.dtype(dt).itemsize
    rows = _rows(pixels, h, w, w * size, step, what)
    try:
        d = horus.DepthImage.from_numpy(np.frombuffer(rows, dt, count=h * w).reshape(h, w))
    except (ValueError, TypeError) as e:
        raise ConversionError(f"{what}: {h}x{w} depth image: {e}") from None
    return _stamp(d, ns, frame_id, what)


_Stamped = TypeVar("_Stamped", horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)


def _stamp(msg: _Stamped, ns: int, frame_id: str, what: str) -> _Stamped:
    try:
        msg.set_timestamp_ns(ns)
        msg.set_frame_id(frame_id)
    except (ValueError, TypeError) as e:
        raise ConversionError(f"{what}: {e}") from None
    return msg


# ---- point clouds ---------------------------------------------------------------------------

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


# ---- tensors --------------------------------------------------------------------------------


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


# ---- typed messages: layouts and classes --------------------------------------------------------

_FIELD_RE = re.compile(r"([A-Za-z_]\w*):([^@,]+)@(\d+)")
_TYPE_RE = re.compile(r"(?:(string)<(\d+)>|([A-Za-z_]\w*)#([0-9a-f]{16})|([a-z]+\d*))((?:\[\d+\])*)")
_TEXT_RE = re.compile(r"([A-Za-z_]\w*)\{(.*)\}(\d+)")
_SCALAR_NAMES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                 "float32", "float64"}
_built: dict[tuple[int, str], type[TypedMessage]] = {}


def record_class_for(layout_text: str, layout_hash: int,
                     layouts: Mapping[str, str] | None = None) -> type[TypedMessage]:
    """The message class with this layout: the one declared in this process, or one declared
    now from the layout text (nested types from `layouts`, "Name#hash" -> layout text, or
    declared ones). Raises ConversionError if the text does not give that layout hash."""
    cls = record_class(layout_hash)
    if cls is not None and cls.layout_text == layout_text:
        return cls
    got = _built.get((layout_hash, layout_text))
    if got is not None:
        return got
    cls = _declare_from_text(layout_text, layouts or {}, 0)
    if cls.layout_hash != layout_hash or cls.layout_text != layout_text:
        raise ConversionError(
            f"the recorded layout {layout_text!r} gives hash {cls.layout_hash:#018x}, not the recorded "
            f"{layout_hash:#018x}: the recording's type information is inconsistent"
        )
    _built[(layout_hash, layout_text)] = cls
    return cls


def _declare_from_text(text: str, layouts: Mapping[str, str], depth: int) -> type[TypedMessage]:
    if depth > 16:
        raise ConversionError(f"message layouts nested more than 16 deep ({text!r})")
    m = _TEXT_RE.fullmatch(text)
    if m is None:
        raise ConversionError(f"not a horus layout text: {text!r}")
    name, body, _size = m.groups()
    ann: dict[str, Any] = {}
    for part in body.split(","):
        fm = _FIELD_RE.fullmatch(part)
        tm = _TYPE_RE.fullmatch(fm.group(2)) if fm else None
        if fm is None or tm is None:
            raise ConversionError(f"layout {text!r}: cannot read the field {part!r}")
        is_str, cap, rec_name, rec_hex, scalar, dims_text = tm.groups()
        t: Any
        if is_str:
            t = string(int(cap))
        elif rec_name:
            h = int(rec_hex, 16)
            nested = record_class(h)
            if nested is None:
                nested_text = layouts.get(f"{rec_name}#{rec_hex}")
                if nested_text is None:
                    raise ConversionError(
                        f"layout {text!r}: the nested type {rec_name} (hash 0x{rec_hex}) is not declared in this "
                        "process and its layout was not recorded"
                    )
                nested = record_class_for(nested_text, h, layouts) if depth < 16 else None
                if nested is None:
                    raise ConversionError(f"message layouts nested too deep ({text!r})")
            t = nested
        else:
            if scalar not in _SCALAR_NAMES:
                raise ConversionError(f"layout {text!r}: unknown field type {scalar!r}")
            t = np.dtype(scalar).type
        dims = tuple(int(d) for d in re.findall(r"\[(\d+)\]", dims_text))
        ann[fm.group(1)] = array(t, dims) if dims else t
    ns = {"__annotations__": ann, "__module__": __name__, "__qualname__": name,
          "__doc__": f"{name}, declared from a recorded layout: {text}"}
    try:
        return _MessageMeta(name, (TypedMessage,), ns)  # type: ignore[return-value]
    except (TypeError, ValueError) as e:
        raise ConversionError(f"cannot declare {name} from the recorded layout {text!r}: {e}") from None


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
    except ValueError as e:
        raise ConversionError(f"{what}: the channel's horus.layouts is not JSON ({e})") from None
    if not isinstance(layouts, dict):
        raise ConversionError(f"{what}: the channel's horus.layouts is not a JSON object")
    try:
        return record_class_for(text, h, layouts)
    except ConversionError as e:
        raise ConversionError(f"{what}: {e}") from None


# ---- typed messages: JSON ---------------------------------------------------------------------

_NONFINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FLOAT_SCHEMA = {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]}


def _field_schema(dt: np.dtype[Any], nested: type[TypedMessage] | None) -> dict[str, Any]:
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        s = _field_schema(base, nested)
        for d in reversed(shape):
            s = {"type": "array", "items": s, "minItems": d, "maxItems": d}
        return s
    if nested is not None:
        return _object_schema(nested, stamped=False)
    if dt.kind == "b":
        return {"type": "boolean"}
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return {"type": "integer", "minimum": int(info.min), "maximum": int(info.max), "description": dt.name}
    if dt.kind == "f":
        return dict(_FLOAT_SCHEMA, description=dt.name)
    if dt.kind == "S":
        return {"type": "string", "maxLength": dt.itemsize, "description": f"UTF-8 text of at most {dt.itemsize} bytes"}
    raise ConversionError(f"no JSON Schema for dtype {dt}")  # pragma: no cover (declarations allow no other)


def _object_schema(cls: type[TypedMessage], stamped: bool) -> dict[str, Any]:
    fields = cls.dtype.fields
    assert fields is not None
    nested = cls._horus_nested  # type: ignore[attr-defined]
    props = {name: _field_schema(fields[name][0], nested.get(name)) for name in cls.fields}
    required = list(cls.fields)
    if stamped:
        props["timestamp_ns"] = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1,
                                 "description": "the message's timestamp in nanoseconds"}
        props["frame_id"] = {"type": "string", "maxLength": 63, "description": "the message's frame_id"}
        required += ["timestamp_ns", "frame_id"]
    return {"type": "object", "title": cls.__name__, "description": f"horus layout {cls.layout_text}",
            "properties": props, "required": required, "additionalProperties": False}


def json_schema(cls: type[TypedMessage]) -> dict[str, Any]:
    """The JSON Schema of a typed message's JSON (its fields plus timestamp_ns and frame_id)."""
    s = _object_schema(cls, stamped=True)
    return {"$schema": "http://json-schema.org/draft-07/schema#", **s}


def _finite(v: Any) -> Any:
    """`v` with non-finite floats as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (math.inf, -math.inf):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _dumps(v: Any) -> bytes:
    try:
        s = json.dumps(v, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        s = json.dumps(_finite(v), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return s.encode("utf-8")


def _encode_record_json(msg: TypedMessage) -> bytes:
    d = msg.to_dict()
    d["timestamp_ns"] = msg.timestamp_ns
    d["frame_id"] = msg.frame_id
    return _dumps(d)


def _restore_floats(v: Any, dt: np.dtype[Any], nested: type[TypedMessage] | None, where: str) -> Any:
    """A field's JSON value with the strings "NaN", "Infinity", "-Infinity" of float fields as
    floats (other mismatches are left for the constructor to name)."""
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return _restore_array(v, base, len(shape), where) if base.kind == "f" else v
    if nested is not None:
        if isinstance(v, dict):
            _restore_record(v, nested, where)
        return v
    return _restore_float(v, where) if dt.kind == "f" else v


def _restore_array(v: Any, base: np.dtype[Any], ndim: int, where: str) -> Any:
    if not isinstance(v, list):
        return v
    if ndim == 1:
        return [_restore_float(x, where) for x in v]
    return [_restore_array(x, base, ndim - 1, where) for x in v]


def _restore_float(v: Any, where: str) -> Any:
    if isinstance(v, str):
        if v not in _NONFINITE_TEXT:
            raise ConversionError(f"{where}: {v!r} in a float field (only numbers and 'NaN', 'Infinity', '-Infinity')")
        return _NONFINITE_TEXT[v]
    return v


def _restore_record(d: dict[str, Any], cls: type[TypedMessage], where: str) -> None:
    fields = cls.dtype.fields
    assert fields is not None
    nested = cls._horus_nested  # type: ignore[attr-defined]
    for name in cls.fields:
        if name in d:
            d[name] = _restore_floats(d[name], fields[name][0], nested.get(name), f"{where}.{name}")


def _decode_record_json(data: Any, cls: type[TypedMessage], what: str) -> TypedMessage:
    try:
        obj = json.loads(bytes(data))
    except ValueError as e:
        raise ConversionError(f"{what}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ConversionError(f"{what}: a {cls.__name__} message must be a JSON object; got {type(obj).__name__}")
    ts = obj.pop("timestamp_ns", 0)
    frame_id = obj.pop("frame_id", "")
    _restore_record(obj, cls, what)
    try:
        return cls(**obj, timestamp_ns=ts, frame_id=frame_id)
    except (TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ConversionError(f"{what}: not a valid {cls.__name__}: {e}") from None


# ---- TransformStamped and Pose -----------------------------------------------------------------


def _encode_transform(m: Any) -> bytes:
    tr, rot = m.transform.translation, m.transform.rotation
    return (
        _pb_timestamp(1, m.timestamp_ns)
        + _pb_str(2, m.parent_frame)
        + _pb_str(3, m.child_frame)
        + _pb_vector(4, tr.x, tr.y, tr.z)
        + _pb_quaternion(5, rot.x, rot.y, rot.z, rot.w)
        + _pb_str(EXT_FRAME_ID, m.frame_id)
    )


def _xyz(f: dict[int, list[Any]]) -> dict[str, float]:
    return {"x": _get_double(f, 1), "y": _get_double(f, 2), "z": _get_double(f, 3)}


def _xyzw(f: dict[int, list[Any]]) -> dict[str, float]:
    return {"x": _get_double(f, 1), "y": _get_double(f, 2), "z": _get_double(f, 3), "w": _get_double(f, 4)}


def _decode_transform(data: Any, what: str) -> Any:
    f = _pb_fields(memoryview(data), what)
    try:
        return horus.msg.TransformStamped(
            parent_frame=_get_str(f, 2, what),
            child_frame=_get_str(f, 3, what),
            transform={"translation": _xyz(_get_msg(f, 4, what)), "rotation": _xyzw(_get_msg(f, 5, what))},
            timestamp_ns=_get_timestamp(f, 1, what),
            frame_id=_get_str(f, EXT_FRAME_ID, what),
        )
    except (TypeError, ValueError) as e:
        raise ConversionError(f"{what}: not a valid TransformStamped: {e}") from None


def _encode_pose(m: Any) -> bytes:
    p, q = m.position, m.orientation
    pose = _pb_vector(1, p.x, p.y, p.z) + _pb_quaternion(2, q.x, q.y, q.z, q.w)
    return _pb_timestamp(1, m.timestamp_ns) + _pb_str(2, m.frame_id) + _pb_len(3, pose)


def _decode_pose(data: Any, what: str) -> Any:
    f = _pb_fields(memoryview(data), what)
    pose = _get_msg(f, 3, what)
    try:
        return horus.msg.Pose(
            position=_xyz(_get_msg(pose, 1, what)),
            orientation=_xyzw(_get_msg(pose, 2, what)),
            timestamp_ns=_get_timestamp(f, 1, what),
            frame_id=_get_str(f, 2, what),
        )
    except (TypeError, ValueError) as e:
        raise ConversionError(f"{what}: not a valid Pose: {e}") from None


# ---- schemaless data: tagged JSON ---------------------------------------------------------------

_TAG = "__horus__"
_SMALL_ARRAY = 256  # arrays of at most this many numbers are written as a list of values, others base64
_DATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "horus.Data",
    "description": (
        "horus schemaless data (Topic(name)): the value as JSON. Values JSON cannot hold are objects "
        'with a "__horus__" tag: {"__horus__": "ndarray", "dtype": <NumPy descr>, "shape": [...], '
        '"values": [...] or "base64": "..."} (little-endian C-order bytes), {"__horus__": "bytes", '
        '"base64": "..."}, {"__horus__": "tuple", "items": [...]}, {"__horus__": "float", "value": '
        '"NaN" | "Infinity" | "-Infinity"}, {"__horus__": "dict", "items": [[key, value], ...]} (keys '
        'that are not strings, or a "__horus__" key), {"__horus__": "value", "value": ...} (a top-level '
        'value that is not a dict), {"__horus__": "ext", "code": n, "base64": "..."} and '
        '{"__horus__": "timestamp", "seconds": s, "nanoseconds": n} (MessagePack extension values).'
    ),
}


def _to_json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return {_TAG: "float", "value": "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")}
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v) and _TAG not in v:
            return {k: _to_json_value(x) for k, x in v.items()}
        return {_TAG: "dict", "items": [[_to_json_value(k), _to_json_value(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return [_to_json_value(x) for x in v]
    if isinstance(v, msgpack.ExtType):  # (a namedtuple: before tuples)
        return {_TAG: "ext", "code": v.code, "base64": base64.b64encode(v.data).decode("ascii")}
    if isinstance(v, tuple):
        return {_TAG: "tuple", "items": [_to_json_value(x) for x in v]}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {_TAG: "bytes", "base64": base64.b64encode(v).decode("ascii")}
    if isinstance(v, np.ndarray):
        return _array_json(v)
    if isinstance(v, np.generic):
        return _to_json_value(v.item())
    if isinstance(v, msgpack.Timestamp):
        return {_TAG: "timestamp", "seconds": v.seconds, "nanoseconds": v.nanoseconds}
    raise ConversionError(f"schemaless value of type {type(v).__qualname__} cannot be recorded")


def _array_json(a: np.ndarray) -> dict[str, Any]:
    if a.dtype.hasobject:
        raise ConversionError(f"a NumPy array of dtype {a.dtype} holds Python objects and cannot be recorded")
    out: dict[str, Any] = {_TAG: "ndarray", "dtype": np.lib.format.dtype_to_descr(a.dtype), "shape": list(a.shape)}
    if a.dtype.kind in "biuf" and a.size <= _SMALL_ARRAY:
        out["values"] = _finite(a.reshape(-1).tolist())
    else:
        c = np.ascontiguousarray(a)
        if c.dtype.byteorder == ">":
            c = c.astype(c.dtype.newbyteorder("<"))
            out["dtype"] = np.lib.format.dtype_to_descr(c.dtype)
        out["base64"] = base64.b64encode(cast(Any, c.reshape(-1).view(np.uint8))).decode("ascii")
    return out


def _encode_data(value: Any) -> bytes:
    j = _to_json_value(value)
    if not isinstance(value, dict):
        j = {_TAG: "value", "value": j}
    return json.dumps(j, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _descr(x: Any) -> Any:
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        return [tuple(_descr(e) if i == 1 else (tuple(e) if isinstance(e, list) else e) for i, e in enumerate(f))
                for f in x]
    raise ValueError(f"bad dtype description {x!r}")


def _from_tag(d: dict[str, Any]) -> Any:
    tag = d.get(_TAG)
    if tag is None:
        return d
    if tag == "ndarray":
        dt = np.lib.format.descr_to_dtype(_descr(d["dtype"]))
        if dt.hasobject:
            raise ValueError(f"dtype {dt} holds Python objects")
        shape = tuple(int(n) for n in d["shape"])
        if "values" in d:
            vals = [_NONFINITE_TEXT[x] if isinstance(x, str) else x for x in d["values"]]
            return np.array(vals, dtype=dt).reshape(shape)
        raw = base64.b64decode(d["base64"], validate=True)
        return np.frombuffer(raw, dtype=dt, count=math.prod(shape)).reshape(shape)
    if tag == "bytes":
        return base64.b64decode(d["base64"], validate=True)
    if tag == "tuple":
        return tuple(d["items"])
    if tag == "float":
        return _NONFINITE_TEXT[d["value"]]
    if tag == "dict":
        return {k: v for k, v in d["items"]}
    if tag == "value":
        return d["value"]
    if tag == "ext":
        return msgpack.ExtType(int(d["code"]), base64.b64decode(d["base64"], validate=True))
    if tag == "timestamp":
        return msgpack.Timestamp(int(d["seconds"]), int(d["nanoseconds"]))
    raise ValueError(f"unknown {_TAG} tag {tag!r}")


def _decode_data(data: Any, what: str) -> Any:
    try:
        return json.loads(bytes(data), object_hook=_from_tag)
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise ConversionError(f"{what}: not valid horus.Data JSON ({type(e).__name__}: {e})") from None


# ---- the API --------------------------------------------------------------------------------

_KIND_OF = {horus.Image: "Image", horus.DepthImage: "DepthImage", horus.PointCloud: "PointCloud",
            horus.Tensor: "Tensor"}
_channels: dict[Any, ChannelSchema] = {}


def _pb_channel(which: str, metadata: dict[str, str]) -> ChannelSchema:
    name, data = _schema(which)
    return ChannelSchema(name, "protobuf", data, "protobuf", metadata)


def channel_schema(msg: object) -> ChannelSchema:
    """The MCAP channel for a topic whose (first) message is `msg`: schema, message encoding
    and the metadata decode() needs to restore the exact horus type."""
    kind = _KIND_OF.get(type(msg))
    if kind == "Image":
        assert isinstance(msg, horus.Image)
        return _pb_channel("RawImage", {"horus.kind": kind, "horus.encoding": msg.encoding,
                                        "horus.mapping": MAPPING_VERSION})
    if kind == "DepthImage":
        assert isinstance(msg, horus.DepthImage)
        return _pb_channel("RawImage", {"horus.kind": kind, "horus.dtype": msg.dtype, "horus.mapping": MAPPING_VERSION})
    if kind == "PointCloud":
        assert isinstance(msg, horus.PointCloud)
        return _pb_channel("PointCloud", {"horus.kind": kind, "horus.dtype": msg.dtype,
                                          "horus.fields_per_point": str(msg.fields_per_point),
                                          "horus.mapping": MAPPING_VERSION})
    if kind == "Tensor":
        assert isinstance(msg, horus.Tensor)
        rec = msg.record_type
        md = _record_metadata(rec, "Tensor") if rec is not None else {"horus.kind": "Tensor",
                                                                       "horus.mapping": MAPPING_VERSION}
        md["horus.dtype"] = msg.dtype
        return _pb_channel("Tensor", md)
    if isinstance(msg, TypedMessage):
        cls = type(msg)
        got = _channels.get(cls)
        if got is None:
            md = _record_metadata(cls, "Record")
            if cls.layout_hash == horus.msg.TransformStamped.layout_hash:
                got = _pb_channel("FrameTransform", md)
            elif cls.layout_hash == horus.msg.Pose.layout_hash:
                got = _pb_channel("PoseInFrame", md)
            else:
                schema = json.dumps(json_schema(cls), separators=(",", ":")).encode("utf-8")
                got = ChannelSchema(cls.__name__, "jsonschema", schema, "json", md)
            _channels[cls] = got
        return ChannelSchema(got.schema_name, got.schema_encoding, got.schema_data, got.message_encoding,
                             dict(got.metadata))
    if isinstance(msg, (horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)):  # pragma: no cover
        raise ConversionError(f"unsupported message class {type(msg).__qualname__}")
    _to_json_value(msg)  # refuses what cannot be recorded
    return ChannelSchema("horus.Data", "jsonschema", json.dumps(_DATA_SCHEMA, separators=(",", ":")).encode("utf-8"),
                         "json", {"horus.kind": "Data", "horus.mapping": MAPPING_VERSION})


def encode(msg: object) -> bytes:
    """`msg` in its channel's message encoding (see channel_schema)."""
    t = type(msg)
    if t is horus.Image:
        return _encode_image(msg)  # type: ignore[arg-type]
    if t is horus.PointCloud:
        return _encode_cloud(msg)  # type: ignore[arg-type]
    if t is horus.DepthImage:
        return _encode_depth(msg)  # type: ignore[arg-type]
    if t is horus.Tensor:
        return _encode_tensor(msg)  # type: ignore[arg-type]
    if isinstance(msg, TypedMessage):
        h = t.layout_hash  # type: ignore[attr-defined]
        if h == horus.msg.TransformStamped.layout_hash:
            return _encode_transform(msg)
        if h == horus.msg.Pose.layout_hash:
            return _encode_pose(msg)
        return _encode_record_json(msg)
    return _encode_data(msg)


_SCHEMA_KIND = {"foxglove.RawImage": "Image", "foxglove.PointCloud": "PointCloud", "horus.Tensor": "Tensor",
                "foxglove.FrameTransform": "Record", "foxglove.PoseInFrame": "Record", "horus.Data": "Data"}


def decode(schema_name: str, message_encoding: str, metadata: Mapping[str, str], data: bytes) -> object:
    """The horus message of one MCAP message (Image, DepthImage, PointCloud, Tensor, a typed
    message, or schemaless data). A typed message whose class this process has not declared
    is declared from the channel's recorded layout. Raises ConversionError."""
    what = f"{schema_name or 'schemaless'} message"
    kind = metadata.get("horus.kind") or _SCHEMA_KIND.get(schema_name)
    if kind is None and message_encoding == "json":
        kind = "Data"
    proto = message_encoding == "protobuf"
    if kind == "Image" and proto and schema_name == "foxglove.RawImage":
        return _decode_image(data, what)
    if kind == "DepthImage" and proto and schema_name == "foxglove.RawImage":
        return _decode_depth(data, what)
    if kind == "PointCloud" and proto and schema_name == "foxglove.PointCloud":
        return _decode_cloud(data, what)
    if kind == "Tensor" and proto and schema_name == "horus.Tensor":
        return _decode_tensor(data, metadata, what)
    if kind == "Record":
        if proto and schema_name == "foxglove.FrameTransform":
            return _decode_transform(data, what)
        if proto and schema_name == "foxglove.PoseInFrame":
            return _decode_pose(data, what)
        if message_encoding == "json":
            cls = _record_class_from_metadata(metadata, what)
            return _decode_record_json(data, cls, what)
    if kind == "Data" and message_encoding == "json":
        return _decode_data(data, what)
    raise ConversionError(
        f"no horus message for schema {schema_name!r} with message encoding {message_encoding!r}"
        + (f" and horus.kind {kind!r}" if metadata.get("horus.kind") else "")
        + " (horus reads foxglove.RawImage, foxglove.PointCloud, foxglove.FrameTransform, foxglove.PoseInFrame and "
        "horus.Tensor in protobuf, and JSON)"
    )


def horus_type(metadata: Mapping[str, str], schema_name: str = "") -> str:
    """The horus type a channel carries, for people: "Image", "Tensor[Detection2D]", "CmdVel",
    "Data" (schemaless); "" when the channel is not horus's."""
    kind = metadata.get("horus.kind") or _SCHEMA_KIND.get(schema_name, "")
    name = metadata.get("horus.type_name", "")
    if kind == "Record":
        return name or {"foxglove.FrameTransform": "TransformStamped", "foxglove.PoseInFrame": "Pose"}.get(
            schema_name, "Record")
    if kind == "Tensor" and name:
        return f"Tensor[{name}]"
    return kind
