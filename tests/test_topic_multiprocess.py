"""horus.Topic across processes: Python <-> Python and Python <-> C++.

Children are fresh interpreters (sys.executable) or the C++ examples, all in
this session's HORUS_NAMESPACE so they share its pool. Every child is killed in
a `finally`, and every wait has a timeout.

Zero-copy across processes: a pool block's *address* differs between processes
(each maps the segment where it can), its *identity* — horus.block_ref(msg) =
(segment, block, generation, offset) — does not. Both sides report both, plus a
checksum of the bytes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import horus
from horus import Image, Topic

from _child import Child
from conftest import SESSION_NAMESPACE
from _cpp_examples import build_cpp_examples


_seq = iter(range(10**9))


def unique(tag: str) -> str:
    return f"mp_{tag}_{os.getpid()}_{next(_seq)}"


def topic_shm(name: str, namespace: str = SESSION_NAMESPACE) -> Path:
    return Path("/dev/shm") / f"horus.{namespace}.topic.{name}"


def pattern(k: int, h: int = 480, w: int = 640) -> np.ndarray:
    """Frame k of the test camera: every pixel differs, and so does every frame."""
    y, x, c = np.ogrid[:h, :w, :3]
    return ((x + 3 * y + 101 * c + 7 * k) % 256).astype(np.uint8)


PATTERN_SRC = textwrap.dedent(
    """
    import numpy as np
    def pattern(k, h=480, w=640):
        y, x, c = np.ogrid[:h, :w, :3]
        return ((x + 3 * y + 101 * c + 7 * k) % 256).astype(np.uint8)
    """
)


def kill_all(*children: Child | None) -> None:
    for c in children:
        if c is not None:
            c.kill()


def recv_n(topic: Topic, n: int, timeout: float = 20.0) -> list:
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = topic.recv(timeout=0.5)
        if m is not None:
            got.append(m)
    return got


# ----------------------------------------------------------------- Python <-> Python
PUBLISHER = PATTERN_SRC + textwrap.dedent(
    """
    import sys, zlib, horus
    from horus import Image, Topic
    name, n = sys.argv[1], int(sys.argv[2])
    t = Topic(Image, name, capacity=64)
    print("ready", flush=True)
    sent = []
    for k in range(n):
        img = Image.from_numpy(pattern(k), encoding="rgb8")
        img.set_frame_id(f"frame{k}")
        img.set_timestamp_ns(1000 + k)
        t.send(img)
        a = img.to_numpy()
        print("sent", k, a.ctypes.data, *horus.block_ref(img), zlib.crc32(a.tobytes()), flush=True)
        sent.append(img)
    print("done", flush=True)
    sys.stdin.readline()  # the parent has looked at every frame
    for k, img in enumerate(sent):
        print("after", k, zlib.crc32(img.to_numpy().tobytes()), flush=True)
    print("bye", flush=True)
    """
)


def test_child_publishes_frames_parent_receives_the_same_blocks(no_leak):
    name, n = unique("frames"), 40
    sub = Topic(Image, name, capacity=64)  # subscriber before the publisher
    child = None
    try:
        child = Child.python(PUBLISHER, name, str(n), stdin=True)
        child.expect("ready")
        got = recv_n(sub, n)
        child.expect("done")
        assert len(got) + sub.dropped == n
        assert len(got) == n, f"lost {sub.dropped} of {n} with capacity 64"
        sent_lines = [l.split() for l in child.all_lines if l.startswith("sent ")]
        assert len(sent_lines) == n
        aslr = Path("/proc/sys/kernel/randomize_va_space").read_text().strip() != "0"
        parent_crc = []
        for k, (img, line) in enumerate(zip(got, sent_lines)):
            _, kk, child_addr, seg, blk, gen, off, child_crc = line
            assert int(kk) == k
            assert (img.frame_id, img.timestamp_ns) == (f"frame{k}", 1000 + k)
            assert (img.height, img.width, img.encoding) == (480, 640, "rgb8")
            arr = img.to_numpy()
            np.testing.assert_array_equal(arr, pattern(k))
            # Same pool block, viewed at this process's own address.
            assert horus.block_ref(img) == (int(seg), int(blk), int(gen), int(off))
            crc = zlib.crc32(arr.tobytes())
            assert crc == int(child_crc)
            parent_crc.append(crc)
            if aslr and k == 0:
                assert arr.ctypes.data != int(child_addr)
            # The receiver cannot write into the publisher's frame.
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr[0, 0, 0] = 255
            with pytest.raises(horus.ReadOnlyError):
                img.set_pixel(0, 0, [0, 0, 0])
        child.send_line("check")
        child.expect("bye")
        after = [int(l.split()[2]) for l in child.all_lines if l.startswith("after ")]
        assert after == parent_crc  # the publisher's frames are unchanged
        assert child.wait() == 0, child.stderr
        del got, img, arr
    finally:
        kill_all(child)
    del sub


COUNTER_PUBLISHER = textwrap.dedent(
    """
    import sys, time, horus
    from horus import Tensor, Topic
    name, tag, n, period = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    t = Topic(Tensor, name)
    print("ready", flush=True)
    for k in range(n):
        x = Tensor((1,), "int64")
        x.to_numpy()[0] = k
        x.set_frame_id(tag)
        t.send(x)
        time.sleep(period)
    print("done", flush=True)
    """
)


def test_subscriber_started_after_the_publisher():
    name = unique("late_sub")
    child = None
    try:
        child = Child.python(COUNTER_PUBLISHER, name, "pub", "2000", "0.005")
        child.expect("ready")
        time.sleep(0.2)  # the publisher has been sending for a while
        sub = Topic(horus.Tensor, name)
        got = [int(m.to_numpy()[0]) for m in recv_n(sub, 20, timeout=10)]
        assert len(got) == 20
        assert got[0] > 0  # it sees only what was sent after it subscribed
        assert got == list(range(got[0], got[0] + 20)) and sub.dropped == 0
    finally:
        kill_all(child)


def test_publisher_restart_reconnects():
    name = unique("restart")
    sub = Topic(horus.Tensor, name)
    for run in ("run1", "run2", "run3"):
        child = None
        try:
            child = Child.python(COUNTER_PUBLISHER, name, run, "5", "0")
            assert child.wait() == 0, child.stderr
        finally:
            kill_all(child)
    got = [(m.frame_id, int(m.to_numpy()[0])) for m in recv_n(sub, 15, timeout=5)]
    assert got == [(r, k) for r in ("run1", "run2", "run3") for k in range(5)]
    assert sub.try_recv() is None and sub.dropped == 0


def test_restart_after_every_user_left():
    """The topic disappears with its last user; the next publisher and subscriber start it afresh."""
    name = unique("fresh")
    for _ in range(2):
        child = None
        try:
            child = Child.python(COUNTER_PUBLISHER, name, "x", "3", "0")
            assert child.wait() == 0, child.stderr
        finally:
            kill_all(child)
        assert not topic_shm(name).exists()
    sub = Topic(horus.Tensor, name)
    assert sub.try_recv() is None  # nothing survives from before


SLEEPING_SUBSCRIBER = textwrap.dedent(
    """
    import sys, time, horus
    from horus import Tensor, Topic
    t = Topic(Tensor, sys.argv[1], capacity=4)
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_a_subscriber_that_never_reads_does_not_block_the_publisher(no_leak):
    name = unique("sleeper")
    child = None
    try:
        child = Child.python(SLEEPING_SUBSCRIBER, name)
        child.expect("ready")
        pub = Topic(horus.Tensor, name)
        mine = Topic(horus.Tensor, name)
        assert pub.capacity == 4
        t0 = time.perf_counter()
        for k in range(1000):
            x = horus.Tensor((4,), "float32")
            x.set_timestamp_ns(k)
            pub.send(x)
        elapsed = time.perf_counter() - t0
        assert elapsed < 2.0, f"1000 sends took {elapsed:.2f} s with a sleeping subscriber"
        assert pub.published == 1000
        got = [m.timestamp_ns for m in recv_n(mine, 4, timeout=1)]
        assert got == [996, 997, 998, 999] and mine.dropped == 996
        assert child.proc.poll() is None  # still asleep, never woke to read
        child.kill()  # before we close: the last live user reaps the ring's references
        del got, x, pub, mine
        assert not topic_shm(name).exists()
    finally:
        kill_all(child)


