"""The bridge's wire format: one horus message = one Zenoh sample.

payload    the message's bytes as the pool holds them (pixels, points, tensor elements,
           the record's C layout, or a schemaless payload: u32 header bytes | u32 arrays |
           MessagePack header | u64 offset per array | arrays, as horus._data lays it out),
           compressed with zstd or lz4 when the topic's config asks for it.
attachment a MessagePack map (keys below) with the message's horus type and metadata.

encode() copies the payload once out of the pool (into the bytes Zenoh takes); decode()
copies it once into a new pool message. Nothing here touches Zenoh or a Topic.
"""

from __future__ import annotations

import io
import math
import struct
import time
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

import horus
from horus import _data
from horus._foxglove._layouts import _record_class_from_metadata, _record_metadata
from horus._foxglove._types import ConversionError
from horus._message import TypedMessage, record_class

__all__ = ["WIRE_VERSION", "KINDS", "Header", "WireError", "encode", "decode", "type_key", "describe_type"]

#: Bumped when the attachment's meaning changes; a bridge refuses samples of another version.
WIRE_VERSION = 1
KINDS = ("Image", "DepthImage", "PointCloud", "Tensor", "Record", "Data")

# Attachment keys (short: the attachment travels with every sample).
_V, _KIND, _SEQ, _SOURCE, _SENT, _STAMP, _FRAME, _SHAPE, _HASH, _TYPE, _LAYOUT, _ZIP, _CAP = (
    "v", "k", "s", "o", "t", "ts", "f", "m", "h", "ty", "L", "z", "c")

_ZSTD_LEVEL = 1


class WireError(ValueError):
    """A sample that is not a horus message this bridge can rebuild (the message says why)."""


@dataclass
class Header:
    """What the attachment of one sample says."""

    kind: str
    seq: int
    source: str  # the sending bridge's id (its Zenoh session id)
    sent_ns: int  # CLOCK_REALTIME when the sending bridge put it
    timestamp_ns: int
    frame_id: str
    shape: list[Any]
    layout_hash: int
    type_name: str
    layouts: dict[str, str] | None  # the record type's layout metadata (sent now and then)
    compression: str
    capacity: int

    @property
    def type_key(self) -> tuple[str, int]:
        return (self.kind, self.layout_hash)


def type_key(msg: object) -> tuple[str, int]:
    """(kind, layout hash) of a message: what must match between the two ends of a topic."""
    if isinstance(msg, TypedMessage):
        return ("Record", type(msg).layout_hash)
    if isinstance(msg, horus.Tensor):
        rec = msg.record_type
        return ("Tensor", rec.layout_hash if rec is not None else 0)
    for k in ("Image", "DepthImage", "PointCloud"):
        if isinstance(msg, getattr(horus, k)):
            return (k, 0)
    return ("Data", 0)


def describe_type(kind: str, type_name: str, layout_hash: int) -> str:
    """'Image', 'Record CmdVel (0x1234...)', 'Tensor of Detection2D records (0x...)'."""
    if kind == "Record":
        return f"Record {type_name or '?'} ({layout_hash:#018x})"
    if kind == "Tensor" and layout_hash:
        return f"Tensor of {type_name or '?'} records ({layout_hash:#018x})"
    return kind


def _compress(data: bytes, how: str) -> bytes:
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)
    import lz4.frame

    return lz4.frame.compress(data)


def _decompress(data: bytes, how: str, limit: int) -> bytes:
    """The decompressed payload; WireError if it is corrupt or would exceed `limit` bytes (a
    small frame may claim gigabytes: never trusted)."""
    try:
        if how == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=False) as r:
                out = r.read(limit + 1)  # never more than the limit in memory, whatever the frame claims
            if len(out) > limit:
                raise WireError(f"the zstd payload decompresses to more than {limit} bytes")
            return out
        if how == "lz4":
            import lz4.frame

            dl = lz4.frame.LZ4FrameDecompressor()
            out = dl.decompress(data, max_length=limit)
            if not dl.eof:
                raise WireError(f"the lz4 payload does not decompress to at most {limit} bytes in one frame")
            return out
    except WireError:
        raise
    except Exception as e:  # noqa: BLE001 (each library raises its own error type)
        raise WireError(f"the {how} payload does not decompress: {e}") from None
    raise WireError(f"unknown compression {how!r} (this bridge knows 'zstd' and 'lz4')")


def _data_payload(value: object) -> bytes:
    """A schemaless value in horus._data's payload layout (the arrays' one copy)."""
    enc = _data.encode(value)
    if isinstance(enc, bytes):
        return b"".join((struct.pack("<II", len(enc), 0), enc))
    header, arrays = enc
    parts: list[Any] = [struct.pack("<II", len(header), len(arrays)), header]
    total = 8 + len(header) + 8 * len(arrays)
    offsets = []
    views = [memoryview(np.ascontiguousarray(a)).cast("B") if a.nbytes else b"" for a in arrays]
    for v in views:
        total = (total + 63) // 64 * 64
        offsets.append(total)
        total += len(v)
    parts.append(struct.pack(f"<{len(arrays)}Q", *offsets))
    pos = 8 + len(header) + 8 * len(arrays)
    for off, v in zip(offsets, views):
        parts.append(bytes(off - pos))
        parts.append(v)
        pos = off + len(v)
    return b"".join(parts)


