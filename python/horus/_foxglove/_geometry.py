"""horus.msg.TransformStamped <-> foxglove.FrameTransform and horus.msg.Pose <->
foxglove.PoseInFrame (protobuf)."""

from __future__ import annotations

from typing import Any

import horus
from horus._foxglove._types import ConversionError
from horus._foxglove._wire import (
    EXT_FRAME_ID,
    _get_double,
    _get_msg,
    _get_str,
    _get_timestamp,
    _pb_fields,
    _pb_len,
    _pb_quaternion,
    _pb_str,
    _pb_timestamp,
    _pb_vector,
)


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
