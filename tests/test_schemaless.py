"""Schemaless data topics: Topic("status") carries any MessagePack-able value, with
NumPy arrays inside copied once into the message's pool block and received as
read-only zero-copy views. Unsupported values are refused with the type named.
"""

from __future__ import annotations

import gc
import itertools
import math
import os

import numpy as np
import pytest

import horus
from horus import Topic

from conftest import blocks_in_use, in_pool, pool_mappings

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"sl_{tag}_{os.getpid()}_{next(_counter)}"


class Pair:
    """A subscriber and a publisher of one schemaless topic."""

    def __init__(self, tag: str = "t", **kw):
        name = unique(tag)
        self.sub = Topic(name, **kw)
        self.pub = Topic(name)

    def round_trip(self, value):
        self.pub.send(value)
        got = self.sub.recv(timeout=2)
        assert self.sub.try_recv() is None
        return got


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (tuples stay tuples, bools stay bools)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**64 - 1,
    -(2**63),
    2**63,
    1.5,
    float("inf"),
    -0.0,
    "",
    "héllo wörld ✓ 日本語 🚀",
    b"",
    b"\x00\x01\xff" * 10,
    [],
    {},
    (),
    [1, "a", None, 2.5],
    (1, (2, (3, ())), [4, (5,)]),
    {"status": "ok", "battery": 0.87, "errors": [], "nested": {"a": {"b": {"c": [1, {"d": (2, 3)}]}}}},
    {1: "int key", (1, 2): "tuple key", None: "none key", b"k": "bytes key", 2.5: "float key", True: "bool"},
    [[[[[]]]]],
    {"big": 2**64 - 1, "small": -(2**63), "list": [2**64 - 1, -(2**63)]},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: repr(v)[:30])
def test_every_supported_value_round_trips(value, no_leak):
    p = Pair("value")
    got = p.round_trip(value)
    assert same(got, value), (got, value)
    del p


def test_nan_round_trips():
    p = Pair("nan")
    assert math.isnan(p.round_trip(float("nan")))


def test_topic_properties():
    name = unique("props")
    t = Topic(name)
    assert t.name == name and t.message_type is None and t.layout_hash == 0
    assert "schemaless" in repr(t)
    with pytest.raises(TypeError):
        Topic("x", name="y")


