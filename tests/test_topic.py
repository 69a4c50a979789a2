"""horus.Topic in one process: names, send/recv/try_recv, blocking receives,
zero-copy and read-only sharing, ordering, loss counting, type safety, every
message type, bad input, and no pool-block leaks.

Cross-process behaviour is in test_topic_multiprocess.py. Every test uses a topic
name of its own (the session namespace is shared by all tests), except the
default-name test, which is what it checks.
"""

from __future__ import annotations

import gc
import itertools
import math
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import horus
from horus import DepthImage, Image, PointCloud, Tensor, Topic

from conftest import blocks_in_use

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"t_{tag}_{next(_counter)}"


def rgb(h: int = 4, w: int = 5, value: int = 0) -> Image:
    return Image.from_numpy(np.full((h, w, 3), value, dtype=np.uint8), encoding="rgb8")


# ----------------------------------------------------------------- names
@pytest.mark.parametrize(
    "msg_type, name",
    [(Image, "image"), (DepthImage, "depthimage"), (PointCloud, "pointcloud"), (Tensor, "tensor")],
)
def test_default_name_is_lowercase_type_name(msg_type, name, no_leak):
    t = Topic(msg_type)
    assert t.name == name
    assert t.message_type is msg_type
    assert t.capacity >= 1
    assert name in repr(t) and msg_type.__name__ in repr(t)
    # Two default-named topics of the same type are the same channel.
    other = Topic(msg_type)
    assert other.name == name


def test_explicit_name_and_capacity():
    name = unique("named")
    t = Topic(Image, name, capacity=8)
    assert (t.name, t.capacity, t.message_type) == (name, 8, Image)
    t2 = Topic(Image, name=name)  # capacity is the topic's, whoever created it
    assert t2.capacity == 8
    with pytest.raises(ValueError, match="capacity"):
        Topic(Image, name, capacity=16)  # exists with another capacity


def test_untyped_topic_takes_the_recorded_type():
    name = unique("typed_later")
    typed = Topic(PointCloud, name)
    untyped = Topic(None, name)
    assert untyped.message_type is PointCloud
    typed.send(PointCloud(num_points=2, fields=3, dtype="float32"))
    got = untyped.try_recv()
    assert isinstance(got, PointCloud)


# ----------------------------------------------------------------- send / recv
def test_send_recv_same_topic_object(no_leak):
    t = Topic(Image, unique("self"))
    assert t.try_recv() is None
    img = rgb(value=7)
    t.send(img)
    assert t.pending == 1 and t.published == 1
    got = t.recv()
    assert got is not None and got.to_numpy().tolist() == img.to_numpy().tolist()
    assert t.pending == 0
    assert t.try_recv() is None and t.recv() is None
    del img, got, t


def test_send_recv_between_two_topic_objects(no_leak):
    name = unique("pair")
    pub, sub = Topic(Image, name), Topic(Image, name)
    pub.send(rgb(value=1))
    pub.send(rgb(value=2))
    a, b = sub.try_recv(), sub.recv()
    assert (a.pixel(0, 0), b.pixel(0, 0)) == ([1, 1, 1], [2, 2, 2])
    assert sub.try_recv() is None
    # The publisher's own Topic object receives what it sent, too.
    assert pub.try_recv().pixel(0, 0) == [1, 1, 1]
    assert pub.try_recv().pixel(0, 0) == [2, 2, 2]
    del a, b, pub, sub


def test_topic_receives_only_what_was_sent_after_it_was_created():
    name = unique("late")
    pub = Topic(Image, name)
    pub.send(rgb(value=1))
    late = Topic(Image, name)
    assert late.try_recv() is None
    pub.send(rgb(value=2))
    assert late.try_recv().pixel(0, 0) == [2, 2, 2]


def test_every_subscriber_sees_every_message():
    name = unique("fanout")
    subs = [Topic(Image, name) for _ in range(3)]
    pub = Topic(Image, name)
    for v in range(5):
        pub.send(rgb(value=v))
    for s in subs:
        assert [s.try_recv().pixel(0, 0)[0] for _ in range(5)] == list(range(5))
        assert s.try_recv() is None and s.dropped == 0