def test_a_dead_subscriber_does_not_block_the_publisher():
    name = unique("deadsub")
    child = None
    try:
        child = Child.python(SLEEPING_SUBSCRIBER, name)
        child.expect("ready")
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(timeout=10)
        pub = Topic(horus.Tensor, name)
        t0 = time.perf_counter()
        for _ in range(200):
            pub.send(horus.Tensor((1,), "uint8"))
        assert time.perf_counter() - t0 < 1.0
    finally:
        kill_all(child)


# ----------------------------------------------------------------- shared memory lifecycle
HOLDER = textwrap.dedent(
    """
    import sys, time, horus
    from horus import Image, Topic
    t = Topic(Image, sys.argv[1])
    if len(sys.argv) > 2:
        for v in range(int(sys.argv[2])):
            t.send(Image.from_numpy(__import__("numpy").full((8, 8, 3), v, "uint8"), encoding="rgb8"))
    print("ready", flush=True)
    line = sys.stdin.readline()
    del t
    print("closed", flush=True)
    """
)


def test_topic_shm_goes_away_when_the_last_user_closes():
    name = unique("lifecycle")
    path = topic_shm(name)
    assert not path.exists()
    child = None
    try:
        t = Topic(Image, name)
        assert path.exists()
        child = Child.python(HOLDER, name, stdin=True)
        child.expect("ready")
        del t
        assert path.exists(), "the topic vanished while the child still had it open"
        child.send_line("close")
        child.expect("closed")
        assert child.wait() == 0, child.stderr
        assert not path.exists(), f"{path} left behind after its last user closed it"
    finally:
        kill_all(child)


