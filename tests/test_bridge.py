"""The bridge between horus namespaces over Zenoh, on this host's loopback: every message kind
arrives with identical bytes, type and metadata in both directions; no loops; type
mismatches refused; rates, renames, compression, client mode through a router; discovery
marks bridged topics; the `horus bridge` command. (tests/test_bridge_netns.py repeats the
network cases across a veth link between two network namespaces.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from bridge_harness import (
    env_of as _env,
    ROOT,
    Proc,
    bridge,
    clean_namespace,
    free_port,
    latest_stats,
    new_ns,
    peer,
    pool_in_use,
    topic_stats,
    wait_stats,
)
from bridge_peer import TOPICS



@pytest.fixture
def namespaces():
    made: list[str] = []
    procs: list[Proc] = []

    def make(tag: str) -> str:
        ns = new_ns(tag)
        made.append(ns)
        return ns

    make.procs = procs  # type: ignore[attr-defined]
    yield make
    for p in procs:
        p.kill()
    for ns in made:
        clean_namespace(ns)


def check_identical(sent: Proc, got: Proc, topics: tuple[str, ...] | list[str], at_least: int) -> dict[str, int]:
    """Every message `got` printed is the one `sent` sent with the same index: same type, bytes,
    frame_id and timestamp. Returns the counts received per topic."""
    by_key = {(d["topic"], d["i"]): d for d in sent.events("sent")}
    counts: dict[str, int] = {}
    for d in got.events("got"):
        want = by_key.get((d["topic"], d["i"]))
        assert want is not None, f"received a message that was never sent: {d}"
        for field in ("type", "sha", "frame_id", "ts"):
            assert d[field] == want[field], f"{d['topic']} #{d['i']}: {field} {d[field]!r} != sent {want[field]!r}"
        counts[d["topic"]] = counts.get(d["topic"], 0) + 1
    for t in topics:
        assert counts.get(t, 0) >= at_least, f"topic {t}: received {counts.get(t, 0)} messages, expected >= {at_least}; " \
                                             f"receiver stderr {got.err[-5:]}"
    return counts


def test_every_kind_arrives_identical_both_ways(namespaces):
    a, b = namespaces("a"), namespaces("b")
    port = free_port()
    ep = f"tcp/127.0.0.1:{port}"
    a_topics = [f"a_{t}" for t in TOPICS]
    b_topics = [f"b_{t}" for t in TOPICS]
    # Bridges first: the topics do not exist yet on either side.
    ba = bridge(a, "--listen", ep, "--pub", *a_topics, "--sub", *b_topics)
    namespaces.procs.append(ba)
    bb = bridge(b, "--connect", ep, "--sub", *a_topics, "--pub", *b_topics)
    namespaces.procs.append(bb)
    recv_b = peer(b, "recv", "--prefix", "a_", "--duration", "40", "--expect", "8")
    recv_a = peer(a, "recv", "--prefix", "b_", "--duration", "40", "--expect", "8")
    namespaces.procs += [recv_a, recv_b]
    send_a = peer(a, "send", "--prefix", "a_", "--count", "60", "--period", "0.05")
    send_b = peer(b, "send", "--prefix", "b_", "--count", "60", "--period", "0.05")
    namespaces.procs += [send_a, send_b]
    for r in (recv_a, recv_b):
        r.wait_for(lambda d: d.get("event") == "done", 60)
    check_identical(send_a, recv_b, TOPICS, 8)
    check_identical(send_b, recv_a, TOPICS, 8)
    send_a.p.wait(30)
    send_b.p.wait(30)
    sa = wait_stats(ba, lambda d: topic_stats(d, "a_cmd", "out")["messages"] == 60, 20)
    sb = wait_stats(bb, lambda d: topic_stats(d, "a_cmd", "in")["messages"] == 60, 20)
    for t in TOPICS:
        out, inn = topic_stats(sa, f"a_{t}", "out"), topic_stats(sb, f"a_{t}", "in")
        assert out["messages"] == 60 and out["errors"] == 0, out
        assert inn["lost"] == 0 and inn["type_errors"] == 0 and inn["errors"] == 0, inn
        assert inn["sources"] == 1
    cmd = topic_stats(sb, "a_cmd", "in")
    assert cmd["type"].startswith("Record CmdVel"), cmd
    assert topic_stats(sb, "a_recs", "in")["type"].startswith("Tensor of Detection2D records"), sb
    assert cmd["transit_ms_p50"] is not None and cmd["transit_ms_p50"] < 1000
    for p in (ba, bb):
        assert p.stop() == 0
        final = p.events("stopped")[-1]
        assert final["topics"], final
    # Nothing leaks in either pool once the bridges stopped.
    for ns in (a, b):
        assert pool_in_use(ns) == 0


def test_no_loop_with_pub_and_sub_of_the_same_topic_on_both_sides(namespaces):
    a, b = namespaces("a"), namespaces("b")
    ep = f"tcp/127.0.0.1:{free_port()}"
    ba = bridge(a, "--listen", ep, "--pub", "chat", "--sub", "chat")
    bb = bridge(b, "--connect", ep, "--pub", "chat", "--sub", "chat")
    namespaces.procs += [ba, bb]
    wait_stats(ba, lambda d: d.get("peers", 0) >= 1, 20)
    code = ("import horus, time, sys\n"
            "t = horus.Topic(horus.CmdVel, 'chat')\n"
            "time.sleep(1.0)\n"  # the bridge finds the new topic within 0.2 s
            "for i in range(20):\n"
            "    t.send(horus.CmdVel(linear=float(sys.argv[1]), angular=float(i))); time.sleep(0.02)\n"
            "time.sleep(3.0)\n"
            "print(horus.topic_info('chat').messages)\n")
    pa = subprocess.Popen([sys.executable, "-c", code, "1"], env=_env(a), stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    pb = subprocess.Popen([sys.executable, "-c", code, "2"], env=_env(b), stdout=subprocess.PIPE, text=True)
    out_a, _ = pa.communicate(timeout=60)
    out_b, _ = pb.communicate(timeout=60)
    # Each namespace holds its own 20 and the other side's 20: nothing came back a second time.
    assert int(out_a.split()[-1]) == 40, out_a
    assert int(out_b.split()[-1]) == 40, out_b
    sa = latest_stats(ba)
    assert topic_stats(sa, "chat", "out")["messages"] == 20, sa
    assert topic_stats(sa, "chat", "in")["messages"] == 20, sa



def test_type_mismatch_is_refused_counted_and_logged(namespaces):
    a, b = namespaces("a"), namespaces("b")
    ep = f"tcp/127.0.0.1:{free_port()}"
    # In B, "cmd" already carries Imu messages, held open by a process of its own.
    holder = subprocess.Popen([sys.executable, "-c", "import horus, sys; t = horus.Topic(horus.Imu, 'cmd'); "
                               "print('ok', flush=True); sys.stdin.read()"], env=_env(b), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        ba = bridge(a, "--listen", ep, "--pub", "cmd")
        bb = bridge(b, "--connect", ep, "--sub", "cmd")
        namespaces.procs += [ba, bb]
        send = peer(a, "send", "--topics", "cmd", "--count", "30", "--period", "0.03")
        namespaces.procs.append(send)
        st = wait_stats(bb, lambda d: topic_stats(d, "cmd", "in")["type_errors"] >= 5, 30)
        t = topic_stats(st, "cmd", "in")
        assert t["messages"] == 0, t
        assert "CmdVel" in t["last_error"] and "Imu" in t["last_error"], t
        bb.stop()
        assert any("refused" in line and "CmdVel" in line for line in bb.err), bb.err
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_rate_limit_rename_and_compression(namespaces, tmp_path):
    a, b = namespaces("a"), namespaces("b")
    ep = f"tcp/127.0.0.1:{free_port()}"
    cfg_a = tmp_path / "a.yaml"
    cfg_a.write_text(f"listen: [{ep}]\nprefix: robot1\npub:\n  - {{topic: img, as: camera, compression: zstd}}\n"
                     "  - {topic: cmd, rate: 5}\n")
    cfg_b = tmp_path / "b.json5"
    cfg_b.write_text(f"{{connect: ['{ep}'], sub: [{{topic: 'camera', from: 'robot1', as: 'cam_in'}}, "
                     "{topic: 'cmd', from: 'robot1'}, ], // JSON5: comments, trailing commas\n}")
    ba = bridge(a, "--config", str(cfg_a))
    bb = bridge(b, "--config", str(cfg_b))
    namespaces.procs += [ba, bb]
    recv = peer(b, "recv", "--topics", "img", "cmd", "--duration", "6")
    namespaces.procs.append(recv)
    # The receiver reads local "img" / "cmd"; the bridge publishes "cam_in": run a second one for it.
    recv2 = Proc([sys.executable, "-c",
                  "import horus, time, json\n"
                  "deadline = time.monotonic() + 8; t = None; n = 0\n"
                  "print(json.dumps({'event': 'ready'}), flush=True)\n"
                  "while time.monotonic() < deadline:\n"
                  "    if t is None and horus.topic_info('cam_in') is not None: t = horus.Topic(None, 'cam_in')\n"
                  "    m = t.recv(0.1) if t is not None else None\n"
                  "    if m is not None:\n"
                  "        n += 1; print(json.dumps({'event': 'got', 'frame': m.frame_id, 'shape': list(m.to_numpy().shape)}), flush=True)\n"
                  "print(json.dumps({'event': 'done', 'n': n}), flush=True)\n"], b)
    namespaces.procs.append(recv2)
    send = peer(a, "send", "--topics", "img", "cmd", "--count", "100", "--period", "0.02")
    namespaces.procs.append(send)
    done = recv2.wait_for(lambda d: d.get("event") == "done", 30)
    assert done["n"] >= 30, (done, recv2.err[-5:])
    assert recv2.events("got")[0]["shape"] == [48, 64, 3]
    sa = wait_stats(ba, lambda d: topic_stats(d, "cmd", "out")["rate_limited"] > 50, 20)
    out_cmd = topic_stats(sa, "cmd", "out")
    # 100 messages over about 2 s at 5 per second: about 10 pass.
    assert 5 <= out_cmd["messages"] <= 16, out_cmd
    assert out_cmd["key"] == "horus/robot1/cmd"
    out_img = topic_stats(sa, "img", "out")
    assert out_img["key"] == "horus/robot1/camera"
    assert out_img["bytes"] < out_img["messages"] * 48 * 64 * 3, "zstd did not compress the image stream"
    sb = latest_stats(bb)
    assert topic_stats(sb, "cam_in", "in")["lost"] == 0


def test_client_mode_through_a_router_and_discovery_marks(namespaces):
    a, b, r = namespaces("a"), namespaces("b"), namespaces("r")
    ep = f"tcp/127.0.0.1:{free_port()}"
    router = bridge(r, "--mode", "router", "--listen", ep)
    ba = bridge(a, "--mode", "client", "--connect", ep, "--pub", "cmd")
    bb = bridge(b, "--mode", "client", "--connect", ep, "--sub", "cmd")
    namespaces.procs += [router, ba, bb]
    wait_stats(ba, lambda d: d.get("routers", 0) == 1, 20)
    recv = peer(b, "recv", "--topics", "cmd", "--duration", "20", "--expect", "5")
    send = peer(a, "send", "--topics", "cmd", "--count", "40", "--period", "0.03")
    namespaces.procs += [recv, send]
    recv.wait_for(lambda d: d.get("event") == "done", 30)
    check_identical(send, recv, ["cmd"], 5)
    info = subprocess.run([sys.executable, "-m", "horus", "topic", "info", "cmd", "--json"], env=_env(b),
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    import json

    d = json.loads(info.stdout)
    assert d["bridged"] == "in", d
    info_a = subprocess.run([sys.executable, "-m", "horus", "topic", "info", "cmd"], env=_env(a),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "out: a horus bridge sends it" in info_a.stdout, info_a.stdout


def test_bridge_command_errors_are_one_line():
    cases = [
        (["--connect", "10.0.0.1:7447", "--pub", "x"], "is not a Zenoh endpoint"),
        (["--pub", "bad name"], "invalid"),
        ([], "name topics to send"),
        (["--config", "/nonexistent/b.yaml"], "cannot read the bridge config"),
        (["--listen", "tcp/127.0.0.1:1", "--pub", "x", "--prefix", "a/b"], "prefix 'a/b' is invalid"),
    ]
    for args, want in cases:
        out = subprocess.run([sys.executable, "-m", "horus", "bridge", "--no-scouting", *args], capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
        assert out.returncode in (1, 2), (args, out)
        assert want in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr, out.stderr


def test_bridge_command_stops_cleanly_on_sigint_and_sigterm(namespaces):
    for sig in (signal.SIGINT, signal.SIGTERM):
        ns = namespaces("s")
        p = bridge(ns, "--listen", f"tcp/127.0.0.1:{free_port()}", "--pub", "x")
        time.sleep(0.5)
        assert p.stop(sig) == 0
        assert p.events("stopped"), p.lines[-3:]
        assert "Traceback" not in "\n".join(p.err)