def test_recv_without_timeout_returns_none_immediately():
    t = Topic(Image, unique("empty"))
    t0 = time.perf_counter()
    for _ in range(100):
        assert t.recv() is None
        assert t.try_recv() is None
    assert time.perf_counter() - t0 < 0.1


def test_recv_timeout_zero_does_not_wait():
    t = Topic(Image, unique("zero"))
    t0 = time.perf_counter()
    assert t.recv(timeout=0) is None
    assert t.recv(0.0) is None
    assert time.perf_counter() - t0 < 0.05


def test_recv_timeout_waits_without_burning_a_core():
    # The CPU time of this thread, which is the one that waits: process_time()
    # also counted other threads (OpenBLAS's, spinning for a while after numpy's
    # import), so the test failed whenever one of them was still spinning.
    t = Topic(Image, unique("wait"))
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    assert t.recv(timeout=0.2) is None
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    assert 0.19 <= wall < 0.6, wall
    assert cpu < 0.25 * wall, f"recv(timeout=0.2) used {cpu:.3f} s of CPU in {wall:.3f} s: it spins"


def test_recv_spin_setting_is_validated_and_zero_still_wakes(run_child):
    bad = run_child(
        """
        from horus import Image, Topic
        try:
            Topic(Image, "spin_bad")
        except ValueError as e:
            print("ValueError:", e)
        """,
        env={"HORUS_RECV_SPIN_US": "-3"},
    )
    assert "ValueError: HORUS_RECV_SPIN_US='-3' is invalid" in bad.stdout, bad.stdout + bad.stderr
    assert "0 to 1000000" in bad.stdout
    # HORUS_RECV_SPIN_US=0: recv() sleeps at once and is still woken by a send.
    ok = run_child(
        """
        import threading, time
        from horus import Image, Topic
        sub, pub = Topic(Image, "spin_zero"), Topic(Image, "spin_zero")
        threading.Timer(0.05, lambda: pub.send(Image(height=2, width=2, encoding="rgb8"))).start()
        t0 = time.perf_counter()
        m = sub.recv(timeout=5)
        print("got", m is not None, round(time.perf_counter() - t0, 3))
        """,
        env={"HORUS_RECV_SPIN_US": "0"},
    )
    assert ok.stdout.startswith("got True"), ok.stdout + ok.stderr
    assert float(ok.stdout.split()[2]) < 2.0


def test_blocking_recv_in_thread_wakes_promptly_on_send():
    name = unique("wake")
    sub, pub = Topic(Image, name), Topic(Image, name)
    result: dict = {}

    def receiver():
        t0 = time.perf_counter()
        result["msg"] = sub.recv(timeout=5)
        result["at"] = time.perf_counter()
        result["waited"] = result["at"] - t0

    th = threading.Thread(target=receiver)
    th.start()
    try:
        time.sleep(0.2)  # the receiver is blocked by now
        sent_at = time.perf_counter()
        pub.send(rgb(value=9))
    finally:
        th.join(timeout=6)
    assert not th.is_alive()
    assert result["msg"] is not None and result["msg"].pixel(0, 0) == [9, 9, 9]
    assert result["waited"] >= 0.15  # it really blocked
    assert result["at"] - sent_at < 0.1, "recv(timeout=5) did not wake promptly on send"


def test_blocking_recv_returns_at_once_when_a_message_is_waiting():
    t = Topic(Image, unique("ready"))
    t.send(rgb())
    t0 = time.perf_counter()
    assert t.recv(timeout=5) is not None
    assert time.perf_counter() - t0 < 0.05


