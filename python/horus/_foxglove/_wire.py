"""The protobuf wire format: a small encoder (fields in number order, proto3 defaults
omitted) and a no-copy field reader, plus the numbers of the horus extension fields."""

from __future__ import annotations

import struct
from typing import Any

from horus._foxglove._types import ConversionError

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
