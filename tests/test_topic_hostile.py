"""A topic's ring slots are written by other processes: recv() must survive them.

These tests corrupt a slot in /dev/shm directly (the topic file is
/dev/shm/horus.<namespace>.topic.<name>; a slot holds a sequence word and a
TensorDescriptor, cpp/include/horus/topic_layout.hpp and descriptor.hpp). The
slot is found by a unique frame_id written into it, so the tests do not depend
on the header's size. A corrupt descriptor is skipped and counted in `dropped`;
a frame_id that is not UTF-8 (a C++ publisher or a corrupt slot) still reads.
"""

from __future__ import annotations

import itertools
import mmap
import os
import secrets
import struct
from pathlib import Path

import pytest

from horus import DepthImage, Image, PointCloud, Tensor, Topic

from conftest import SESSION_NAMESPACE

pytestmark = pytest.mark.usefixtures("no_leak")

_counter = itertools.count()

# TensorDescriptor (descriptor.hpp): kind u8, dtype u8, ndim u8, encoding u8,
# reserved u32, shape u64[8], nbytes u64, offset u64, timestamp_ns u64,
# block (4 x u32), frame_id char[64]: 176 bytes.
SHAPE_AT, NBYTES_AT, FRAME_ID_AT, DESCRIPTOR_SIZE = 8, 72, 112, 176
DTYPE_AT = 1
INT32 = 3  # DType::Int32 (dtype.hpp)


def unique(tag: str) -> str:
    return f"hostile_{tag}_{os.getpid()}_{next(_counter)}"


def topic_file(name: str) -> Path:
    return Path("/dev/shm") / f"horus.{SESSION_NAMESPACE}.topic.{name}"


class Slot:
    """The descriptor in a topic's file whose frame_id is `marker`, mapped for writing."""

    def __init__(self, name: str, marker: str):
        self._f = open(topic_file(name), "r+b")
        self._m = mmap.mmap(self._f.fileno(), 0)
        needle = marker.encode() + b"\0"
        at = self._m.find(needle)
        assert at >= 0, f"no slot with frame_id {marker!r} in {topic_file(name)}"
        assert self._m.find(needle, at + 1) < 0, "marker found twice"
        self.base = at - FRAME_ID_AT

    def put(self, offset: int, fmt: str, *values) -> None:
        struct.pack_into("<" + fmt, self._m, self.base + offset, *values)

    def get(self, offset: int, fmt: str):
        return struct.unpack_from("<" + fmt, self._m, self.base + offset)

    def close(self) -> None:
        self._m.close()
        self._f.close()


def marked(msg, marker: str):
    msg.set_frame_id(marker)
    return msg


def marker() -> str:
    return "mark_" + secrets.token_hex(8)


# ----------------------------------------------------------------- corrupt shapes
def corrupt_shape_cases():
    big = 2**60  # beyond payload_bytes' 2^50 limit: it threw InvalidArgument (ValueError)
    return [
        ("tensor_dim0", lambda: Tensor((2, 3), "float32"), lambda s: s.put(SHAPE_AT, "Q", big)),
        ("tensor_dim1", lambda: Tensor((2, 3), "float32"), lambda s: s.put(SHAPE_AT + 8, "Q", big)),
        ("tensor_overflow", lambda: Tensor((2, 3), "float32"),
         lambda s: s.put(SHAPE_AT, "QQ", 2**40, 2**40)),  # each <= 2^50, the product is not
        ("image_height", lambda: Image(height=2, width=3, encoding="rgb8"), lambda s: s.put(SHAPE_AT, "Q", big)),
        ("image_height_2^21", lambda: Image(height=2, width=1, encoding="mono8"),
         lambda s: (s.put(SHAPE_AT, "Q", 2**21), s.put(NBYTES_AT, "Q", 2**21))),  # consistent, too tall
        ("depth_width", lambda: DepthImage(height=2, width=3), lambda s: s.put(SHAPE_AT + 8, "Q", big)),
        # int32: the same nbytes, but not a depth (or point) dtype: check_*_dtype threw InvalidArgument
        ("depth_dtype", lambda: DepthImage(height=2, width=3), lambda s: s.put(DTYPE_AT, "B", INT32)),
        ("cloud_dtype", lambda: PointCloud(num_points=4, fields=3), lambda s: s.put(DTYPE_AT, "B", INT32)),
        ("cloud_points", lambda: PointCloud(num_points=4, fields=3), lambda s: s.put(SHAPE_AT, "Q", big)),
    ]