# ----------------------------------------------------------------- zero-copy, read-only
def test_received_message_shares_the_senders_block_and_is_read_only(no_leak):
    name = unique("zc")
    pub, sub = Topic(Image, name), Topic(Image, name)
    img = Image.from_numpy(np.arange(480 * 640 * 3, dtype=np.uint32).astype(np.uint8).reshape(480, 640, 3),
                           encoding="rgb8")
    ptr = img.data_ptr()
    pub.send(img)
    got = sub.recv()
    assert got.data_ptr() == ptr
    arr = got.to_numpy()
    assert arr.ctypes.data == ptr
    assert arr.flags.writeable is False
    with pytest.raises(ValueError):
        arr[0, 0, 0] = 1
    assert got.is_shared
    with pytest.raises(horus.ReadOnlyError):
        got.set_pixel(0, 0, [1, 2, 3])
    with pytest.raises(horus.ReadOnlyError):
        got.fill([0, 0, 0])
    if hasattr(horus, "block_ref"):
        assert horus.block_ref(got) == horus.block_ref(img)
    del img, got, arr, pub, sub


def test_sent_message_is_frozen_and_copy_is_writable(no_leak):
    t = Topic(Image, unique("frozen"))
    img = rgb(value=3)
    assert not img.is_shared
    img.set_pixel(0, 0, [9, 9, 9])  # writable before send
    t.send(img)
    assert img.is_shared
    assert img.to_numpy().flags.writeable is False
    for call in (
        lambda: img.set_pixel(0, 0, [1, 2, 3]),
        lambda: img.fill([1, 2, 3]),
        lambda: img.copy_from(bytes(img.nbytes)),
        lambda: img.set_frame_id("x"),
        lambda: img.set_timestamp_ns(5),
    ):
        with pytest.raises(horus.ReadOnlyError, match="copy()"):
            call()
    private = img.copy()
    assert not private.is_shared and private.data_ptr() != img.data_ptr()
    private.set_pixel(0, 0, [1, 2, 3])
    private.to_numpy()[1, 1] = 200
    # The receiver still sees the original bytes: no one else's write is visible.
    got = t.recv()
    assert got.pixel(0, 0) == [9, 9, 9] and got.pixel(1, 1) == [3, 3, 3]
    del img, private, got, t


def test_other_message_types_are_frozen_after_send():
    t = Topic(DepthImage, unique("frozen_depth"))
    d = DepthImage(height=2, width=2, dtype="float32")
    t.send(d)
    with pytest.raises(horus.ReadOnlyError):
        d.set_depth(0, 0, 1.0)
    tt = Topic(Tensor, unique("frozen_tensor"))
    x = Tensor((2, 2), "float32")
    tt.send(x)
    with pytest.raises(horus.ReadOnlyError):
        x.set_frame_id("x")
    assert x.to_numpy().flags.writeable is False
    assert tt.recv().to_numpy().flags.writeable is False


# ----------------------------------------------------------------- ordering, loss
def test_messages_arrive_in_send_order():
    name = unique("order")
    pub, sub = Topic(Tensor, name, capacity=64), Topic(Tensor, name)
    for i in range(50):
        x = Tensor((1,), "int64")
        x.to_numpy()[0] = i
        x.set_timestamp_ns(i)
        pub.send(x)
    got = []
    while (m := sub.try_recv()) is not None:
        got.append((m.timestamp_ns, int(m.to_numpy()[0])))
    assert got == [(i, i) for i in range(50)]
    assert sub.dropped == 0


@pytest.mark.parametrize("capacity, extra", [(4, 3), (8, 1), (1, 5), (16, 100)])
def test_slow_subscriber_loses_the_oldest_and_counts_them(capacity, extra, no_leak):
    name = unique("loss")
    pub, sub = Topic(Tensor, name, capacity=capacity), Topic(Tensor, name)
    sent = capacity + extra
    for i in range(sent):
        x = Tensor((1,), "int32")
        x.set_timestamp_ns(i)
        pub.send(x)  # never blocks, nobody reads
    assert sub.pending == capacity
    got = []
    while (m := sub.try_recv()) is not None:
        got.append(m.timestamp_ns)
    assert got == list(range(extra, sent))  # exactly `capacity` of them, the newest
    assert sub.dropped == extra
    assert len(got) + sub.dropped == sent
    assert pub.published == sent
    del pub, sub, m