@pytest.mark.parametrize("nbytes", [5_000, 2_000_000])
def test_large_values_have_no_4k_cap(nbytes, no_leak):
    p = Pair("big")
    value = {"blob": os.urandom(nbytes), "text": "x" * nbytes, "list": list(range(nbytes // 100))}
    got = p.round_trip(value)
    assert same(got, value)
    del p, got


ARRAYS = [
    np.arange(10, dtype=np.int64),
    np.array([True, False, True]),
    np.array([1.5, -2.0, np.inf], dtype=np.float16),
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.zeros((0,), dtype=np.float64),  # empty
    np.zeros((3, 0, 2), dtype=np.uint8),
    np.array([(1, 2.5), (3, -1.0)], dtype=[("id", "<u4"), ("v", "<f8")]),
    np.array([(1, 2.5)], dtype=np.dtype({"names": ["a", "b"], "formats": ["u1", "<f8"], "aligned": True})),
    np.arange(100, dtype=np.uint16)[::3],  # non-contiguous input
    np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    np.array([2**64 - 1, 0], dtype=np.uint64),
    np.array([1 + 2j], dtype=np.complex128),
    np.array(["ab", "c"], dtype="S2"),
    np.arange(6, dtype=">i4"),  # big-endian
    np.array(["héllo", "x"]),  # <U5
    np.zeros((2, 2), dtype=[("pos", "<f4", (3,)), ("id", "<u2")]),  # structured with a subarray field
]


@pytest.mark.parametrize("arr", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_numpy_arrays_arrive_equal_read_only_and_zero_copy(arr, no_leak):
    p = Pair("arr")
    got = p.round_trip({"a": arr, "meta": [arr.shape]})
    a = got["a"]
    assert isinstance(a, np.ndarray)
    assert a.dtype == arr.dtype and a.shape == arr.shape
    np.testing.assert_array_equal(a, arr)
    assert not a.flags.writeable
    if a.size:
        with pytest.raises(ValueError):
            a.flat[0] = a.flat[0]
        assert in_pool(a.ctypes.data, a.nbytes)
    assert a.flags.c_contiguous
    del p, got, a


def test_zero_d_array_keeps_its_shape(no_leak):
    """Regression: np.ascontiguousarray in encode() made a 0-d array arrive with shape (1,)."""
    p = Pair("zero_d")
    arr = np.array(3.25)
    got = p.round_trip({"a": arr, "b": np.array(7, dtype=np.uint8), "c": np.array(True)})
    try:
        assert got["a"].shape == () and got["a"].dtype == np.float64 and got["a"][()] == 3.25
        assert got["b"].shape == () and got["b"][()] == 7 and got["c"].shape == () and got["c"][()]
        assert not got["a"].flags.writeable
    finally:
        del got, p


@pytest.mark.parametrize("dtype", ["datetime64[ns]", "timedelta64[ms]"])
def test_datetime_arrays_round_trip(dtype):
    p = Pair("dt64")
    arr = np.array([1, 2, 3], dtype=dtype)
    got = p.round_trip({"a": arr})
    try:
        np.testing.assert_array_equal(got["a"], arr)
        assert got["a"].dtype == arr.dtype
    finally:
        del got, p


def test_bytearray_arrives_as_bytes(no_leak):
    p = Pair("bytearray")
    got = p.round_trip({"b": bytearray(b"\x01\x02")})
    assert same(got, {"b": b"\x01\x02"})
    del p


def test_two_arrays_share_one_block_and_are_aligned(no_leak):
    p = Pair("two")
    before = blocks_in_use()
    x, y = np.arange(1000, dtype=np.float64), np.arange(7, dtype=np.uint8)
    p.pub.send({"x": x, "nested": [{"y": y}], "t": (x[:3].copy(),)})
    got = p.sub.recv(timeout=2)
    assert blocks_in_use() == before + 1  # one block for the whole message
    gx, gy, gt = got["x"], got["nested"][0]["y"], got["t"][0]
    np.testing.assert_array_equal(gx, x)
    np.testing.assert_array_equal(gy, y)
    np.testing.assert_array_equal(gt, x[:3])
    # All in one pool mapping, close together, each 64-byte aligned.
    addrs = sorted((a.ctypes.data, a.ctypes.data + a.nbytes) for a in (gx, gy, gt))
    assert addrs[-1][1] - addrs[0][0] < 64 * 1024
    assert all(in_pool(a.ctypes.data, a.nbytes) for a in (gx, gy, gt))
    assert all(a.ctypes.data % 64 == 0 for a in (gx, gy, gt))
    regions = {next(i for i, (lo, hi) in enumerate(pool_mappings()) if lo <= a.ctypes.data < hi) for a in (gx, gy, gt)}
    assert len(regions) == 1
    # Reading twice gives the same memory (no copy on access).
    assert got["x"].ctypes.data == gx.ctypes.data
    del p, got, gx, gy, gt


def test_array_keeps_the_block_alive_after_the_dict_is_dropped(no_leak):
    p = Pair("alive")
    before = blocks_in_use()
    p.pub.send({"a": np.arange(5000, dtype=np.int32)})
    p.pub.send({"b": 1})  # the ring's newest message is kept; make it another one
    got = p.sub.recv(timeout=2)
    assert p.sub.recv(timeout=2) == {"b": 1}
    a = got["a"]
    addr = a.ctypes.data
    del got
    gc.collect()
    del p  # the topics are gone too
    gc.collect()
    assert blocks_in_use() == before + 1
    np.testing.assert_array_equal(a, np.arange(5000, dtype=np.int32))
    assert a.ctypes.data == addr
    base, chain = a, 0
    while getattr(base, "base", None) is not None and chain < 10:
        base, chain = base.base, chain + 1
    assert chain >= 1
    del a, base
    assert blocks_in_use() == before


def test_numpy_scalars_come_back_as_python_values(no_leak):
    p = Pair("scalars")
    value = {"f32": np.float32(2.5), "i8": np.int8(-3), "u64": np.uint64(2**64 - 1), "b": np.bool_(True),
             "f16": np.float16(0.5), "list": [np.int32(7), np.float64(1.25)]}
    got = p.round_trip(value)
    assert same(got, {"f32": 2.5, "i8": -3, "u64": 2**64 - 1, "b": True, "f16": 0.5, "list": [7, 1.25]})
    del p


def test_sender_array_stays_writable_and_is_copied(no_leak):
    p = Pair("copy")
    a = np.arange(10.0)
    p.pub.send({"a": a})
    a[0] = 99.0  # the sender's array is its own
    got = p.sub.recv(timeout=2)
    assert got["a"][0] == 0.0 and a.flags.writeable
    del p, got


class Custom:
    pass


@pytest.mark.parametrize(
    "value, type_name",
    [
        (lambda: 0, "function"),
        ({1, 2}, "set"),
        (frozenset(), "frozenset"),
        (np.array([object()], dtype=object), "object"),
        (Custom(), "Custom"),
        ({"nested": [Custom()]}, "Custom"),
        (1 + 2j, "complex"),
        (range(3), "range"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_unsupported_values_are_type_errors_naming_the_type(value, type_name, no_leak):
    p = Pair("bad")
    with pytest.raises(TypeError, match=type_name):
        p.pub.send(value)
    assert p.sub.try_recv() is None
    del p


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 2**200, [1, {"k": 2**64}]], ids=str)
def test_ints_beyond_64_bits_are_value_errors(value, no_leak):
    p = Pair("bigint")
    with pytest.raises(ValueError, match="int"):
        p.pub.send(value)
    assert p.sub.try_recv() is None
    del p


def test_typed_topic_refuses_dicts_and_schemaless_name_refuses_types(no_leak):
    typed = Topic(horus.msg.CmdVel, unique("typed"))
    with pytest.raises(TypeError):
        typed.send({"linear": 1.0})
    with pytest.raises(TypeError):
        typed.send([1, 2])
    assert typed.try_recv() is None
    name = unique("status")
    data = Topic(name)
    for t in (horus.Image, horus.Tensor, horus.msg.CmdVel):
        with pytest.raises(TypeError, match="schemaless"):
            Topic(t, name)
    with pytest.raises(TypeError):
        data.send(horus.msg.CmdVel())  # a typed message on a schemaless topic
    assert Topic(None, name).message_type is None
    u = Topic(None, name)
    data.send({"k": 1})
    assert u.recv(timeout=1) == {"k": 1}
    del typed, data, u


def test_many_messages_no_leak(no_leak):
    p = Pair("many", capacity=8)
    for k in range(200):
        p.pub.send({"k": k, "a": np.full(100, k, dtype=np.int16)})
        got = p.sub.recv(timeout=2)
        assert got["k"] == k and int(got["a"][99]) == k
        del got
    del p


def test_received_values_are_independent_of_later_sends(no_leak):
    p = Pair("indep")
    p.pub.send({"a": np.zeros(4)})
    first = p.sub.recv(timeout=2)
    p.pub.send({"a": np.ones(4)})
    second = p.sub.recv(timeout=2)
    np.testing.assert_array_equal(first["a"], np.zeros(4))
    np.testing.assert_array_equal(second["a"], np.ones(4))
    assert first["a"].ctypes.data != second["a"].ctypes.data
    del p, first, second


def test_enum_and_str_subclasses_and_numpy_str_arrive_as_base_values(no_leak):
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    p = Pair("enum")
    got = p.round_trip({"level": Level.HIGH, "s": np.str_("hi"), "f": np.float64(2.0)})
    assert same(got, {"level": 3, "s": "hi", "f": 2.0})
    del p


def test_numpy_scalars_msgpack_cannot_carry_are_type_errors(no_leak):
    p = Pair("npbad")
    with pytest.raises(TypeError, match="complex"):
        p.pub.send({"c": np.complex64(1 + 2j)})
    with pytest.raises(TypeError):
        p.pub.send(np.datetime64("2020-01-01"))
    assert p.sub.try_recv() is None
    del p


def test_image_on_a_schemaless_topic_is_refused(no_leak):
    p = Pair("img")
    img = horus.Image.from_numpy(np.zeros((2, 2, 3), np.uint8), encoding="rgb8")
    with pytest.raises(TypeError, match="schemaless"):
        p.pub.send(img)
    assert p.sub.try_recv() is None
    del p, img
