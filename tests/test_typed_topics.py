"""Topics of typed messages: Topic(BatteryState) send/recv, value semantics, inline
(<= INLINE_PAYLOAD_BYTES, no pool block) vs pooled (a pool block, zero copy for the
receivers), metadata, layout mismatches (same process and another process), loss
counting, and Topic(None, name) on a typed topic.
"""

from __future__ import annotations

import gc
import itertools
import os
import time

import numpy as np
import pytest

import horus
from horus import Topic

from _child import Child
from conftest import blocks_in_use, in_pool

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"tt_{tag}_{os.getpid()}_{next(_counter)}"


class BatteryState(horus.TypedMessage):
    voltage: np.float32
    current: np.float32
    cell_voltages: horus.array(np.float32, 8)
    charging: bool
    name: horus.string(16)


INLINE = horus._core.INLINE_PAYLOAD_BYTES


def addr_of(msg) -> int:
    return np.frombuffer(memoryview(msg), dtype=np.uint8).ctypes.data


# ----------------------------------------------------------------- basics
def test_battery_state_topic_send_recv(no_leak):
    assert BatteryState.dtype.itemsize == 60 <= INLINE
    name = unique("bat")
    t = Topic(BatteryState, name)
    assert t.message_type is BatteryState and t.name == name
    assert t.layout_hash == BatteryState.layout_hash
    assert "BatteryState" in repr(t) and BatteryState.layout_text in t.type_description
    assert t.try_recv() is None
    start = time.monotonic()
    assert t.recv(timeout=0.05) is None
    assert time.monotonic() - start >= 0.04
    b = BatteryState(12.5, 1.0, np.arange(8), True, "pack", timestamp_ns=42, frame_id="base")
    t.send(b)
    got = t.recv()
    assert isinstance(got, BatteryState) and got == b
    assert (got.voltage, got.charging, got.name, got.timestamp_ns, got.frame_id) == (12.5, True, "pack", 42, "base")
    np.testing.assert_array_equal(got.cell_voltages, np.arange(8))
    t.send(b)
    assert t.try_recv() == b
    t.send(b)
    assert t.recv(timeout=1) == b
    assert t.try_recv() is None
    del got, t


def test_default_name_is_the_lowercase_class_name(no_leak):
    class SomeUniqueTypedThing(horus.TypedMessage):
        x: np.uint8

    t = Topic(SomeUniqueTypedThing)
    assert t.name == "someuniquetypedthing"
    t.send(SomeUniqueTypedThing(x=3))
    assert Topic(SomeUniqueTypedThing).name == "someuniquetypedthing"
    assert t.recv().x == 3
    assert Topic(horus.msg.CmdVel, unique("cmd")).message_type is horus.msg.CmdVel


def test_recv_waits_for_a_message_from_another_thread(no_leak):
    import threading

    name = unique("wait")
    t = Topic(horus.msg.CmdVel, name)
    pub = Topic(horus.msg.CmdVel, name)
    threading.Timer(0.1, lambda: pub.send(horus.msg.CmdVel(1.0, 2.0))).start()
    got = t.recv(timeout=5)
    assert got is not None and (got.linear, got.angular) == (1.0, 2.0)
    del got, t, pub


def test_value_semantics_sender_stays_writable(no_leak):
    for cls in (BatteryState, horus.LaserScan):  # inline, pooled
        name = unique("value")
        sub, t = Topic(cls, name), Topic(cls, name)  # a subscriber, and a publisher (keeps nothing itself)
        m = cls()
        field = "voltage" if cls is BatteryState else "range_max"
        arr = "cell_voltages" if cls is BatteryState else "ranges"
        setattr(m, field, 1.0)
        getattr(m, arr)[0] = 1.0
        t.send(m)
        assert not m.is_shared()
        setattr(m, field, 2.0)  # still writable after send
        getattr(m, arr)[0] = 2.0
        t.send(m)
        first, second = sub.recv(), sub.recv()
        assert getattr(first, field) == 1.0 and getattr(first, arr)[0] == 1.0
        assert getattr(second, field) == 2.0 and getattr(second, arr)[0] == 2.0
        setattr(m, field, 3.0)  # later edits do not change what was received
        getattr(m, arr)[0] = 3.0
        assert getattr(first, field) == 1.0 and getattr(second, arr)[0] == 2.0
        assert first.is_shared() and second.is_shared()
        with pytest.raises(horus.ReadOnlyError):
            setattr(first, field, 5.0)
        with pytest.raises(ValueError):
            getattr(second, arr)[0] = 5.0
        del first, second, t, sub


