"""Discovery: horus.topics(), horus.topic_info(), horus.nodes() from shared memory.

Every topic and every running node of the namespace is visible to any process: what a
topic carries, who publishes and subscribes (pid, node), how much it sent and when; a
node's rate, topics and tick statistics. Entries of a process killed with SIGKILL
disappear at once and their shared memory is freed by reclamation. Foreign, corrupt and
other users' objects are skipped, never trusted. Processes in another PID namespace are
listed with their own pid.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import horus
from horus import CmdVel, Image, Node, Topic
from _child import Child
from conftest import SESSION_NAMESPACE, new_namespace

PUBLISHER = """
    import sys, time, numpy as np, horus
    from horus import Image, CmdVel, Topic
    cam = Topic(Image, "disc.camera")
    cmd = Topic(CmdVel, "disc.cmd")
    for i in range(3):
        cam.send(Image.from_numpy(np.zeros((4, 6, 3), np.uint8)))
    cmd.send(CmdVel(linear=1.0, angular=2.0))
    print("sent", flush=True)
    sys.stdin.readline()
"""

NODE_RUNNER = """
    import sys, horus
    from horus import Node, CmdVel
    def tick(node):
        node.send("disc.out", CmdVel(linear=0.5, angular=0.0))
        node.try_recv("disc.in")
    talker = Node("disc_talker", tick, rate=200, order=3, subs=["disc.in"], pubs=["disc.out"])
    print("running", flush=True)
    horus.run(talker, duration=60)