def test_loss_is_per_subscriber():
    name = unique("loss_each")
    pub = Topic(Tensor, name, capacity=4)
    fast, slow = Topic(Tensor, name), Topic(Tensor, name)
    fast_got = []
    for i in range(10):
        x = Tensor((1,), "int32")
        x.set_timestamp_ns(i)
        pub.send(x)
        fast_got.append(fast.recv().timestamp_ns)
    slow_got = [slow.try_recv().timestamp_ns for _ in range(4)]
    assert fast_got == list(range(10)) and fast.dropped == 0
    assert slow_got == [6, 7, 8, 9] and slow.dropped == 6


# ----------------------------------------------------------------- type safety
def test_type_mismatch_is_a_type_error():
    name = unique("mismatch")
    keep = Topic(Image, name)
    with pytest.raises(TypeError, match=r"(?i)image.*pointcloud|pointcloud.*image"):
        Topic(PointCloud, name)
    # The existing topic is unharmed.
    keep.send(rgb())
    assert isinstance(keep.recv(), Image)


def test_sending_the_wrong_type_is_a_type_error(no_leak):
    t = Topic(Image, unique("wrongsend"))
    cloud = PointCloud(num_points=3, fields=3, dtype="float32")
    with pytest.raises(TypeError, match="PointCloud"):
        t.send(cloud)
    assert not cloud.is_shared  # refused before being shared
    cloud.set_frame_id("still writable")
    assert t.try_recv() is None
    del cloud, t


def test_untyped_topic_is_typed_by_its_first_message():
    name = unique("firstmsg")
    t = Topic(None, name)
    assert t.message_type is None
    t.send(Tensor((2,), "float32"))
    assert t.message_type is Tensor
    with pytest.raises(TypeError):
        t.send(rgb())
    with pytest.raises(TypeError):
        Topic(Image, name)


# ----------------------------------------------------------------- every message type
ENCODINGS = sorted(horus.ENCODINGS)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_image_round_trip_every_encoding(encoding, no_leak):
    channels, _bpp, dtype = horus.ENCODINGS[encoding]
    h, w = 6, 8
    shape = (h, w) if channels == 1 else (h, w, channels)
    data = (np.arange(math.prod(shape)) % 97).astype(dtype).reshape(shape)
    img = Image.from_numpy(data, encoding=encoding)
    img.set_frame_id(f"cam_{encoding}")
    img.set_timestamp_ns(2**63 + 17)
    name = unique(f"enc_{encoding}")
    pub, sub = Topic(Image, name), Topic(Image, name)
    pub.send(img)
    got = sub.recv()
    assert isinstance(got, Image)
    assert (got.height, got.width, got.channels, got.encoding, got.dtype) == (h, w, channels, encoding, dtype)
    assert (got.step, got.nbytes) == (img.step, img.nbytes)
    assert (got.frame_id, got.timestamp_ns) == (f"cam_{encoding}", 2**63 + 17)
    np.testing.assert_array_equal(got.to_numpy(), data)
    assert got.data_ptr() == img.data_ptr()
    del img, got, pub, sub


@pytest.mark.parametrize("dtype", ["float32", "uint16"])
def test_depth_image_round_trip(dtype, no_leak):
    data = (np.arange(12 * 10) % 50).astype(dtype).reshape(12, 10)
    d = DepthImage.from_numpy(data)
    d.set_frame_id("depth_cam")
    d.set_timestamp_ns(123)
    name = unique(f"depth_{dtype}")
    pub, sub = Topic(DepthImage, name), Topic(DepthImage, name)
    pub.send(d)
    got = sub.recv()
    assert isinstance(got, DepthImage)
    assert (got.height, got.width, got.dtype, got.depth_scale) == (12, 10, dtype, d.depth_scale)
    assert (got.frame_id, got.timestamp_ns) == ("depth_cam", 123)
    np.testing.assert_array_equal(got.to_numpy(), data)
    assert got.get_depth(3, 2) == d.get_depth(3, 2)
    del d, got, pub, sub