def test_metadata_travels(no_leak):
    for cls in (horus.msg.CmdVel, horus.LaserScan):
        name = unique("meta")
        sub, t = Topic(cls, name), Topic(cls, name)
        t.send(cls(timestamp_ns=2**64 - 1, frame_id="é" * 31))
        t.send(cls())
        t.send(cls(timestamp_ns=7, frame_id="x" * 63))
        a, b, c = sub.recv(), sub.recv(), sub.recv()
        assert (a.timestamp_ns, a.frame_id) == (2**64 - 1, "é" * 31)
        assert (b.timestamp_ns, b.frame_id) == (0, "")
        assert (c.timestamp_ns, c.frame_id) == (7, "x" * 63)
        del a, b, c, t, sub


# ----------------------------------------------------------------- inline vs pooled
def _sized(nbytes: int) -> type:
    return horus.message(type(f"Sized{nbytes}", (), {"__annotations__": {"b": horus.array(np.uint8, nbytes)},
                                                       "__module__": __name__}))


def test_inline_messages_use_no_pool_block(no_leak):
    for cls in (horus.msg.CmdVel, BatteryState, _sized(INLINE)):
        assert cls.dtype.itemsize <= INLINE
        name = unique("inline")
        sub, t = Topic(cls, name), Topic(cls, name)
        before = blocks_in_use()
        m = cls()
        arr_field = next((f for f in cls.fields if isinstance(getattr(m, f), np.ndarray)), None)
        if arr_field:
            getattr(m, arr_field)[...] = 7
        for _ in range(5):
            t.send(m)
        assert horus.pool_stats().blocks_in_use == before
        got = [sub.recv() for _ in range(5)]
        assert all(g is not None and g == m for g in got)
        assert horus.pool_stats().blocks_in_use == before
        # An inline message is copied out of the ring slot: not a view of the pool.
        assert not in_pool(addr_of(got[0]), cls.dtype.itemsize)
        assert got[0].is_shared()
        del got, t, sub


def test_pooled_messages_are_zero_copy_views_of_a_pool_block(no_leak):
    cls = horus.LaserScan
    assert cls.dtype.itemsize > INLINE
    name = unique("scan")
    t1, t2 = Topic(cls, name), Topic(cls, name)
    before = blocks_in_use()
    m = cls(count=3)
    m.ranges[:] = np.arange(2048)
    t1.send(m)
    assert horus.pool_stats().blocks_in_use == before + 1
    a = t1.recv()
    b = t2.recv()
    assert a == m and b == m
    r1, r2 = a.ranges, a.ranges
    assert r1.ctypes.data == r2.ctypes.data
    assert in_pool(r1.ctypes.data, r1.nbytes)
    assert in_pool(addr_of(a), cls.dtype.itemsize)
    assert not r1.flags.writeable
    # Both receivers view the same bytes; the sender's object is its own copy.
    assert b.ranges.ctypes.data == r1.ctypes.data
    assert addr_of(m) != addr_of(a)
    assert r1.ctypes.data == addr_of(a) + cls.dtype.fields["ranges"][1]
    del a, b, r1, r2, t1, t2, m


def test_inline_boundary():
    small, big = _sized(INLINE), _sized(INLINE + 1)
    for cls, extra in ((small, 0), (big, 1)):
        t = Topic(cls, unique("edge"))
        before = blocks_in_use()
        t.send(cls())
        assert horus.pool_stats().blocks_in_use == before + extra, cls.__name__
        got = t.recv()
        assert got == cls() and in_pool(addr_of(got), cls.dtype.itemsize) == bool(extra)
        del got, t
        gc.collect()


