"""Image and DepthImage <-> foxglove.RawImage: the encoding names, row padding, and the
timestamp and frame_id of a decoded message (_stamp, shared by clouds and tensors)."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np

import horus
from horus._foxglove._types import ConversionError
from horus._foxglove._wire import (
    _LEN,
    EXT_ENCODING,
    _get_bytes,
    _get_str,
    _get_timestamp,
    _key,
    _last,
    _pb_fields,
    _pb_fixed32,
    _pb_str,
    _pb_timestamp,
    _varint,
)

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
