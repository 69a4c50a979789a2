"""horus.Bridge's arguments and config files, the wire format on its own (every kind
encoded and rebuilt byte for byte, compression, corrupt and hostile samples), and a bridge
in this process fed garbage by a plain Zenoh publisher.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import horus
from horus.bridge import Bridge, BridgeConfig, BridgeError, load_config
from horus.bridge import _wire
from bridge_harness import free_port


# -- config and arguments ----------------------------------------------------------------------


def test_yaml_and_json5_configs(tmp_path):
    y = tmp_path / "b.yaml"
    y.write_text("mode: client\nconnect: tcp/10.0.0.2:7447\nprefix: robot1\nscouting: false\n"
                 "pub:\n  - camera\n  - {topic: lidar, as: lidar_front, rate: 10, compression: lz4, congestion: block}\n"
                 "sub:\n  - {topic: cmd_vel, from: base, as: cmd_base, rate: 50}\n")
    c = load_config(y)
    assert c.mode == "client" and c.connect == ("tcp/10.0.0.2:7447",) and c.prefix == "robot1" and not c.scouting
    assert [r.topic for r in c.pub] == ["camera", "lidar"]
    lidar = c.pub[1]
    assert (lidar.as_, lidar.rate, lidar.compression, lidar.congestion) == ("lidar_front", 10.0, "lz4", "block")
    assert c.pub[0].congestion is None  # by kind: block for typed messages and data, drop for the memory types
    assert lidar.remote_name("pub") == "lidar_front" and lidar.local_name("pub") == "lidar"
    cmd = c.sub[0]
    assert (cmd.source, cmd.local_name("sub"), cmd.remote_name("sub"), cmd.rate) == ("base", "cmd_base", "cmd_vel", 50.0)
    j = tmp_path / "b.json5"
    j.write_text("{listen: ['tcp/0.0.0.0:7447'], // a comment\n pub: ['x', ], }")
    c2 = load_config(j)
    assert c2.listen == ("tcp/0.0.0.0:7447",) and c2.pub[0].topic == "x" and c2.mode == "peer"
    empty = tmp_path / "e.yaml"
    empty.write_text("")
    assert load_config(empty) == BridgeConfig()


@pytest.mark.parametrize("text, fragment", [
    ("mode: server\n", "mode 'server' must be one of peer, client, router"),
    ("connect: 10.0.0.2\n", "'10.0.0.2' is not a Zenoh endpoint"),
    ("listen: [7447]\n", "endpoint 7447 is not a Zenoh endpoint"),
    ("prefix: a/b\n", "prefix 'a/b' is invalid"),
    ("prefix: '*'\n", "prefix '*' is invalid"),
    ("scouting: maybe\n", "scouting must be true or false"),
    ("pub: [bad name]\n", "topic 'bad name' is invalid"),
    ("pub: [{topic: x, rate: 0}]\n", "rate 0 must be a number"),
    ("pub: [{topic: x, rate: .inf}]\n", "rate inf must be a number"),
    ("pub: [{topic: x, rate: true}]\n", "rate True must be a number"),
    ("pub: [{topic: x, compression: gzip}]\n", "compression 'gzip' must be"),
    ("pub: [{topic: x, congestion: wait}]\n", "congestion 'wait' must be 'drop'"),
    ("sub: [{topic: x, congestion: block}]\n", "unknown key(s) 'congestion' in a sub entry"),
    ("pub: [{topic: x, from: a}]\n", "unknown key(s) 'from' in a pub entry"),
    ("sub: [{topic: x, compression: zstd}]\n", "unknown key(s) 'compression' in a sub entry"),
    ("sub: [{as: x}]\n", "a sub entry needs 'topic'"),
    ("sub: [{topic: x, from: 'a b'}]\n", "prefix 'a b' is invalid"),
    ("pub: [[1, 2]]\n", "a pub entry is a topic name or a map"),
    ("topics: [x]\n", "unknown key(s) 'topics'"),
    ("- x\n", "the config must be a map"),
    ("pub: [x\n", "not valid YAML"),
])
def test_bad_config_names_the_value(tmp_path, text, fragment):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(BridgeError) as e:
        load_config(p)
    assert fragment in str(e.value) and str(p) in str(e.value)


def test_bad_config_files(tmp_path):
    with pytest.raises(BridgeError, match="cannot read the bridge config"):
        load_config(tmp_path / "missing.yaml")
    j = tmp_path / "bad.json5"
    j.write_text("{pub: [")
    with pytest.raises(BridgeError, match="not valid JSON5"):
        load_config(j)
    b = tmp_path / "bin.yaml"
    b.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BridgeError, match="cannot read the bridge config"):
        load_config(b)


def test_bridge_arguments():
    with pytest.raises(BridgeError, match="name topics to send"):
        Bridge()
    with pytest.raises(BridgeError, match="names local topic 'x' twice"):
        Bridge(pub=["x", {"topic": "x", "as": "y"}])
    with pytest.raises(BridgeError, match="names local topic 'y' twice"):
        Bridge(sub=[{"topic": "a", "as": "y"}, "y"])
    with pytest.raises(TypeError, match="config must be a path"):
        Bridge(pub=["x"], config=42)
    with pytest.raises(BridgeError, match="mode 'p2p'"):
        Bridge(pub=["x"], mode="p2p")
    with pytest.raises(BridgeError, match="'127.0.0.1:7447' is not a Zenoh endpoint"):
        Bridge(pub=["x"], connect="127.0.0.1:7447")
    b = Bridge(pub="x", config={"prefix": "p1", "sub": ["y"]}, mode="router")
    assert b.config.mode == "router" and b.prefix == "p1"
    assert [r.topic for r in b.config.pub] == ["x"] and [r.topic for r in b.config.sub] == ["y"]
    assert Bridge(mode="router").config.pub == ()  # a plain router bridges nothing
    assert Bridge(pub=["x"]).prefix == horus.namespace()
    assert horus.Bridge is Bridge


def test_start_failure_is_a_bridge_error_and_stop_is_idempotent():
    port = free_port()
    ep = f"tcp/127.0.0.1:{port}"
    with Bridge(pub=["x"], listen=[ep], scouting=False) as first:
        assert first.running and len(first.id) >= 16
        b = Bridge(pub=["x"], listen=[ep], scouting=False)
        with pytest.raises(BridgeError, match="cannot start Zenoh"):
            b.start()
        s = first.stats
        assert s.mode == "peer" and s.topic("x", "out") is not None and s.topic("x", "out").waiting
    s1 = first.stop()
    s2 = first.stop()
    assert s1.topics[0].topic == s2.topics[0].topic == "x"
    with pytest.raises(RuntimeError, match="already started"):
        first.start()


# -- the wire format on its own ------------------------------------------------------------


@horus.message
class _Inner:
    a: np.int16
    b: horus.array(np.float32, 2)


@horus.message
class _Outer:
    inner: _Inner
    name: horus.string(10)
    flag: bool


def _samples() -> list[object]:
    img = horus.Image(6, 4, "bgra8")
    img.to_numpy()[:] = np.arange(96, dtype=np.uint8).reshape(6, 4, 4)
    depth = horus.DepthImage.from_numpy(np.arange(12, dtype=np.uint16).reshape(3, 4))
    cloud = horus.PointCloud.from_numpy(np.arange(18, dtype=np.float64).reshape(3, 6))
    tensor = horus.Tensor.from_numpy(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    recs = horus.Tensor.from_records(np.zeros(2, dtype=horus.msg.Pose2D.dtype), horus.msg.Pose2D)
    out = [img, depth, cloud, tensor, recs]
    for i, m in enumerate(out):
        m.set_timestamp_ns(123 + i)
        m.set_frame_id(f"f{i}")
    o = _Outer(inner=_Inner(a=-3, b=[1.5, float("nan")]), name="héllo", flag=True)
    o.set_timestamp_ns(999)
    o.set_frame_id("odom")
    out += [o, horus.CmdVel(linear=1.0, angular=-1.0),
            {"k": [1, 2.0, None, "s", b"\x00"], "a": np.arange(5, dtype=">f8"), "t": (1, (2,))}]
    return out


def _raw(m: object) -> bytes:
    if isinstance(m, horus.TypedMessage):
        return bytes(memoryview(m))
    return m.to_numpy().tobytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("compression", [None, "zstd", "lz4"])
def test_every_kind_round_trips_exactly(compression):
    for m in _samples():
        payload, att = _wire.encode(m, 7, "src", compression=compression, with_layouts=True, capacity=16)
        h = _wire.read_header(att)
        assert (h.seq, h.source, h.capacity, h.compression) == (7, "src", 16, compression or "")
        back = _wire.decode(h, payload)
        assert _wire.type_key(back) == _wire.type_key(m)
        if isinstance(m, dict):
            assert back["k"] == m["k"] and back["t"] == m["t"]
            assert back["a"].dtype == m["a"].dtype and np.array_equal(back["a"], m["a"])
            continue
        assert type(back) is type(m)
        assert _raw(back) == _raw(m)
        assert back.frame_id == m.frame_id and back.timestamp_ns == m.timestamp_ns  # type: ignore[attr-defined]
        if isinstance(m, horus.Image):
            assert back.encoding == m.encoding
        if isinstance(m, horus.Tensor):
            assert back.record_type is m.record_type and back.shape == m.shape


def _att(**kv: object) -> bytes:
    import msgpack

    base = {"v": 1, "k": "Image", "s": 0, "o": "x", "m": [2, 2, "rgb8"]}
    base.update(kv)
    return msgpack.packb({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize("att, fragment", [
    (b"\xc1garbage", "not MessagePack"),
    (b"\x93\x01\x02\x03", "not a map"),
    (_att(v=2), "wire version 2"),
    (_att(k="Video"), "kind 'Video'"),
    (_att(s=-1), "sequence number -1"),
    (_att(s=None), "sequence number None"),
    (_att(f=5), "frame_id 5 is not a str"),
    (_att(L={"a": 1}), "layout metadata is not a map of strings"),
    (_att(c=70000), "capacity 70000"),
])
def test_corrupt_attachments_are_wire_errors(att, fragment):
    with pytest.raises(_wire.WireError) as e:
        _wire.read_header(att)
    assert fragment in str(e.value)


@pytest.mark.parametrize("att, payload, fragment", [
    (_att(), b"\x00" * 11, "Image sample 0"),
    (_att(m=[1 << 20, 1 << 20, "rgb8"]), b"\x00" * 12, "Image sample 0"),
    (_att(m=[2, 2, "rgb9"]), b"\x00" * 12, "rgb9"),
    (_att(m=[2, 2]), b"\x00" * 12, "has 2 entries, not 3"),
    (_att(k="DepthImage", m=[2, 2, "float64"]), b"\x00" * 32, "depth dtype 'float64'"),
    (_att(k="PointCloud", m=[2, 3, "O"]), b"\x00" * 48, "PointCloud sample 0"),
    (_att(k="Tensor", m=[[3], "int8"]), b"\x00" * 4, "do not fill shape (3,)"),
    (_att(k="Tensor", m=[[-1], "int8"]), b"", "is not a size"),
    (_att(k="Tensor", m=[[2], "nonsense"]), b"\x00\x00", "Tensor sample 0"),
    (_att(k="Record", h=0x1234, ty="Ghost"), b"\x00" * 8, "Ghost (0x0000000000001234) is not declared here"),
    (_att(k="Data"), b"\x01\x00\x00\x00\x00\x00\x00\x00\xc1", "schemaless payload is corrupt"),
    (_att(z="gzip"), b"\x00" * 12, "unknown compression 'gzip'"),
    (_att(z="zstd"), b"not zstd", "zstd payload does not decompress"),
])
def test_hostile_samples_are_wire_errors(att, payload, fragment):
    with pytest.raises(_wire.WireError) as e:
        _wire.decode(_wire.read_header(att), payload)
    assert fragment in str(e.value)


def test_record_wrong_size_and_wrong_layout_metadata():
    m = horus.CmdVel(linear=1.0, angular=2.0)
    payload, att = _wire.encode(m, 0, "s", with_layouts=True)
    h = _wire.read_header(att)
    with pytest.raises(_wire.WireError, match="bytes; a CmdVel has 8"):
        _wire.decode(h, payload + b"\x00")
    h.layouts = dict(h.layouts or {}, **{"horus.layout_hash": "0x1"})
    h.layout_hash = 0x77
    with pytest.raises(_wire.WireError, match="names hash"):
        _wire.decode(h, payload)


def test_decompression_bombs_are_refused():
    import lz4.frame
    import zstandard

    h = _wire.read_header(_att(k="Tensor", m=[[16], "uint8"], z="zstd"))
    bomb = zstandard.ZstdCompressor().compress(bytes(200 << 20))  # 200 MiB in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(_wire.WireError, match="more than 16 bytes"):
        _wire.decode(h, bomb)
    h.compression = "lz4"
    with pytest.raises(_wire.WireError, match="at most 16 bytes"):
        _wire.decode(h, lz4.frame.compress(bytes(50 << 20)))


def test_a_type_not_declared_here_is_declared_from_the_layout():
    @horus.message
    class OnlyOnTheSender:
        x: np.float64
        tag: horus.string(4)

    m = OnlyOnTheSender(x=2.5, tag="ab")
    payload, att = _wire.encode(m, 0, "s", with_layouts=True)
    meta = _wire.read_header(att).layouts
    assert meta is not None and meta["horus.type_name"] == "OnlyOnTheSender"
    # The same layout hash resolves to the declared class here; the metadata alone must
    # describe the same layout (what a receiver without the class rebuilds it from).
    from horus._foxglove._layouts import _record_class_from_metadata

    assert _record_class_from_metadata(meta, "t").layout_hash == m.layout_hash


# -- a bridge in this process, fed garbage by plain Zenoh ------------------------------------------


def test_garbage_samples_are_counted_and_never_published():
    import zenoh

    port = free_port()
    ep = f"tcp/127.0.0.1:{port}"
    name = f"garbage_{port}"
    with Bridge(sub=[name], listen=[ep], scouting=False) as b:
        c = zenoh.Config()
        c.insert_json5("connect/endpoints", json.dumps([ep]))
        c.insert_json5("scouting/multicast/enabled", "false")
        z = zenoh.open(c)
        try:
            deadline = time.monotonic() + 10
            while not list(z.info.peers_zid()) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            key = f"horus/evil/{name}"
            z.put(key, b"no attachment")
            z.put(key, b"x", attachment=b"\xff\xff")
            z.put(key, b"x" * 5, attachment=_att())
            z.put(key, bytes(12), attachment=_att(k="Tensor", m=[[2, 2], "object"]))
            deadline = time.monotonic() + 10
            while b.stats.topic(name, "in").errors < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            s = b.stats.topic(name, "in")
            assert s.errors == 4 and s.messages == 0, s
            assert horus.topic_info(name) is None, "a garbage sample created the local topic"
            # A good sample after the garbage still goes through.
            payload, att = _wire.encode(horus.CmdVel(linear=3.0, angular=0.0), 0, "good")
            z.put(key, payload, attachment=att)
            deadline = time.monotonic() + 10
            while b.stats.topic(name, "in").messages < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert b.stats.topic(name, "in").messages == 1
            assert horus.topic_info(name).kind == "Record"
        finally:
            z.close()


def test_a_program_that_never_calls_stop_exits_cleanly():
    """zenoh-python runs the bridge's callbacks in non-daemon threads: without the bridge's exit
    hook the interpreter waited for them forever, and a forwarding thread inside recv() aborted
    the process at exit. Exit status 0, promptly, and nothing left in /dev/shm."""
    import os
    import subprocess
    import sys

    from conftest import new_namespace

    code = ("import sys, time, numpy as np, horus\n"
            "t = horus.Topic(horus.Tensor, 't'); t.send(horus.Tensor.from_numpy(np.zeros(4)))\n"
            f"b = horus.Bridge(pub=['t'], sub=['u'], listen=['tcp/127.0.0.1:{free_port()}'], scouting=False).start()\n"
            "time.sleep(0.8)\n"
            "sys.exit(0)\n")
    for _ in range(2):
        ns = new_namespace("bexit")
        r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, HORUS_NAMESPACE=ns),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