def test_pooled_blocks_are_released_when_receivers_drop_them(no_leak):
    cls = horus.LaserScan
    name = unique("release")
    before = blocks_in_use()
    t = Topic(cls, name, capacity=4)
    pub = Topic(cls, name)
    for k in range(3):
        pub.send(cls(count=k))
    got = [t.recv() for _ in range(3)]
    assert [g.count for g in got] == [0, 1, 2]
    assert blocks_in_use() >= before + 3
    arr = got[1].ranges
    del t, pub
    gc.collect()
    # The topic is gone; the received messages (and a view of one) keep their blocks.
    assert blocks_in_use() == before + 3
    del got
    assert blocks_in_use() == before + 1  # only the block `arr` views (through its message)
    assert arr.flags.writeable is False and arr.shape == (2048,)
    del arr
    assert blocks_in_use() == before


def test_many_pooled_messages_do_not_leak(no_leak):
    t = Topic(horus.LaserScan, unique("many"), capacity=8)
    m = horus.LaserScan()
    for k in range(100):
        m.count = k
        t.send(m)
        got = t.recv()
        assert got.count == k
        del got
    del t


# ----------------------------------------------------------------- losses
def test_slow_subscriber_drops_are_counted(no_leak):
    for cls in (horus.msg.CmdVel, horus.LaserScan):
        name = unique("slow")
        sub = Topic(cls, name, capacity=4)
        pub = Topic(cls, name)
        for k in range(10):
            pub.send(cls(timestamp_ns=k))
        got = []
        while (m := sub.try_recv()) is not None:
            got.append(m.timestamp_ns)
        assert got == [6, 7, 8, 9]
        assert sub.dropped == 6
        assert pub.published == 10
        del sub, pub


# ----------------------------------------------------------------- layout mismatches
def _other_battery() -> type:
    class BatteryState(horus.TypedMessage):  # same name, another layout
        voltage: np.float64
        charging: bool

    return BatteryState


def _check_mismatch_text(text: str, name: str, existing: type, other: type) -> None:
    assert f"'{name}'" in text, text
    assert text.count("BatteryState") >= 2, text
    assert existing.layout_text in text, text
    assert other.layout_text in text, text


def test_layout_mismatch_in_the_same_process(no_leak):
    Other = _other_battery()
    assert Other.layout_hash != BatteryState.layout_hash
    name = unique("mismatch")
    t = Topic(BatteryState, name)
    with pytest.raises(TypeError) as e:
        Topic(Other, name)
    _check_mismatch_text(str(e.value), name, BatteryState, Other)
    # The other order too, and against another kind of message.
    name2 = unique("mismatch")
    t2 = Topic(Other, name2)
    with pytest.raises(TypeError) as e:
        Topic(BatteryState, name2)
    _check_mismatch_text(str(e.value), name2, Other, BatteryState)
    with pytest.raises(TypeError):
        Topic(horus.Image, name)
    with pytest.raises(TypeError):
        Topic(horus.Tensor, name)
    # Sending a message of another type on the topic is refused, and nothing arrives.
    with pytest.raises(TypeError):
        t.send(Other(voltage=1.0))
    with pytest.raises(TypeError):
        t.send(horus.msg.CmdVel())
    assert t.try_recv() is None
    del t, t2


CHILD_DECL = """
import sys, numpy as np, horus
class BatteryState(horus.TypedMessage):
    voltage: np.float64
    charging: bool
name = sys.argv[1]
"""


def test_layout_mismatch_with_another_process_opening_second(no_leak):
    name = unique("xproc")
    t = Topic(BatteryState, name)
    child = Child.python(CHILD_DECL + """
try:
    horus.Topic(BatteryState, name)
    print("opened", flush=True)
except TypeError as e:
    print("refused", str(e).replace("\\n", " "), flush=True)
print("layout", BatteryState.layout_text, flush=True)
""", name)
    try:
        line = child.expect("refused", timeout=30)
        other_text = child.expect("layout").split(" ", 1)[1]
        assert child.wait() == 0, child.stderr
    finally:
        child.kill()
    assert other_text == _other_battery().layout_text
    assert f"'{name}'" in line and BatteryState.layout_text in line and other_text in line
    del t


def test_layout_mismatch_with_another_process_opening_first(no_leak):
    name = unique("xproc2")
    child = Child.python(CHILD_DECL + """
t = horus.Topic(BatteryState, name)
print("ready", flush=True)
sys.stdin.readline()
""", name, stdin=True)
    try:
        child.expect("ready", timeout=30)
        with pytest.raises(TypeError) as e:
            Topic(BatteryState, name)
        _check_mismatch_text(str(e.value), name, _other_battery(), BatteryState)
        u = Topic(None, name)  # opens, but this process has no class of that layout
        assert u.layout_hash == _other_battery().layout_hash or u.message_type is not BatteryState
        del u
        child.send_line("bye")
        assert child.wait() == 0, child.stderr
    finally:
        child.kill()


