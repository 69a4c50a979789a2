"""The shared-memory pool: statistics, the cap, crash safety, cleanup of /dev/shm."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import horus
from conftest import SESSION_NAMESPACE, new_namespace, shm_objects
from horus import Image, Tensor

FIELDS = ["namespace", "blocks_in_use", "bytes_in_use", "blocks_total", "capacity_bytes", "reserved_bytes",
          "max_bytes", "segments", "processes", "local_blocks", "reclaimed_processes"]


def test_session_namespace():
    assert horus.namespace() == SESSION_NAMESPACE == os.environ["HORUS_NAMESPACE"]
    assert horus.pool_stats().namespace == SESSION_NAMESPACE


def test_pool_stats_fields(no_leak):
    s = horus.pool_stats()
    d = s.as_dict()
    assert sorted(d) == sorted(FIELDS)
    for f in FIELDS:
        assert getattr(s, f) == d[f]
    assert s.processes >= 1 and s.max_bytes > 0
    assert "PoolStats(" in repr(s) and SESSION_NAMESPACE in repr(s)


def test_stats_track_allocations(no_leak):
    gc.collect()
    s0 = horus.pool_stats()
    img = Image(height=480, width=640, encoding="rgb8")
    s1 = horus.pool_stats()
    assert s1.blocks_in_use == s0.blocks_in_use + 1
    assert s1.local_blocks == s0.local_blocks + 1
    assert s1.bytes_in_use - s0.bytes_in_use >= img.nbytes
    assert s1.capacity_bytes >= s1.bytes_in_use and s1.blocks_total >= s1.blocks_in_use
    assert s1.segments >= 1 and s1.reserved_bytes >= s1.capacity_bytes
    view = img.to_numpy()
    assert horus.pool_stats().blocks_in_use == s1.blocks_in_use  # a view is not a new block
    del img
    assert horus.pool_stats().blocks_in_use == s1.blocks_in_use
    del view
    s2 = horus.pool_stats()
    assert (s2.blocks_in_use, s2.bytes_in_use, s2.local_blocks) == (s0.blocks_in_use, s0.bytes_in_use, s0.local_blocks)


def test_pool_grows_with_new_segments(no_leak):
    s0 = horus.pool_stats()
    big = [Tensor((3, 1 << 20), "uint8") for _ in range(4)]
    s1 = horus.pool_stats()
    assert s1.blocks_in_use == s0.blocks_in_use + 4 and s1.capacity_bytes >= 4 * 3 * (1 << 20)
    assert len({t.data_ptr() for t in big}) == 4
    del big


def test_exhaustion_under_a_small_cap(run_child):
    r = run_child("""
        import gc, horus
        from horus import Image
        assert horus.pool_stats().max_bytes == 8 * 1024 * 1024
        imgs = []
        try:
            for _ in range(100):
                imgs.append(Image(height=480, width=640, encoding="rgb8"))
            raise SystemExit("no PoolExhausted")
        except horus.PoolExhausted as e:
            assert isinstance(e, MemoryError)
            msg = str(e)
            print("MSG", msg)
            assert "921600" in msg, msg              # what was asked
            assert "in use" in msg, msg              # what is in use
            assert "8388608" in msg, msg             # the cap
            assert "HORUS_POOL_MAX_BYTES" in msg     # how to raise it
        n = len(imgs)
        assert n >= 4
        # a single message larger than the cap
        try:
            Image(height=4000, width=4000, encoding="rgb8")
            raise SystemExit("no PoolExhausted for 48 MB")
        except horus.PoolExhausted as e:
            assert "48000000" in str(e) and "HORUS_POOL_MAX_BYTES" in str(e)
        # the pool still works after freeing
        del imgs
        gc.collect()
        assert horus.pool_stats().blocks_in_use == 0
        again = [Image(height=480, width=640, encoding="rgb8") for _ in range(n)]
        again[0].fill([1, 2, 3])
        assert again[0].pixel(0, 0) == [1, 2, 3]
        print("OK", n)
    """, env={"HORUS_POOL_MAX_BYTES": "8M"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout


def test_bad_cap_or_namespace_is_reported(run_child):
    r = run_child("import horus; horus.Image(height=2, width=2)", namespace="bad/name")
    assert r.returncode != 0 and "HORUS_NAMESPACE" in r.stderr and "bad/name" in r.stderr


def test_namespace_is_unlinked_when_the_last_process_exits(run_child):
    ns = new_namespace("cleanup")
    r = run_child("""
        import gc, horus, numpy as np
        imgs = [horus.Image.from_numpy(np.zeros((100, 100, 3), np.uint8)) for _ in range(3)]
        big = horus.Tensor((5, 1 << 20), "uint8")
        views = [i.to_numpy() for i in imgs]
        assert horus._core._list_namespace_objects(horus.namespace())  # segments exist while attached
        del imgs
        gc.collect()
        print("segments", horus.pool_stats().segments)
    """, namespace=ns)
    assert r.returncode == 0, r.stderr
    assert shm_objects(ns) == []


def test_crashed_process_references_are_reclaimed(run_child, no_leak):
    gc.collect()
    baseline = horus.pool_stats().blocks_in_use
    r = run_child("""
        import os, signal, horus, numpy as np
        imgs = [horus.Image(height=100, width=100, encoding="rgb8") for _ in range(5)]
        views = [horus.Tensor.from_numpy(np.ones(1000)).to_numpy() for _ in range(3)]
        print(horus.pool_stats().local_blocks, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """, namespace=SESSION_NAMESPACE)
    assert r.returncode == -9
    assert r.stdout.strip() == "8"
    reclaimed_before = horus.pool_stats().reclaimed_processes
    assert horus.pool_stats().blocks_in_use in (baseline, baseline + 8)  # reclaim may already have run
    horus.reclaim()
    s = horus.pool_stats()
    assert s.blocks_in_use == baseline
    assert s.reclaimed_processes >= reclaimed_before
    # the freed blocks are reusable
    img = Image(height=100, width=100, encoding="rgb8")
    img.fill(3)
    assert img.pixel(99, 99) == [3, 3, 3]


def test_next_attach_reclaims_a_crashed_process(run_child):
    """A process that attaches after a crash (no explicit reclaim()) cleans up too:
    the crashed child's namespace is left with no blocks and, once the last process
    exits, no files."""
    ns = new_namespace("crash")
    r1 = run_child("""
        import os, signal, horus
        keep = [horus.Image(height=64, width=64) for _ in range(4)]
        os.kill(os.getpid(), signal.SIGKILL)
    """, namespace=ns)
    assert r1.returncode == -9
    assert shm_objects(ns)  # left behind by the crash
    r2 = run_child("""
        import horus
        horus.Image(height=2, width=2)
        s = horus.pool_stats()
        print(s.blocks_in_use, s.processes)
    """, namespace=ns)
    assert r2.returncode == 0, r2.stderr
    assert r2.stdout.split() == ["0", "1"]
    assert shm_objects(ns) == []


def test_blocks_shared_with_a_child_via_fork_free_cleanly(no_leak):
    """A forked child adopts the parent's blocks (it holds the same handles). It
    leaves with os._exit, which skips the atexit detach, so the pool treats it like
    a crashed process: its references go once it is reclaimed, and the parent's
    own reference is untouched."""
    gc.collect()
    base = horus.pool_stats().blocks_in_use
    img = Image.from_numpy(np.full((8, 8), 5, np.uint8))
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            code = 0 if img.pixel(1, 1) == [5] else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    horus.reclaim()
    assert img.pixel(1, 1) == [5] and horus.pool_stats().blocks_in_use == base + 1
    del img
    assert horus.pool_stats().blocks_in_use == base


def test_exit_with_daemon_threads_blocked_in_recv_is_clean(run_child):
    """Daemon threads inside recv(timeout) (or a big copy) when the program exits: CPython
    3.11 ends a thread that takes the GIL back during finalization with pthread_exit, which
    aborted the process through C++ frames. Such threads now park until the process exits:
    exit status 0, no message on stderr, and the namespace is gone from /dev/shm."""
    code = """
        import sys, threading, time, numpy as np, horus
        t = horus.Topic(horus.Tensor, "t")
        big = np.ones(64 << 20, np.uint8)
        def wait():
            while True:
                t.recv(0.05)
        def copy():
            while True:
                horus.Tensor.from_numpy(big)
        for f in (wait, wait, wait, copy):
            threading.Thread(target=f, daemon=True).start()
        time.sleep(0.3)
        print(horus.namespace(), flush=True)
        sys.exit(0)
    """
    for _ in range(5):
        r = run_child(code)
        assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
        assert "terminate" not in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
        ns = r.stdout.split()[-1]
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