def encode(msg: object, seq: int, source: str, *, compression: str | None = None, with_layouts: bool = False,
           capacity: int = 0, key: tuple[str, int] | None = None) -> tuple[bytes, bytes]:
    """(payload, attachment) of one message; `key` is its type_key() if the caller has it."""
    att: dict[str, Any] = {_V: WIRE_VERSION, _SEQ: seq, _SOURCE: source}
    payload: bytes
    kind, h = key if key is not None else type_key(msg)
    if kind == "Data":
        payload = _data_payload(msg)
    else:
        m: Any = msg
        att[_STAMP] = m.timestamp_ns
        if m.frame_id:
            att[_FRAME] = m.frame_id
        if kind == "Record":
            payload = bytes(memoryview(m))
            cls: type[TypedMessage] = type(m)
        else:
            a = m.to_numpy()
            payload = a.tobytes()
            if kind == "Image":
                att[_SHAPE] = [m.height, m.width, m.encoding]
            elif kind == "DepthImage":
                att[_SHAPE] = [m.height, m.width, m.dtype]
            elif kind == "PointCloud":
                att[_SHAPE] = [m.point_count, m.fields_per_point, m.dtype]
            else:
                att[_SHAPE] = [list(m.shape), m.dtype]
                cls = m.record_type
        if h:
            att[_HASH] = h
            att[_TYPE] = cls.__name__
            if with_layouts:
                att[_LAYOUT] = _record_metadata(cls, kind)
    att[_KIND] = kind
    if capacity:
        att[_CAP] = capacity
    if compression:
        payload = _compress(payload, compression)
        att[_ZIP] = compression
    att[_SENT] = time.time_ns()
    return payload, msgpack.packb(att, use_bin_type=True)


def _int(att: dict[Any, Any], key: str, default: int | None, what: str, low: int = 0, high: int = (1 << 64) - 1) -> int:
    v = att.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise WireError(f"{what} {v!r} is not an integer in {low}..{high}")
    return v


def read_header(attachment: bytes) -> Header:
    """The attachment of a sample; WireError if it is not a horus bridge attachment."""
    try:
        att = msgpack.unpackb(attachment, raw=False, strict_map_key=False, max_bin_len=1 << 20,
                              max_str_len=1 << 20, max_array_len=4096, max_map_len=4096)
    except Exception as e:  # noqa: BLE001 (whatever garbage makes msgpack raise)
        raise WireError(f"the attachment is not MessagePack ({type(e).__name__})") from None
    if not isinstance(att, dict):
        raise WireError("the attachment is not a map")
    v = att.get(_V)
    if v != WIRE_VERSION:
        raise WireError(f"wire version {v!r}; this bridge speaks version {WIRE_VERSION} (run the same horus "
                        "version on both hosts)")
    kind = att.get(_KIND)
    if kind not in KINDS:
        raise WireError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    frame = att.get(_FRAME, "")
    source = att.get(_SOURCE, "")
    type_name = att.get(_TYPE, "")
    shape = att.get(_SHAPE, [])
    layouts = att.get(_LAYOUT)
    z = att.get(_ZIP, "")
    for name, val, t in (("frame_id", frame, str), ("source", source, str), ("type name", type_name, str),
                         ("shape", shape, list), ("compression", z, str)):
        if not isinstance(val, t):
            raise WireError(f"{name} {val!r} is not a {t.__name__}")
    if layouts is not None and not (isinstance(layouts, dict) and all(
            isinstance(k, str) and isinstance(x, str) for k, x in layouts.items())):
        raise WireError("the layout metadata is not a map of strings")
    return Header(kind=kind, seq=_int(att, _SEQ, None, "sequence number"), source=source,
                  sent_ns=_int(att, _SENT, 0, "send time"), timestamp_ns=_int(att, _STAMP, 0, "timestamp_ns"),
                  frame_id=frame, shape=shape, layout_hash=_int(att, _HASH, 0, "layout hash"), type_name=type_name,
                  layouts=layouts, compression=z, capacity=_int(att, _CAP, 0, "capacity", 0, 65536))


def record_type_of(h: Header) -> type[TypedMessage]:
    """The message class of a Record or Tensor-of-records sample: declared here, or declared
    now from the layout metadata the sample carries. WireError while neither is available."""
    cls = record_class(h.layout_hash)
    if cls is not None:
        return cls
    if h.layouts is None:
        raise WireError(f"type {h.type_name or '?'} ({h.layout_hash:#018x}) is not declared here yet; the sending "
                        "bridge sends its layout about once a second")
    if h.layouts.get("horus.layout_hash", "") != f"{h.layout_hash:#018x}":
        raise WireError(f"the layout metadata names hash {h.layouts.get('horus.layout_hash')!r}, the sample "
                        f"{h.layout_hash:#018x}")
    try:
        return _record_class_from_metadata(h.layouts, f"type {h.type_name}")
    except ConversionError as e:
        raise WireError(str(e)) from None