def test_topic_shm_goes_away_when_the_last_user_is_another_process():
    name = unique("lifecycle2")
    path = topic_shm(name)
    child = None
    try:
        child = Child.python(HOLDER, name, stdin=True)
        child.expect("ready")
        t = Topic(Image, name)
        child.send_line("close")
        child.expect("closed")
        assert child.wait() == 0, child.stderr
        assert path.exists()  # we still have it
        del t
        assert not path.exists()
    finally:
        kill_all(child)


def test_killed_user_does_not_prevent_cleanup(no_leak):
    name = unique("killed")
    path = topic_shm(name)
    child = None
    try:
        t = Topic(Image, name)
        child = Child.python(HOLDER, name, "3", stdin=True)  # publishes 3 frames, then waits
        child.expect("ready")
        assert len(recv_n(t, 3, timeout=5)) == 3
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(timeout=10)
        del t  # the last live user: it reaps the dead one's entry and removes the topic
        assert not path.exists(), f"{path} survived its last live user after a SIGKILLed one"
        horus.reclaim()  # the dead child's own pool references (pool layer)
    finally:
        kill_all(child)


def test_killed_sole_user_is_reaped_by_the_next_user():
    name = unique("killed_alone")
    path = topic_shm(name)
    child = None
    try:
        child = Child.python(HOLDER, name, "2", stdin=True)
        child.expect("ready")
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(timeout=10)
        assert path.exists()  # nobody could clean up yet
        t = Topic(Image, name)  # the next user attaches over the dead one's entry
        t.send(Image(height=2, width=2, encoding="rgb8"))
        assert t.recv() is not None
        del t
        assert not path.exists(), f"{path} survived: the SIGKILLed user's entry was not reaped"
        horus.reclaim()
    finally:
        kill_all(child)


# ----------------------------------------------------------------- cross-language
def _cpp_examples() -> Path:
    return build_cpp_examples("camera_publisher", "image_subscriber")


@pytest.fixture(scope="module")
def cpp_examples() -> Path:
    return _cpp_examples()


def test_cpp_publisher_python_receives(cpp_examples, no_leak):
    name, n = unique("cpp2py"), 30
    sub = Topic(Image, name, capacity=64)
    child = None
    try:
        child = Child([str(cpp_examples / "camera_publisher"), name, str(n), "200"])
        got = recv_n(sub, n, timeout=20)
        child.expect(f"published {n} frames on '{name}'")
        assert child.wait() == 0, child.stderr
        assert len(got) == n and sub.dropped == 0
        for k, img in enumerate(got):
            assert (img.frame_id, img.timestamp_ns) == ("cpp_camera", k)
            assert (img.height, img.width, img.encoding, img.channels) == (480, 640, "rgb8", 3)
            arr = img.to_numpy()
            assert arr.shape == (480, 640, 3) and not arr.flags.writeable
            assert arr.min() == arr.max() == k % 256
        del got, img, arr
    finally:
        kill_all(child)
    del sub


def test_python_publisher_cpp_receives(cpp_examples, no_leak):
    name, n = unique("py2cpp"), 10
    child = None
    try:
        child = Child([str(cpp_examples / "image_subscriber"), name, str(n), "15"])
        child.expect("ready")
        pub = Topic(Image, name)
        expected = []
        for k in range(n):
            frame = pattern(k)
            img = Image.from_numpy(frame, encoding="rgb8")
            img.set_frame_id("py_camera")
            img.set_timestamp_ns(500 + k)
            pub.send(img)
            total = int(frame.sum(dtype=np.uint64)) % 2**32
            expected.append(f"frame py_camera {500 + k} 640x480 rgb8 first={frame[0, 0, 0]} sum={total}")
        lines = [child.expect("frame ") for _ in range(n)]
        assert lines == expected
        child.expect(f"received {n} frames, dropped 0")
        assert child.wait() == 0, child.stderr
        del img, pub
    finally:
        kill_all(child)


def test_cpp_publisher_to_cpp_subscriber_and_python_together(cpp_examples):
    """One C++ publisher, a C++ and a Python subscriber: both see every frame."""
    name, n = unique("cpp_fanout"), 20
    sub = Topic(Image, name, capacity=64)
    cpp_sub = cpp_pub = None
    try:
        cpp_sub = Child([str(cpp_examples / "image_subscriber"), name, str(n), "15"])
        cpp_sub.expect("ready")
        cpp_pub = Child([str(cpp_examples / "camera_publisher"), name, str(n), "200"])
        got = recv_n(sub, n, timeout=20)
        assert [m.timestamp_ns for m in got] == list(range(n))
        lines = [cpp_sub.expect("frame ") for _ in range(n)]
        assert [int(l.split()[2]) for l in lines] == list(range(n))
        assert cpp_pub.wait() == 0 and cpp_sub.wait() == 0
    finally:
        kill_all(cpp_sub, cpp_pub)