@pytest.mark.parametrize("fields", [3, 4, 6])
def test_point_cloud_round_trip(fields, no_leak):
    pts = np.random.default_rng(fields).standard_normal((100, fields)).astype(np.float32)
    c = PointCloud.from_numpy(pts)
    c.set_frame_id("lidar_front")
    c.set_timestamp_ns(99)
    name = unique(f"cloud_{fields}")
    pub, sub = Topic(PointCloud, name), Topic(PointCloud, name)
    pub.send(c)
    got = sub.recv()
    assert isinstance(got, PointCloud)
    assert (got.point_count, got.fields_per_point, got.dtype) == (100, fields, "float32")
    assert (got.frame_id, got.timestamp_ns) == ("lidar_front", 99)
    np.testing.assert_array_equal(got.to_numpy(), pts)
    assert got.point_at(7) == [float(v) for v in pts[7]]
    del c, got, pub, sub


@pytest.mark.parametrize(
    "shape, dtype", [((3, 4), "float32"), ((2, 3, 4, 5), "int64"), ((7,), "uint8"), ((2, 2), "float64")]
)
def test_tensor_round_trip(shape, dtype, no_leak):
    data = (np.arange(math.prod(shape)) % 11).astype(dtype).reshape(shape)
    x = Tensor.from_numpy(data)
    x.set_frame_id("features")
    x.set_timestamp_ns(5)
    name = unique("tensor")
    pub, sub = Topic(Tensor, name), Topic(Tensor, name)
    pub.send(x)
    got = sub.recv()
    assert isinstance(got, Tensor)
    assert (got.shape, got.dtype, got.frame_id, got.timestamp_ns) == (shape, dtype, "features", 5)
    np.testing.assert_array_equal(got.to_numpy(), data)
    del x, got, pub, sub


def test_received_message_converts_to_torch_without_copy():
    torch = pytest.importorskip("torch")
    name = unique("torch")
    pub, sub = Topic(Image, name), Topic(Image, name)
    img = rgb(48, 64, 5)
    pub.send(img)
    got = sub.recv()
    t = got.to_torch()
    assert t.data_ptr() == img.data_ptr()
    assert t.shape == torch.Size([48, 64, 3]) and int(t[0, 0, 0]) == 5


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", ["", "a" * 101, "a/b", "a b", "ümlaut", "x\x00y", "../etc"])
def test_invalid_topic_names(bad):
    with pytest.raises(ValueError, match="topic name"):
        Topic(Image, bad)


def test_longest_valid_name():
    name = "n" * 99 + str(next(_counter) % 10)
    assert Topic(Image, name).name == name


@pytest.mark.parametrize("cap", [0, -1, 3, 6, 100, 1 << 17])
def test_invalid_capacity(cap):
    with pytest.raises(ValueError, match=f"capacity = {cap}"):
        Topic(Image, unique("cap"), capacity=cap)


@pytest.mark.parametrize("bad", [int, str, np.ndarray, "Image", 5])
def test_invalid_message_type(bad):
    with pytest.raises(TypeError):
        Topic(bad, unique("badtype"))


@pytest.mark.parametrize("bad", [None, 5, "img", np.zeros((2, 2, 3), np.uint8), b"bytes"])
def test_send_rejects_non_messages(bad, no_leak):
    t = Topic(Image, unique("badsend"))
    with pytest.raises(TypeError, match="Image, DepthImage, PointCloud or Tensor") as exc:
        t.send(bad)
    assert repr(bad)[:10] in str(exc.value)
    assert t.try_recv() is None and t.published == 0


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (-0.001, ValueError), (float("nan"), ValueError),
                                      ("1", TypeError), ([1], TypeError)])
def test_recv_rejects_bad_timeouts(bad, exc):
    t = Topic(Image, unique("badtimeout"))
    with pytest.raises(exc, match="timeout"):
        t.recv(timeout=bad)


def test_bad_timeout_is_rejected_even_when_a_message_is_waiting():
    t = Topic(Image, unique("badtimeout_ready"))
    t.send(rgb())
    with pytest.raises(ValueError, match="timeout"):
        t.recv(timeout=-1)