def _dims(shape: list[Any], n: int, what: str) -> list[Any]:
    if len(shape) != n:
        raise WireError(f"{what}: shape {shape!r} has {len(shape)} entries, not {n}")
    return shape


def _count(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1 << 40:
        raise WireError(f"{what} {v!r} is not a size")
    return v


#: The largest decompressed schemaless payload a bridge accepts (other kinds: their exact size).
MAX_DATA_BYTES = 1 << 30


def expected_size(h: Header) -> int:
    """The payload bytes the header's type and shape call for (MAX_DATA_BYTES for schemaless
    data, whose size only the payload knows); WireError for a shape that makes no sense."""
    try:
        if h.kind == "Data":
            return MAX_DATA_BYTES
        if h.kind == "Record":
            return int(record_type_of(h).dtype.itemsize)
        if h.kind == "Image":
            height, width, enc = _dims(h.shape, 3, "Image")
            return _count(height, "height") * _count(width, "width") * int(horus.ENCODINGS[enc][1])
        if h.kind in ("DepthImage", "PointCloud"):
            x, y, dt = _dims(h.shape, 3, h.kind)
            return _count(x, "size") * _count(y, "size") * np.dtype(str(dt)).itemsize
        shape, dt = _dims(h.shape, 2, "Tensor")
        if not isinstance(shape, list) or len(shape) > 8:
            raise WireError(f"Tensor shape {shape!r} is not a list of at most 8 dimensions")
        return math.prod(_count(d, "dimension") for d in shape) * np.dtype(str(dt)).itemsize
    except (KeyError, TypeError) as e:
        raise WireError(f"{h.kind} sample {h.seq}: shape {h.shape!r}: {e}") from None


def decode(h: Header, payload: bytes) -> object:
    """A new pool message from a sample (the one copy into the pool); WireError if the bytes do
    not make the message the header describes."""
    data = payload
    if h.compression:
        data = _decompress(payload, h.compression, expected_size(h))
    what = f"{h.kind} sample {h.seq}"
    try:
        msg: Any
        if h.kind == "Data":
            value = _data.decode(data)
            if value is _data.CORRUPT:
                raise WireError(f"{what}: the schemaless payload is corrupt")
            return value
        if h.kind == "Record":
            cls = record_type_of(h)
            if len(data) != cls.dtype.itemsize:
                raise WireError(f"{what}: {len(data)} bytes; a {cls.__name__} has {cls.dtype.itemsize}")
            msg = cls(timestamp_ns=h.timestamp_ns, frame_id=h.frame_id)
            np.frombuffer(msg, np.uint8)[:] = np.frombuffer(data, np.uint8)  # type: ignore[call-overload]
            return msg
        if h.kind == "Image":
            height, width, enc = _dims(h.shape, 3, what)
            msg = horus.Image.from_bytes(data, _count(height, "height"), _count(width, "width"), str(enc))
        elif h.kind == "DepthImage":
            height, width, dt = _dims(h.shape, 3, what)
            if dt not in ("float32", "uint16"):
                raise WireError(f"{what}: depth dtype {dt!r} (horus depth images are float32 or uint16)")
            a = np.frombuffer(data, dt)
            msg = horus.DepthImage.from_numpy(a.reshape(_count(height, "height"), _count(width, "width")))
        elif h.kind == "PointCloud":
            n, fields, dt = _dims(h.shape, 3, what)
            a = np.frombuffer(data, np.dtype(str(dt)))
            msg = horus.PointCloud.from_numpy(a.reshape(_count(n, "points"), _count(fields, "fields")))
        else:
            shape, dt = _dims(h.shape, 2, what)
            if not isinstance(shape, list):
                raise WireError(f"{what}: shape {shape!r} is not a list")
            dims = tuple(_count(d, "dimension") for d in shape)
            a = np.frombuffer(data, np.dtype(str(dt)))
            if math.prod(dims) != a.size:
                raise WireError(f"{what}: {len(data)} bytes do not fill shape {dims} of {dt}")
            a = a.reshape(dims)
            rec = record_type_of(h) if h.layout_hash else None
            if rec is not None and (a.dtype != np.uint8 or not dims or dims[-1] != rec.dtype.itemsize):
                raise WireError(f"{what}: a Tensor of {rec.__name__} records is uint8 of shape (..., "
                                f"{rec.dtype.itemsize}); the sample says {dims} of {dt}")
            msg = horus.Tensor.from_numpy(a)
            if rec is not None:
                msg._set_record_type(rec)
        msg.set_timestamp_ns(h.timestamp_ns)
        msg.set_frame_id(h.frame_id)
        return msg
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError) as e:
        raise WireError(f"{what}: {e}") from None
