"""The core's defences (issue 10), tested across processes from Python.

* a refused open (wrong type, wrong capacity) leaves a live topic alone (defect 1);
* a Topic that published first and reads later never returns another message's
  pixels, however often blocks were recycled (defect 2);
* processes in another PID namespace (``unshare --pid``), as with containers that
  share /dev/shm, are neither taken for dead nor reclaimed while alive, in both
  directions, and are reclaimed after kill -9 (defect 4);
* read-only is a property of the block: NumPy views taken before ``send`` turn
  read-only, adopting a received block gives a read-only message, and after fork
  both sides see what they held as read-only (defect 8);
* a parent sending and freeing at full speed while ``multiprocessing`` forks
  children: every child sees only consistent messages (defect 6).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import horus
from horus import Image, Tensor, Topic

from _child import Child
from conftest import SESSION_NAMESPACE, blocks_in_use


def _unique(name: str) -> str:
    return f"{name}.{os.getpid()}.{time.monotonic_ns() % 1_000_000}"


# --- defect 1: a failed open destroys a live topic ----------------------------------

@pytest.mark.parametrize("bad_open", [
    "Topic(Tensor, NAME)",             # another type
    "Topic(Image, NAME, capacity=64)",  # another capacity
])
def test_a_refused_open_leaves_the_live_topic_alone(bad_open):
    name = _unique("alive")
    pub = Topic(Image, name)
    code = f"""
        import horus
        from horus import Image, Tensor, Topic
        NAME = {name!r}
        try:
            {bad_open}
            print("opened")
        except (TypeError, ValueError) as e:
            print("refused", type(e).__name__)
    """
    refused = Child.python(code)
    assert refused.expect("refused").split()[1] in ("TypeError", "ValueError")
    assert refused.wait() == 0
    sub = Child.python(f"""
        from horus import Image, Topic
        t = Topic(Image, {name!r})
        print("ready", flush=True)
        m = t.recv(timeout=10)
        print("got", None if m is None else m.width)
    """)
    sub.expect("ready")
    pub.send(Image(height=2, width=5, encoding="mono8"))
    assert sub.expect("got") == "got 5", "a new subscriber no longer hears the publisher"
    assert sub.wait() == 0


# --- defect 2: stale references --------------------------------------------------------

def test_a_publisher_reading_later_never_gets_another_messages_pixels():
    """The issue's reproduction, made exact: the publisher's own Topic keeps a slot naming a
    released block; that block is recycled until a live, unrelated image lands in it with
    the same 12-bit tag; reading then must not return the old metadata over its pixels."""
    t = Topic(Image, _unique("stale"))
    first = Image.from_numpy(np.full((48, 64), 1, dtype=np.uint8))
    first.set_frame_id("sent-1")
    ref = horus.block_ref(first)
    t.send(first)
    del first
    second = Image.from_numpy(np.full((48, 64), 2, dtype=np.uint8))
    second.set_frame_id("sent-2")
    t.send(second)  # releases the first (nobody is subscribed; the newest is kept)
    del second
    for _ in range(4095):  # each allocation takes the block freed last: the first's
        tmp = Image(height=48, width=64, encoding="mono8")
        del tmp
    live = Image.from_numpy(np.full((48, 64), 200, dtype=np.uint8))
    assert horus.block_ref(live)[:2] == ref[:2], "the scenario must reuse the very block"
    assert horus.block_ref(live)[2] % 4096 == ref[2] % 4096, "same 12-bit tag as the stale reference"
    got = []
    while (m := t.try_recv()) is not None:
        got.append(m.frame_id)
        value = int(m.frame_id.split("-")[1])
        assert (m.to_numpy() == value).all(), f"{m.frame_id} carries another message's pixels"
    assert got == ["sent-2"] and t.dropped == 1
    assert (live.to_numpy() == 200).all()


# --- defect 4: PID namespaces (containers sharing /dev/shm) ------------------------------

needs_unshare = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0
    or subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True).returncode != 0,
    reason="needs root and unshare --pid")

HOLDER = """
    import sys, numpy as np, horus
    from horus import Image
    held = [Image.from_numpy(np.full((64, 64), 7, np.uint8)) for _ in range(5)]
    print("holding", horus.pool_stats().blocks_in_use, flush=True)
    cmd = sys.stdin.readline().strip()
    if cmd == "reclaim":
        print("reclaimed", horus.reclaim(), flush=True)
        sys.stdin.readline()