# ----------------------------------------------------------------- Topic(None, name)
def test_untyped_open_of_a_typed_topic(no_leak):
    name = unique("untyped")
    t = Topic(BatteryState, name)
    u = Topic(None, name)
    assert u.message_type is BatteryState
    assert u.layout_hash == BatteryState.layout_hash
    t.send(BatteryState(voltage=3.0, timestamp_ns=1))
    got = u.recv(timeout=1)
    assert isinstance(got, BatteryState) and got.voltage == 3.0 and got.timestamp_ns == 1
    u.send(BatteryState(voltage=4.0))  # it can send the topic's type
    assert t.recv().voltage == 3.0 and t.recv().voltage == 4.0
    with pytest.raises(TypeError):
        u.send(horus.msg.CmdVel())
    with pytest.raises(TypeError):
        u.send({"voltage": 1.0})
    del got, t, u


def test_untyped_open_where_the_class_is_not_declared():
    """A child opens Topic(None, name) without declaring the class: recv names the type."""
    name = unique("undeclared")

    class OnlyHere(horus.TypedMessage):
        level: np.uint16

    t = Topic(OnlyHere, name)
    child = Child.python("""
import sys, horus
u = horus.Topic(None, sys.argv[1])
print("ready", u.message_type, flush=True)
sys.stdin.readline()
try:
    print("got", u.recv(timeout=5), flush=True)
except TypeError as e:
    print("refused", str(e).replace("\\n", " "), flush=True)
""", name, stdin=True)
    try:
        ready = child.expect("ready", timeout=30)
        assert ready == "ready None"
        t.send(OnlyHere(level=5))
        child.send_line("go")
        line = child.expect("refused", timeout=20)
        assert "OnlyHere" in line and f"'{name}'" in line and "not declared" in line
        assert child.wait() == 0, child.stderr
    finally:
        child.kill()
    del t


def test_python_to_python_across_processes(no_leak):
    """A child sends CmdVel and LaserScan; this process receives values and metadata."""
    name = unique("pp")
    cmd = Topic(horus.msg.CmdVel, name, capacity=64)
    scan = Topic(horus.LaserScan, name + ".scan", capacity=16)
    child = Child.python("""
import sys, numpy as np, horus
name = sys.argv[1]
cmd = horus.Topic(horus.msg.CmdVel, name)
scan = horus.Topic(horus.LaserScan, name + ".scan")
for k in range(5):
    cmd.send(horus.msg.CmdVel(k, -k, timestamp_ns=k, frame_id="child"))
    s = horus.LaserScan(count=k, timestamp_ns=100 + k, frame_id="lidar")
    s.ranges[:] = np.arange(2048) + k
    scan.send(s)
print("sent", flush=True)
""", name)
    try:
        child.expect("sent", timeout=30)
        assert child.wait() == 0, child.stderr
    finally:
        child.kill()
    for k in range(5):
        c = cmd.recv(timeout=2)
        s = scan.recv(timeout=2)
        assert (c.linear, c.angular, c.timestamp_ns, c.frame_id) == (k, -k, k, "child")
        assert (s.count, s.timestamp_ns, s.frame_id) == (k, 100 + k, "lidar")
        np.testing.assert_array_equal(s.ranges, np.arange(2048) + k)
        assert in_pool(s.ranges.ctypes.data, s.ranges.nbytes)
    del c, s, cmd, scan


