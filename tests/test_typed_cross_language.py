"""Typed messages between C++ and Python (examples/cpp/typed_messages.cpp): CmdVel
(inline) and LaserScan (pooled) both ways with values and metadata, layout mismatches
refused in both directions, and C++'s standard layouts equal horus.msg's.

The example is built like tests/test_topic_multiprocess.py builds the C++ examples
(cmake --build build/cpp under a flock); every child is killed in a `finally`.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import horus
from horus import Topic

from _child import Child
from _cpp_examples import build_cpp_examples
from conftest import SESSION_NAMESPACE, blocks_in_use, in_pool


_seq = iter(range(10**9))


def unique(tag: str) -> str:
    return f"xl_{tag}_{os.getpid()}_{next(_seq)}"


def _build_example() -> Path:
    """Builds (or brings up to date) the typed_messages example in build/cpp."""
    return build_cpp_examples("typed_messages") / "typed_messages"


@pytest.fixture(scope="module")
def example() -> Path:
    return _build_example()


def run_example(example: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, HORUS_NAMESPACE=SESSION_NAMESPACE)
    return subprocess.run([str(example), *args], env=env, capture_output=True, text=True, timeout=timeout)


def recv_n(topic: Topic, n: int, timeout: float = 20.0) -> list:
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = topic.recv(timeout=0.2)
        if m is not None:
            got.append(m)
    return got


MY_CMDVEL_SRC = "CmdVel{linear:float64@0,angular:float64@8}16"  # the example's mismatch declaration


def _py_cmdvel_f64() -> type:
    class CmdVel(horus.TypedMessage):  # same name as horus.msg.CmdVel, float64 fields
        linear: float
        angular: float

    return CmdVel


# ----------------------------------------------------------------- the example itself
def test_example_usage_errors(example):
    for args in ((), ("nope",), ("pub", "t"), ("sub", "t", "1")):
        r = run_example(example, *args)
        assert r.returncode == 2 and "usage" in r.stderr, (args, r.stdout, r.stderr)


# ----------------------------------------------------------------- C++ -> Python
def test_cpp_publishes_python_receives(example, no_leak):
    name, n = unique("c2p"), 12
    cmd = Topic(horus.msg.CmdVel, name, capacity=64)
    scan = Topic(horus.LaserScan, name + ".scan", capacity=64)
    before = blocks_in_use()
    r = run_example(example, "pub", name, str(n))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"published {n} CmdVel and {n} LaserScan on '{name}'"
    cmds = recv_n(cmd, n, timeout=5)
    assert len(cmds) == n and cmd.dropped == 0
    for k, m in enumerate(cmds):
        assert type(m) is horus.msg.CmdVel and m.is_shared()
        assert (m.linear, m.angular, m.timestamp_ns, m.frame_id) == (k, -k, k, "cpp")
    scans = recv_n(scan, n, timeout=5)
    assert len(scans) == n and scan.dropped == 0
    # n pooled LaserScans, no block for the inline CmdVels (the ring slots keep the scans' blocks).
    assert horus.pool_stats().blocks_in_use == before + n
    idx = np.arange(2048, dtype=np.float32)
    for k, s in enumerate(scans):
        assert type(s) is horus.msg.LaserScan and s.is_shared()
        assert (s.timestamp_ns, s.frame_id, s.count) == (k, "cpp", 2048)
        assert (s.angle_min, s.angle_max, s.range_max) == (-1.0, 1.0, 100.0)
        assert s.angle_increment == float(np.float32(2.0) / np.float32(2047.0))
        np.testing.assert_array_equal(s.ranges, idx + k)
        np.testing.assert_array_equal(s.intensities, idx % 256)
        # Zero copy: the received array is a view of the pool block, the same on every read.
        assert in_pool(s.ranges.ctypes.data, s.ranges.nbytes) and s.ranges.ctypes.data == s.ranges.ctypes.data
        assert not s.ranges.flags.writeable
        # C++ zeroes padding; LaserScan has none, but the bytes equal a Python-built twin.
        twin = horus.LaserScan(-1.0, 1.0, s.angle_increment, 0.0, 0.0, 0.0, 100.0, 2048, idx + k, idx % 256)
        assert s == twin
    del cmds, scans, m, s, cmd, scan


def test_cpp_to_python_with_an_independent_python_declaration(example, no_leak):
    """A Python class declared by hand with CmdVel's layout receives C++'s horus::msg::CmdVel."""

    class CmdVel(horus.TypedMessage):
        linear: np.float32
        angular: np.float32

    assert CmdVel.layout_hash == horus.msg.CmdVel.layout_hash
    name = unique("c2p_twin")
    t = Topic(CmdVel, name, capacity=64)
    r = run_example(example, "pub", name, "3")
    assert r.returncode == 0, r.stderr
    got = recv_n(t, 3, timeout=5)
    assert [(m.linear, m.angular, m.timestamp_ns) for m in got] == [(0, 0, 0), (1, -1, 1), (2, -2, 2)]
    del got, t


# ----------------------------------------------------------------- Python -> C++
def _scan_line(k: int, s: horus.msg.LaserScan) -> str:
    count = min(s.count, 2048)
    total = 0.0
    for v in s.ranges[:count].astype(np.float64):
        total += float(v)
    last = float(s.ranges[count - 1]) if count else 0.0
    return (f"scan {s.timestamp_ns} {s.frame_id} {s.count} {float(s.ranges[0]):.9g} {float(s.ranges[1]):.9g} "
            f"{last:.9g} {total:.17g}")


def test_python_publishes_cpp_receives(example, no_leak):
    name, n = unique("p2c"), 10
    child = None
    try:
        child = Child([str(example), "sub", name, str(n), "20"])
        child.expect("ready", timeout=20)
        cmd = Topic(horus.msg.CmdVel, name)
        scan = Topic(horus.LaserScan, name + ".scan")
        expect_cmd, expect_scan = [], []
        for k in range(n):
            c = horus.msg.CmdVel(0.5 * k, -k - 0.25, timestamp_ns=1000 + k, frame_id="py")
            cmd.send(c)
            expect_cmd.append(f"cmdvel {1000 + k} py {c.linear:.9g} {c.angular:.9g}")
            s = horus.LaserScan(count=100 + k, timestamp_ns=2000 + k, frame_id="py_lidar")
            s.ranges[:] = np.arange(2048, dtype=np.float32) * 0.5 + k
            scan.send(s)
            expect_scan.append(_scan_line(k, s))
        # The subscriber interleaves the two topics; expect() keeps skipped lines in all_lines.
        cmd_lines = [child.expect("cmdvel ") for _ in range(n)]
        scan_lines = [l for l in child.all_lines if l.startswith("scan ")]
        while len(scan_lines) < n:
            child.expect("scan ")
            scan_lines = [l for l in child.all_lines if l.startswith("scan ")]
        assert cmd_lines == expect_cmd
        assert scan_lines == expect_scan
        child.expect(f"received {n} CmdVel and {n} LaserScan, dropped 0")
        assert child.wait() == 0, child.stderr
        del cmd, scan, c, s
    finally:
        if child is not None:
            child.kill()


def test_python_sends_frame_id_and_max_timestamp_to_cpp(example, no_leak):
    name = unique("p2c_meta")
    child = None
    try:
        child = Child([str(example), "sub", name, "1", "20"])
        child.expect("ready", timeout=20)
        Topic(horus.msg.CmdVel, name).send(horus.msg.CmdVel(1.5, 2.5, timestamp_ns=2**64 - 1, frame_id="f" * 63))
        s = horus.LaserScan(count=2, timestamp_ns=5, frame_id="base_laser")
        s.ranges[:2] = [3.5, 4.5]
        Topic(horus.LaserScan, name + ".scan").send(s)
        assert child.expect("cmdvel ") == f"cmdvel {2**64 - 1} {'f' * 63} 1.5 2.5"
        assert child.expect("scan ") == "scan 5 base_laser 2 3.5 4.5 4.5 8"
        assert child.wait() == 0, child.stderr
    finally:
        if child is not None:
            child.kill()


# ----------------------------------------------------------------- mismatches
def test_cpp_topic_opened_in_python_with_another_layout_is_refused(example, no_leak):
    name = unique("c_first")
    child = None
    try:
        child = Child([str(example), "sub", name, "1", "20"])  # C++ creates both topics and holds them
        child.expect("ready", timeout=20)
        Other = _py_cmdvel_f64()
        with pytest.raises(TypeError) as e:
            Topic(Other, name)
        text = str(e.value)
        assert f"'{name}'" in text and text.count("CmdVel") >= 2
        assert horus.msg.CmdVel.layout_text in text and Other.layout_text in text
        assert Other.layout_text == MY_CMDVEL_SRC
        with pytest.raises(TypeError, match="LaserScan"):
            Topic(horus.msg.CmdVel, name + ".scan")
        # The right types still work: let the C++ subscriber finish.
        Topic(horus.msg.CmdVel, name).send(horus.msg.CmdVel(1, 2))
        Topic(horus.LaserScan, name + ".scan").send(horus.LaserScan(count=1))
        child.expect("received 1 CmdVel and 1 LaserScan, dropped 0")
        assert child.wait() == 0, child.stderr
    finally:
        if child is not None:
            child.kill()


def test_python_topic_then_cpp_mismatch_is_refused(example, no_leak):
    name = unique("py_first")
    t = Topic(horus.msg.CmdVel, name)
    r = run_example(example, "mismatch", name)
    assert r.returncode == 0, (r.stdout, r.stderr)
    line = r.stdout.strip()
    assert line.startswith("refused: "), line
    assert f"'{name}'" in line
    assert horus.msg.CmdVel.layout_text in line and MY_CMDVEL_SRC in line
    # And against a Python-declared class of the example's layout too.
    name2 = unique("py_first_f64")
    t2 = Topic(_py_cmdvel_f64(), name2)
    r = run_example(example, "mismatch", name2)
    assert r.returncode == 1 and r.stdout.startswith(f"opened '{name2}'"), (r.stdout, r.stderr)
    del t, t2


# ----------------------------------------------------------------- layouts
def test_cpp_layouts_equal_horus_msg(example):
    r = run_example(example, "layouts")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["name"] for row in rows] == list(horus.msg.__all__)
    for row in rows:
        cls = getattr(horus.msg, row["name"])
        assert row["size"] == cls.dtype.itemsize, row["name"]
        assert int(row["hash"], 16) == cls.layout_hash, row["name"]
        assert row["text"] == cls.layout_text, row["name"]