@pytest.mark.parametrize("case", corrupt_shape_cases(), ids=[c[0] for c in corrupt_shape_cases()])
def test_corrupt_shape_is_skipped_and_counted(case):
    _, make, corrupt = case
    name = unique("shape")
    topic = Topic(type(make()), name, capacity=8)  # the subscriber (it never sends)
    pub = Topic(type(make()), name)
    bad_mark, good_mark = marker(), marker()
    pub.send(marked(make(), bad_mark))
    pub.send(marked(make(), good_mark))
    slot = Slot(name, bad_mark)
    try:
        corrupt(slot)
    finally:
        slot.close()
    assert topic.dropped == 0
    got = topic.recv()  # the corrupt one is skipped: the next message comes back
    assert got is not None and got.frame_id == good_mark
    assert topic.dropped == 1
    assert topic.recv() is None and topic.dropped == 1


def test_only_corrupt_messages_waiting_gives_none():
    name = unique("only_bad")
    topic, pub = Topic(Tensor, name, capacity=4), Topic(Tensor, name)
    marks = [marker() for _ in range(3)]
    for m in marks:
        pub.send(marked(Tensor((4,), "uint8"), m))
    for m in marks:
        slot = Slot(name, m)
        slot.put(SHAPE_AT, "Q", 2**63)
        slot.close()
    assert topic.recv() is None
    assert topic.dropped == 3
    assert topic.recv(timeout=0.05) is None and topic.dropped == 3


# ----------------------------------------------------------------- frame_id bytes
@pytest.mark.parametrize("raw", [b"\xff\xfe", b"cam\xc3", b"caf\xc3\xa9\x80", b"\xed\xa0\x80"],
                         ids=["ff_fe", "truncated", "stray_continuation", "surrogate"])
def test_non_utf8_frame_id_of_a_received_message(raw):
    """Bytes that are not UTF-8 read as text with U+FFFD replacement characters
    (frame_id, repr) instead of raising UnicodeDecodeError."""
    name = unique("frame_id")
    topic, pub = Topic(Image, name), Topic(Image, name)
    mark = marker()
    pub.send(marked(Image(height=2, width=2, encoding="mono8"), mark))
    slot = Slot(name, mark)
    slot.put(FRAME_ID_AT, f"{len(mark) + 1}s", raw + b"\0" * (len(mark) + 1 - len(raw)))
    slot.close()
    got = topic.recv()
    assert got is not None and topic.dropped == 0
    assert got.frame_id == raw.decode("utf-8", errors="replace")
    assert "\ufffd" in got.frame_id
    assert f"frame_id='{got.frame_id}'" in repr(got)
    copy = got.copy()
    assert copy.frame_id == got.frame_id
    copy.set_frame_id(got.frame_id)  # the replacement text is valid UTF-8 again


def test_set_frame_id_rejects_text_that_is_not_utf8():
    """A str with a lone surrogate has no UTF-8 form: the C++ check in
    Message::set_frame_id names the problem (it was nanobind's generic TypeError)."""
    img = Image(height=2, width=2, encoding="mono8")
    for bad in ("cam\udcff", "\ud800"):
        with pytest.raises(ValueError, match="UTF-8") as e:
            img.set_frame_id(bad)
        assert "frame_id" in str(e.value)
    assert img.frame_id == ""
    img.set_frame_id("caméra_前")  # valid UTF-8 of several bytes per character
    assert img.frame_id == "caméra_前"