def test_a_bool_byte_that_is_not_0_or_1_is_refused_by_the_sender(no_leak):
    """Bytes written through the buffer protocol can hold a bool of 2: send() refuses such a
    message (ValueError naming the field), so no receiver ever has to drop it; C++ and
    corrupt-slot receivers skip one (test_record.cpp, test_typed_adversarial.py)."""
    for cls_name, size in (("BoolInline", 4), ("BoolPooled", 200)):
        cls = horus.message(type(cls_name, (), {"__annotations__": {"pad": horus.array(np.uint8, size), "ok": bool},
                                                "__module__": __name__}))
        name = unique("badbool")
        sub, pub = Topic(cls, name), Topic(cls, name)
        m = cls(ok=True)
        np.frombuffer(memoryview(m), dtype=np.uint8)[cls.dtype.fields["ok"][1]] = 2
        assert m.ok is True
        with pytest.raises(ValueError, match=r"field 'ok' \(offset \d+\) holds byte 2; a bool is 0 or 1"):
            pub.send(m)
        assert pub.published == 0
        pub.send(cls(ok=True))
        got = sub.recv(timeout=1)
        assert got is not None and got.ok is True and bytes(got) == bytes(cls(ok=True))
        assert sub.try_recv() is None and sub.dropped == 0, cls_name
        del got, sub, pub


def test_a_held_pooled_message_survives_the_ring_wrapping(no_leak):
    """The received object keeps its block: later sends (which recycle the ring's slots)
    never reuse the bytes it views."""
    name = unique("wrap")
    sub, pub = Topic(horus.LaserScan, name, capacity=2), Topic(horus.LaserScan, name)
    m = horus.LaserScan(count=1)
    m.ranges[:] = 1.0
    pub.send(m)
    held = sub.recv()
    addr = held.ranges.ctypes.data
    for k in range(2, 30):
        m.count = k
        m.ranges[:] = float(k)
        pub.send(m)
        got = sub.try_recv()
        assert got is not None and got.count == k
        assert got.ranges.ctypes.data != addr
        del got
    assert held.count == 1 and held.ranges.ctypes.data == addr
    np.testing.assert_array_equal(held.ranges, np.ones(2048, np.float32))
    del held, sub, pub


def test_untyped_topic_opened_before_the_type_is_set_receives_it(no_leak):
    name = unique("untyped_first")
    u = Topic(None, name)
    assert u.message_type is None and u.layout_hash == 0
    t = Topic(horus.msg.CmdVel, name)  # the first typed opener sets the topic's type
    assert u.layout_hash == horus.msg.CmdVel.layout_hash
    with pytest.raises(TypeError, match="CmdVel"):
        Topic(horus.msg.Pose2D, name)
    t.send(horus.msg.CmdVel(1.0, 2.0))
    got = u.try_recv()
    assert type(got) is horus.msg.CmdVel and (got.linear, got.angular) == (1.0, 2.0)
    del got, t, u


def test_untyped_topic_message_type_follows_a_later_typed_opener():
    name = unique("untyped_type")
    u = Topic(None, name)
    t = Topic(horus.msg.CmdVel, name)
    try:
        assert u.message_type is horus.msg.CmdVel
    finally:
        del t, u


def test_schemaless_cross_process_zero_copy(no_leak):
    """A child sends schemaless data with arrays; this process gets them zero-copy in the pool."""
    name = unique("data_xproc")
    sub = Topic(name)
    child = Child.python("""
import sys, numpy as np, horus
t = horus.Topic(sys.argv[1])
t.send({"k": 1, "img": np.arange(12, dtype=np.uint16).reshape(3, 4), "t": (1.5, "x", None), "b": b"raw"})
print("sent", flush=True)
""", name)
    try:
        child.expect("sent", timeout=30)
        assert child.wait() == 0, child.stderr
    finally:
        child.kill()
    got = sub.recv(timeout=5)
    assert got["k"] == 1 and got["t"] == (1.5, "x", None) and got["b"] == b"raw"
    img = got["img"]
    np.testing.assert_array_equal(img, np.arange(12, dtype=np.uint16).reshape(3, 4))
    assert not img.flags.writeable and in_pool(img.ctypes.data, img.nbytes)
    del got, img, sub


def test_send_zeroes_padding_bytes(no_leak):
    """Padding written through the buffer protocol does not travel: the wire has zeros."""

    class Padded(horus.TypedMessage):
        a: np.uint8
        b: np.float64

    name = unique("pad")
    sub, pub = Topic(Padded, name), Topic(Padded, name)
    m = Padded(1, 2.0)
    np.frombuffer(memoryview(m), dtype=np.uint8)[1:8] = 0xAA
    pub.send(m)
    got = sub.recv()
    assert bytes(got) == bytes(Padded(1, 2.0))
    assert got == Padded(1, 2.0)
    # == compares the bytes (padding included), so the sender's object differs.
    assert m != got
    del got, sub, pub
