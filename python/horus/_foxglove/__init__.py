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
Tensor (Tensor of records) horus.Tensor (protobuf)       our schema, see _schemas._tensor_file()
schemaless data            horus.Data (json)             tagged JSON, see _data_json._to_json_value()
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
objects in schemaless data. A NaN other than NumPy's nan (a sign, payload bits) keeps its bits:
"NaN:0x<bits>" in typed messages, a "bits" key or base64 bytes in schemaless data. Integers
are exact (JavaScript viewers show int64 values above 2**53 rounded). decode() checks the
JSON against the schema (every field, nothing else) and raises ConversionError only.

Channel metadata (all str): horus.kind (Image, DepthImage, PointCloud, Tensor, Record,
Data), horus.type_name, horus.layout_hash (0x + 16 hex digits), horus.layout_text and
horus.layouts (JSON: the layout text of every nested type, by "Name#hash"), so that decode
restores the exact type, declaring the class from the recorded layout if this process has
not (the layout hash must match); horus.encoding / horus.dtype of the first message;
horus.mapping (the version of this mapping, "1").
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import horus
from horus._foxglove._clouds import _decode_cloud, _encode_cloud
from horus._foxglove._clouds import cloud_field_names as cloud_field_names
from horus._foxglove._data_json import _DATA_SCHEMA, _decode_data, _encode_data, _to_json_value
from horus._foxglove._geometry import _decode_pose, _decode_transform, _encode_pose, _encode_transform
from horus._foxglove._images import _decode_depth, _decode_image, _encode_depth, _encode_image
from horus._foxglove._layouts import _record_class_from_metadata, _record_metadata, record_class_for
from horus._foxglove._layouts import live_record_class as live_record_class
from horus._foxglove._layouts import record_class_from_texts as record_class_from_texts
from horus._foxglove._record_json import _decode_record_json, _encode_record_json
from horus._foxglove._record_json import json_schema as json_schema
from horus._foxglove._schemas import _schema
from horus._foxglove._tensors import _decode_tensor, _encode_tensor
from horus._foxglove._types import MAPPING_VERSION, ChannelSchema, ConversionError
from horus._foxglove._wire import EXT_DTYPE as EXT_DTYPE
from horus._foxglove._wire import EXT_ENCODING as EXT_ENCODING
from horus._foxglove._wire import EXT_FRAME_ID as EXT_FRAME_ID
from horus._message import TypedMessage

__all__ = [
    "ChannelSchema",
    "ConversionError",
    "MAPPING_VERSION",
    "channel_schema",
    "decode",
    "encode",
    "horus_type",
    "live_record_class",
    "record_class_for",
    "record_class_from_texts",
]


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
    is declared from the channel's recorded layout. Raises ConversionError for anything the
    bytes or the metadata get wrong (never another exception: they come from files)."""
    what = f"{schema_name or 'schemaless'} message"
    try:
        return _decode(schema_name, message_encoding, metadata, data, what)
    except ConversionError:
        raise
    except RecursionError:
        raise ConversionError(f"{what}: nested too deep to decode") from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, UnicodeError,
            MemoryError, struct.error) as e:
        raise ConversionError(f"{what}: cannot be decoded ({type(e).__name__}: {e})") from None


def _decode(schema_name: str, message_encoding: str, metadata: Mapping[str, str], data: bytes, what: str) -> object:
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