"""


def _wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _names() -> list[str]:
    return [t.name for t in horus.topics()]


def test_topics_of_another_process_show_type_counts_and_publisher():
    before = time.time_ns()
    child = Child.python(PUBLISHER, stdin=True)
    try:
        child.expect("sent")
        cam = horus.topic_info("disc.camera")
        cmd = horus.topic_info("disc.cmd")
        assert cam is not None and cmd is not None
        assert (cam.kind, cam.type_name, cam.layout_hash, cam.capacity, cam.messages) == ("Image", "", 0, 8, 3)
        assert cam.type_description == "Image messages"
        assert cam.processes == 1
        assert [e.pid for e in cam.publishers] == [child.proc.pid] and cam.subscribers == ()
        assert cam.publishers[0].node == ""
        # CLOCK_REALTIME_COARSE: within a tick (a few ms) of the real time of the send
        assert before - 20_000_000 <= cam.last_send_ns <= time.time_ns() + 20_000_000
        assert (cmd.kind, cmd.type_name, cmd.layout_hash, cmd.messages) == ("Record", "CmdVel", CmdVel.layout_hash, 1)
        assert cmd.type_description == Topic(CmdVel, "disc.cmd").type_description
        listed = {t.name: t for t in horus.topics()}
        assert listed["disc.camera"] == cam and _names() == sorted(_names())
        d = cam.as_dict()
        assert d["publishers"] == [{"pid": child.proc.pid, "node": "", "topics": 1}] and d["kind"] == "Image"
        assert d["complete"] is True
    finally:
        child.proc.stdin.write("\n")
        child.proc.stdin.flush()
        child.proc.wait(timeout=20)
    # Its last user left: the topics are gone (the parent's Topic(CmdVel) above was dropped).
    gc.collect()
    _wait_for(lambda: "disc.camera" not in _names(), what="the topic to disappear")


def test_a_topic_that_was_never_sent_on_has_no_type_time_or_endpoint_roles():
    t = Topic(None, "disc.idle")
    info = horus.topic_info("disc.idle")
    assert (info.kind, info.messages, info.last_send_ns, info.publishers, info.subscribers) == ("", 0, 0, (), ())
    assert info.processes == 1
    t.try_recv()  # receiving makes it a subscriber
    assert [e.pid for e in horus.topic_info("disc.idle").subscribers] == [os.getpid()]
    del t
    gc.collect()
    assert horus.topic_info("disc.idle") is None


def test_topic_objects_of_one_process_are_one_endpoint_with_their_count():
    a = Topic(CmdVel, "disc.close")
    b = Topic(CmdVel, "disc.close")
    assert horus.topic_info("disc.close").publishers == ()
    b.send(CmdVel())  # one of the two sends: the process publishes
    assert horus.topic_info("disc.close").publishers == (horus.Endpoint(os.getpid(), "", 2),)
    del b
    gc.collect()
    assert horus.topic_info("disc.close").publishers == (horus.Endpoint(os.getpid(), "", 1),)
    del a
    gc.collect()
    assert horus.topic_info("disc.close") is None


def test_a_node_name_that_is_not_ascii_is_listed_as_given():
    n = Node("kamera_ü_☃", lambda node: None, pubs=["disc.utf8"])
    assert [e.node for e in horus.topic_info("disc.utf8").publishers] == ["kamera_ü_☃"]
    del n


def test_a_topic_whose_lock_is_held_by_a_stopped_process_is_listed_without_its_endpoints():
    """A publisher stopped inside send (SIGSTOP, a debugger) holds the topic mutex: tools must not hang."""
    import mmap
    import struct
    keep = Topic(CmdVel, "disc.stopped")
    keep.send(CmdVel())
    path = f"/dev/shm/horus.{SESSION_NAMESPACE}.topic.disc.stopped"
    # Stand in for a stopped holder: a mutex word whose owner thread never exits.
    fd = os.open(path, os.O_RDWR)
    try:
        m = mmap.mmap(fd, 4096)
        saved = m[136:140]
        struct.pack_into("<i", m, 136, 0x3FFFFFFF)
        start = time.monotonic()
        info = horus.topic_info("disc.stopped")
        elapsed = time.monotonic() - start
        m[136:140] = saved
        m.close()
    finally:
        os.close(fd)
    assert elapsed < 2.0
    assert info.complete is False and info.messages == 1 and info.type_name == "CmdVel"
    assert info.publishers == () and info.processes == 0
    assert horus.topic_info("disc.stopped").complete is True
    del keep


def test_a_running_node_is_listed_with_rate_topics_and_tick_statistics():
    child = Child.python(NODE_RUNNER)
    try:
        child.expect("running")
        node = _wait_for(lambda: next((n for n in horus.nodes() if n.name == "disc_talker" and n.ticks > 20), None),
                         what="the node to tick")
        assert (node.pid, node.language, node.rate_hz, node.order) == (child.proc.pid, "python", 200.0, 3)
        assert (node.subs, node.pubs) == (("disc.in",), ("disc.out",))
        assert node.errors == 0 and node.overruns <= node.ticks
        assert 0 < node.mean_tick_s <= node.max_tick_s < 1.0
        assert node.started_ns <= node.last_tick_ns <= time.time_ns() + 20_000_000
        ticks = node.ticks
        later = _wait_for(lambda: next((n for n in horus.nodes() if n.name == "disc_talker" and n.ticks > ticks + 10),
                                       None), what="more ticks")
        assert later.ticks > ticks
        out = horus.topic_info("disc.out")
        inp = horus.topic_info("disc.in")
        assert [(e.pid, e.node) for e in out.publishers] == [(child.proc.pid, "disc_talker")]
        assert [(e.pid, e.node) for e in inp.subscribers] == [(child.proc.pid, "disc_talker")]
        assert inp.publishers == () and out.kind == "Record" and out.type_name == "CmdVel"
        assert node.as_dict()["subs"] == ["disc.in"]
    finally:
        child.kill()
    # SIGKILL: its node and endpoints vanish at once (liveness), reclamation frees the entries.
    _wait_for(lambda: all(n.name != "disc_talker" for n in horus.nodes()), what="the dead node to vanish")
    horus.reclaim()
    assert "disc.out" not in _names() and "disc.in" not in _names()


def test_a_node_in_this_process_is_listed_only_while_run_runs_it():
    seen: list[list[horus.NodeInfo]] = []

    def tick(node):
        if node.stats.ticks == 3:
            seen.append(horus.nodes())

    n = Node("disc_local", tick, rate=500, pubs=["disc.local"])
    assert all(x.name != "disc_local" for x in horus.nodes())
    # declared pubs count from the node's creation, before it ever sends
    assert [(e.pid, e.node) for e in horus.topic_info("disc.local").publishers] == [(os.getpid(), "disc_local")]
    assert [x for x in horus.nodes() if x.name == "disc_local"] == []
    horus.run(n, duration=0.05)
    assert len(seen) == 1 and [x.name for x in seen[0] if x.name == "disc_local"] == ["disc_local"]
    mine = next(x for x in seen[0] if x.name == "disc_local")
    assert mine.ticks == 3 and mine.pid == os.getpid()
    assert all(x.name != "disc_local" for x in horus.nodes())


def test_a_failing_tick_is_counted_as_an_error_while_it_runs():
    seen = []

    def tick(node):
        seen.append(next(x for x in horus.nodes() if x.name == "disc_fail"))
        raise RuntimeError("boom")

    with pytest.raises(horus.NodeError):
        horus.run(Node("disc_fail", tick, rate=100), duration=1)
    assert seen[0].errors == 0 and seen[0].ticks == 0
    assert all(x.name != "disc_fail" for x in horus.nodes())


def test_more_nodes_than_the_registry_holds_still_run_and_128_are_listed():
    counts = []

    def tick(node):
        if node.name == "n000" and node.stats.ticks == 1:
            counts.append(len([x for x in horus.nodes() if x.name.startswith("n") and x.pid == os.getpid()]))

    nodes = [Node(f"n{i:03d}", tick, rate=1000) for i in range(140)]
    horus.run(*nodes, duration=0.05)
    assert counts == [128]
    assert all(n.stats.ticks > 0 for n in nodes)
    assert not [x for x in horus.nodes() if x.pid == os.getpid()]


def test_another_namespace_is_not_visible():
    other = new_namespace("disc")
    code = """
        import sys, horus
        t = horus.Topic(horus.CmdVel, "disc.elsewhere"); t.send(horus.CmdVel())
        print("names", [x.name for x in horus.topics()], flush=True)
        sys.stdin.readline()
    """
    child = Child.python(code, env={"HORUS_NAMESPACE": other}, stdin=True)
    try:
        assert child.expect("names") == "names ['disc.elsewhere']"
        assert "disc.elsewhere" not in _names()
    finally:
        child.proc.stdin.write("\n")
        child.proc.stdin.flush()
        child.proc.wait(timeout=20)


def test_foreign_corrupt_and_empty_objects_are_skipped():
    keep = Topic(CmdVel, "disc.good")
    keep.send(CmdVel())
    prefix = f"/dev/shm/horus.{SESSION_NAMESPACE}.topic."
    garbage = Path(prefix + "disc.garbage")
    empty = Path(prefix + "disc.empty")
    truncated = Path(prefix + "disc.truncated")
    other_user = Path(prefix + "disc.nobody")
    good = Path(prefix + "disc.good").read_bytes()
    try:
        garbage.write_bytes(os.urandom(len(good)))
        empty.write_bytes(b"")
        truncated.write_bytes(good[:1000])
        other_user.write_bytes(good)
        if os.geteuid() == 0:
            os.chown(other_user, 65534, 65534)
        names = _names()
        assert "disc.good" in names
        assert not {"disc.garbage", "disc.empty", "disc.truncated"} & set(names)
        if os.geteuid() == 0:
            assert "disc.nobody" not in names  # another user's object is never trusted
        assert horus.topic_info("disc.garbage") is None
    finally:
        for p in (garbage, empty, truncated, other_user):
            p.unlink(missing_ok=True)
    del keep


def test_bad_names_are_refused():
    with pytest.raises(TypeError, match="topic name must be a str"):
        horus.topic_info(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'bad name!' is invalid"):
        horus.topic_info("bad name!")
    assert horus.topic_info("disc.no_such_topic") is None


needs_unshare = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0
    or subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True).returncode != 0,
    reason="needs root and unshare --pid")


@needs_unshare
def test_a_node_in_another_pid_namespace_is_listed_with_its_own_pid():
    code = textwrap.dedent("""
        import os, horus
        def tick(node): node.send("disc.pidns", horus.CmdVel())
        print("pid", os.getpid(), flush=True)
        horus.run(horus.Node("disc_pidns", tick, rate=100, pubs=["disc.pidns"]), duration=60)
    """)
    peer = Child(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable, "-c", code])
    try:
        inner_pid = int(peer.expect("pid").split()[1])
        node = _wait_for(lambda: next((n for n in horus.nodes() if n.name == "disc_pidns" and n.ticks), None),
                         what="the node in the other PID namespace")
        assert node.pid == inner_pid  # its own namespace's pid (1 or 2), as it sees itself
        assert horus.topic_info("disc.pidns").publishers[0].pid == inner_pid
    finally:
        peer.kill()
    _wait_for(lambda: all(n.name != "disc_pidns" for n in horus.nodes()), what="the killed peer's node to vanish")


def test_the_layout_bundle_of_a_typed_topic_names_every_nested_type():
    """Tools rebuild a type only the publisher declares from horus._core._layout_bundle."""
    code = """
        import sys, numpy as np, horus
        @horus.message
        class DiscCell:
            volts: np.float32
        @horus.message
        class DiscPack:
            id: np.uint8
            first: DiscCell
            second: DiscCell
        t = horus.Topic(DiscPack, "disc.pack"); t.send(DiscPack())
        print("texts", DiscPack.layout_hash, DiscPack.layout_text, DiscCell.layout_text, flush=True)
        sys.stdin.readline()
    """
    child = Child.python(code, stdin=True)
    try:
        _, h, pack_text, cell_text = child.expect("texts").split(" ")
        assert horus._core._layout_bundle(int(h)) == [pack_text, cell_text]
        assert horus._core._layout_bundle(12345) is None
    finally:
        child.proc.stdin.write("\n")
        child.proc.stdin.flush()
        child.proc.wait(timeout=20)