# ----------------------------------------------------------------- timeouts at the edges
@pytest.mark.parametrize("bad", [True, False, np.bool_(True)])
def test_bool_timeout_is_a_type_error(bad):
    """recv(timeout=True) waited 1 s (bool is an int subclass)."""
    t = Topic(Tensor, unique("bool_timeout"))
    t.send(Tensor((1,)))
    with pytest.raises(TypeError, match="timeout") as e:
        t.recv(timeout=bad)
    assert repr(bad) in str(e.value)


@pytest.mark.parametrize("bad", [-10**400, -(2**1024), float("-inf"), -10**20],
                         ids=["-10^400", "-2^1024", "-inf", "-10^20"])
def test_huge_negative_timeout_is_a_value_error(bad):
    """-10**400 cannot be a double: it was taken for +inf (a wait forever)."""
    t = Topic(Tensor, unique("neg_timeout"))
    t.send(Tensor((1,)))  # a message is waiting: the bad timeout must still be refused
    with pytest.raises(ValueError, match="timeout") as e:
        t.recv(timeout=bad)
    assert ">= 0" in str(e.value)


@pytest.mark.parametrize("forever", [10**400, 2**1024, float("inf"), 10**20],
                         ids=["10^400", "2^1024", "inf", "10^20"])
def test_huge_positive_timeout_waits_for_the_next_message(forever):
    """An int beyond a double is a very long wait, like float('inf')."""
    t = Topic(Tensor, unique("long_timeout"))
    t.send(Tensor((1,)))
    assert t.recv(timeout=forever) is not None  # a waiting message returns at once
    timer = threading.Timer(0.2, lambda: Topic(Tensor, t.name).send(Tensor((2,))))
    timer.start()
    try:
        start = time.monotonic()
        got = t.recv(timeout=forever)
        assert got is not None and got.shape == (2,)
        assert time.monotonic() - start < 5
    finally:
        timer.join()


@pytest.mark.parametrize("forever", ["10**400", "float('inf')"])
def test_huge_timeout_is_interruptible(forever):
    """recv(timeout=<forever>) still honours Ctrl-C (SIGINT) promptly."""
    code = textwrap.dedent(f"""
        import sys, horus
        t = horus.Topic(horus.Tensor, "interrupt_me")
        print("waiting", flush=True)
        try:
            t.recv(timeout={forever})
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("returned", flush=True)
    """)
    env = dict(os.environ, HORUS_NAMESPACE=f"pytest_int_{os.getpid()}_{secrets.token_hex(4)}")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "waiting"
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0 and "interrupted" in out, (p.returncode, out, err)


# ----------------------------------------------------------------- leaks
def test_no_block_leak_after_topics_and_messages_are_dropped():
    base = blocks_in_use()
    name = unique("leak")
    pub, sub = Topic(Image, name, capacity=8), Topic(Image, name)
    for v in range(20):  # overwrites the ring twice
        pub.send(rgb(16, 16, v))
    held = [sub.try_recv() for _ in range(3)]
    assert all(m is not None for m in held)
    # The ring still holds references to its last `capacity` messages.
    assert blocks_in_use() == base + 8
    del held
    gc.collect()
    assert blocks_in_use() == base + 8
    del pub
    assert blocks_in_use() == base + 8  # `sub` still has the topic open
    del sub
    assert blocks_in_use() == base, "closing the last Topic did not release the ring's references"


def test_no_leak_when_a_received_message_outlives_its_topic():
    base = blocks_in_use()
    name = unique("outlive")
    t = Topic(Image, name)
    t.send(rgb(8, 8, 4))
    got = t.recv()
    arr = got.to_numpy()
    del t
    assert blocks_in_use() == base + 1  # only `got` (and its view) hold it now
    del got
    assert arr[0, 0, 0] == 4  # the view keeps the block alive
    del arr
    assert blocks_in_use() == base


def test_no_leak_through_errors():
    base = blocks_in_use()
    t = Topic(Image, unique("errleak"))
    for bad in (None, 5, PointCloud(num_points=1, fields=3, dtype="float32")):
        with pytest.raises(TypeError):
            t.send(bad)
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError):
            t.recv(bad)
    del t
    assert blocks_in_use() == base