"""


def _in_pid_namespace(code: str) -> list[str]:
    # --kill-child: SIGKILL to unshare kills the peer too (it is its namespace's init)
    return ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable, "-c", textwrap.dedent(code)]


@needs_unshare
def test_a_peer_in_another_pid_namespace_is_not_reclaimed_while_alive_and_is_after_kill():
    base = blocks_in_use()
    peer = Child(_in_pid_namespace(HOLDER), stdin=True)
    peer.expect("holding")
    assert blocks_in_use() == base + 5
    horus.reclaim()  # its pid means nothing here (pid 1 in its namespace): it must count as alive
    assert blocks_in_use() == base + 5, "a live peer in another PID namespace was reclaimed"
    peer.kill()  # SIGKILL to unshare; the namespace's init (the peer) dies with it
    deadline = time.monotonic() + 10
    while blocks_in_use() != base and time.monotonic() < deadline:
        horus.reclaim()
        time.sleep(0.05)
    assert blocks_in_use() == base, "the killed peer's blocks were not reclaimed"


@needs_unshare
def test_a_reclaimer_in_another_pid_namespace_leaves_our_blocks_alone():
    mine = [Image.from_numpy(np.full((64, 64), 3, np.uint8)) for _ in range(3)]
    before = blocks_in_use()
    other = Child(_in_pid_namespace(HOLDER), stdin=True)
    other.expect("holding")
    other.send_line("reclaim")  # it cannot see our pid; it must not take us for dead
    other.expect("reclaimed")
    assert blocks_in_use() == before + 5
    assert all((m.to_numpy() == 3).all() for m in mine)
    fresh = Image.from_numpy(np.full((64, 64), 9, np.uint8))  # a block it reclaimed would be reused here
    assert all((m.to_numpy() == 3).all() for m in mine), "our held images were reclaimed and overwritten"
    del fresh
    other.kill()
    deadline = time.monotonic() + 10
    while blocks_in_use() != before and time.monotonic() < deadline:
        horus.reclaim()  # the killed peer's blocks
        time.sleep(0.05)
    assert blocks_in_use() == before


# --- defect 8: read-only is a property of the block ------------------------------------------

def test_numpy_views_taken_before_send_turn_read_only():
    t = Topic(Image, _unique("ro"))
    img = Image(height=4, width=4, encoding="mono8")
    view = img.to_numpy()
    view[0, 0] = 1  # writable while private
    t.send(img)
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 2
    assert t.recv().to_numpy()[0, 0] == 1


def test_adopting_a_received_block_gives_a_read_only_message():
    torch = pytest.importorskip("torch")
    t = Topic(Image, _unique("adopt"))
    t.send(Image(height=4, width=4, encoding="mono8"))
    received = t.recv()
    again = Image.from_torch(received.to_torch())
    assert again.data_ptr() == received.data_ptr(), "no copy: the same block"
    assert again.is_shared
    with pytest.raises(horus.ReadOnlyError):
        again.fill([1])
    del torch


def test_after_fork_both_sides_see_what_they_held_as_read_only():
    img = Image(height=2, width=2, encoding="mono8")
    view = img.to_numpy()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = img.is_shared and not view.flags.writeable
        try:
            img.fill([5])
            ok = False
        except horus.ReadOnlyError:
            pass
        os.write(w, b"1" if ok else b"0")
        os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1", "the child could write a payload it shares with its parent"
    os.close(r)
    os.waitpid(pid, 0)
    assert img.is_shared and not view.flags.writeable
    private = img.copy()
    private.fill([6])


# --- defect 6: fork while the parent sends and frees at full speed ------------------------------

def _forked_reader(name: str, q) -> None:
    t = Topic(Image, name)
    seen = bad = 0
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        m = t.recv(timeout=0.05)
        if m is None:
            continue
        seen += 1
        if not (m.to_numpy() == int(m.frame_id)).all():
            bad += 1
    q.put((seen, bad))


def test_multiprocessing_fork_children_see_only_consistent_messages():
    ctx = mp.get_context("fork")
    name = _unique("forkload")
    pub = Topic(Image, name)
    q = ctx.Queue()
    children = []
    t_end = time.monotonic() + 1.5
    i = 0
    while time.monotonic() < t_end:
        i = (i + 1) % 250
        img = Image.from_numpy(np.full((32, 32), i, np.uint8))
        img.set_frame_id(str(i))
        pub.send(img)
        if len(children) < 6 and i % 40 == 0:
            p = ctx.Process(target=_forked_reader, args=(name, q))
            p.start()
            children.append(p)
    results = [q.get(timeout=30) for _ in children]
    for p in children:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sum(s for s, _ in results) > 0
    assert sum(b for _, b in results) == 0, f"children received inconsistent messages: {results}"


# --- item 9: no wait on a process-shared lock with the GIL held ----------------------------

LOCK_TOPIC = """
    import ctypes, mmap, os, sys, time
    path = sys.argv[1]
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, os.fstat(fd).st_size)
    libc = ctypes.CDLL(None)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m)) + 136  # TopicHeader::mutex
    assert libc.pthread_mutex_lock(ctypes.c_void_p(addr)) == 0
    print("locked", flush=True)
    time.sleep(1.5)
    libc.pthread_mutex_unlock(ctypes.c_void_p(addr))
    print("unlocked", flush=True)
"""


def test_a_send_waiting_for_another_processes_lock_does_not_hold_the_gil():
    import threading
    name = _unique("gil")
    t = Topic(Image, name)
    locker = Child.python(LOCK_TOPIC, f"/dev/shm/horus.{SESSION_NAMESPACE}.topic.{name}")
    locker.expect("locked")
    done = threading.Event()
    sender = threading.Thread(target=lambda: (t.send(Image(height=2, width=2, encoding="mono8")), done.set()))
    sender.start()
    ticks = 0
    t0 = time.monotonic()
    while not done.is_set() and time.monotonic() - t0 < 10:
        ticks += 1  # the main thread must keep running while the sender waits
        time.sleep(0.01)
    sender.join(timeout=10)
    assert done.is_set(), "the send never completed"
    assert time.monotonic() - t0 > 1.0, "the send did not wait for the other process's lock"
    assert ticks > 50, f"the main thread was frozen while the send waited ({ticks} ticks)"
    locker.expect("unlocked")
    assert locker.wait() == 0


def test_a_misaligned_view_of_a_pool_block_is_copied_not_adopted():
    base = Tensor((64,), dtype="uint8")
    raw = base.to_numpy()
    raw[:] = np.arange(64, dtype=np.uint8)
    misaligned = np.frombuffer(raw, dtype=np.float32, offset=1, count=8)  # inside the block, off by one byte
    t = Tensor.from_numpy(misaligned)
    assert t.data_ptr() != misaligned.ctypes.data, "a misaligned view must be copied (messages keep elements aligned)"
    np.testing.assert_array_equal(t.to_numpy(), misaligned)
