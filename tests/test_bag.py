"""horus.bag end to end: publisher processes -> Recorder -> MCAP file -> the reference mcap
reader with Foxglove's classes, horus.bag.read, info, and play into a subscriber process.

Every process prints a digest of each message it sent or received (type, layout hash,
encoding, shape, a hash of the bytes, frame_id, timestamp_ns), so what was sent is compared
with what was recorded, read and played. The recorder (this test process) never declares
the user type `Probe`: it must record and read it from the layout the topic carries.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from _child import Child
from foxglove_schemas_protobuf.FrameTransform_pb2 import FrameTransform
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud as FoxPointCloud
from foxglove_schemas_protobuf.PoseInFrame_pb2 import PoseInFrame
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from mcap.reader import make_reader

import horus
import horus.bag as bag
from horus.bag import BagError

DIGEST = r'''
import hashlib, json, sys, time
import numpy as np
import horus

def _sha(b):
    return hashlib.sha256(bytes(b)).hexdigest()[:20]

def _canon(v):
    if isinstance(v, np.ndarray):
        return ["nd", v.dtype.str, list(v.shape), _sha(np.ascontiguousarray(v).tobytes())]
    if isinstance(v, dict):
        return ["dict", [[_canon(k), _canon(x)] for k, x in v.items()]]
    if isinstance(v, tuple):
        return ["tuple", [_canon(x) for x in v]]
    if isinstance(v, list):
        return ["list", [_canon(x) for x in v]]
    if isinstance(v, float):
        return ["float", v.hex()]
    if isinstance(v, bytes):
        return ["bytes", v.hex()]
    return [type(v).__name__, v]

def digest(m):
    if isinstance(m, horus.Image):
        return ["Image", m.encoding, m.height, m.width, _sha(m.to_numpy()), m.timestamp_ns, m.frame_id]
    if isinstance(m, horus.DepthImage):
        return ["DepthImage", m.dtype, m.height, m.width, _sha(m.to_numpy()), m.timestamp_ns, m.frame_id]
    if isinstance(m, horus.PointCloud):
        return ["PointCloud", m.dtype, list(m.to_numpy().shape), _sha(m.to_numpy()), m.timestamp_ns, m.frame_id]
    if isinstance(m, horus.Tensor):
        r = m.record_type
        return ["Tensor", m.dtype, list(m.shape), r.__name__ if r else None, hex(r.layout_hash) if r else None,
                _sha(m.to_numpy()), m.timestamp_ns, m.frame_id]
    if isinstance(m, horus.TypedMessage):
        return [type(m).__name__, hex(m.layout_hash), _sha(bytes(m)), m.timestamp_ns, m.frame_id]
    return ["Data", _canon(m)]
'''

PROBE = r'''
@horus.message
class Probe:
    reading: np.float64
    samples: horus.array(np.int32, (2, 3))
    label: horus.string(10)
    ok: bool
    where: horus.msg.Point
'''

N = 10  # messages per topic
TS0 = 1_700_000_000_000_000_000

CONSTANTS = f"N = {N}\nTS0 = {TS0}\n"

SENSORS = DIGEST + CONSTANTS + r'''
MIXED = ["rgb8", "mono8", "mono32f", "rgba8", "depth16", "rgb32f", "bgra8", "mono16", "yuv422", "bayer_rggb8"]
SINGLE = {"cam.rgb": "rgb8", "cam.bgr": "bgr8", "cam.mono16": "mono16", "cam.yuv": "yuv422", "cam.bayer": "bayer_rggb8"}
topics = {name: horus.Topic(horus.Image, name) for name in list(SINGLE) + ["cam.mixed"]}
topics["depth.m"] = horus.Topic(horus.DepthImage, "depth.m")
topics["depth.mm"] = horus.Topic(horus.DepthImage, "depth.mm")
topics["lidar"] = horus.Topic(horus.PointCloud, "lidar")
rng = np.random.default_rng(7)

def image(enc, i):
    _, bpp, _ = horus.ENCODINGS[enc]
    h, w = 24 + i, 32
    return horus.Image.from_bytes(rng.integers(0, 256, h * w * bpp, dtype=np.uint8).tobytes(), h, w, enc)

print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
for i in range(N):
    msgs = {name: image(enc, i) for name, enc in SINGLE.items()}
    msgs["cam.mixed"] = image(MIXED[i % len(MIXED)], i)
    d = rng.random((20, 30)).astype(np.float32) * 10
    d[0, 0] = np.nan
    msgs["depth.m"] = horus.DepthImage.from_numpy(d)
    msgs["depth.mm"] = horus.DepthImage.from_numpy(rng.integers(0, 65535, (20, 30), dtype=np.uint16))
    pts = rng.random((500, 7)).astype(np.float32)
    msgs["lidar"] = horus.PointCloud.from_numpy(pts)
    for name, m in msgs.items():
        m.set_timestamp_ns(TS0 + i * 1000 + len(name))
        m.set_frame_id(name.split(".")[0] + f"_{i}")
        topics[name].send(m)
        print("sent", name, json.dumps(digest(m)), flush=True)
    time.sleep(0.02)
print("done", flush=True)
sys.stdin.readline()
'''

TYPED = DIGEST + PROBE + CONSTANTS + r'''
tf = horus.Topic(horus.TransformStamped, "tf")
pose = horus.Topic(horus.Pose, "pose")
cmd = horus.Topic(horus.CmdVel, "cmd_vel")
battery = horus.Topic(horus.BatteryState, "battery")
scan = horus.Topic(horus.LaserScan, "scan")
probe = horus.Topic(Probe, "probe")
tensor = horus.Topic(horus.Tensor, "tensor")
dets = horus.Topic(horus.Tensor[horus.msg.Detection2D], "detections")
status = horus.Topic("status")
rng = np.random.default_rng(11)
print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
late = horus.Topic(horus.CmdVel, "late.topic")  # appears after the recorder started
t_late = time.monotonic() + 1.0
for i in range(N):
    ts = TS0 + i * 1000
    a = rng.normal(size=3)
    msgs = {
        "tf": horus.TransformStamped(parent_frame="map", child_frame=f"base_{i}",
                                     transform={"translation": {"x": a[0], "y": a[1], "z": a[2]},
                                                "rotation": {"z": np.sin(i / 10), "w": np.cos(i / 10)}},
                                     frame_id="odom" if i % 2 else ""),
        "pose": horus.Pose(position={"x": float(i), "y": -0.0, "z": 1e-300}, orientation={"w": 1.0}, frame_id="map"),
        "cmd_vel": horus.CmdVel(linear=float(a[0]), angular=float("nan") if i == 3 else float(a[1])),
        "battery": horus.BatteryState(voltage=12 + i / 7, cell_count=2, present=True, location=f"bay {i} ✓",
                                      serial_number="SN-" + "9" * 29),
        "scan": horus.LaserScan(angle_min=-1.5, angle_max=1.5, count=1081, range_max=30.0,
                                ranges=np.concatenate([rng.random(1081, dtype=np.float32) * 30,
                                                       np.full(2048 - 1081, np.inf, np.float32)])),
        "probe": Probe(reading=np.pi * i, samples=[[i, -i, 2**31 - 1], [0, 1, -2**31]], label=f"p{i}", ok=i % 2 == 0,
                       where={"x": 1.0, "y": 2.0, "z": float(i)}),
    }
    msgs["battery"].cell_voltage[:2] = (4.1, 4.15)
    for name, m in msgs.items():
        m.set_timestamp_ns(ts)
        if name not in ("tf", "pose"):
            m.set_frame_id(f"{name}_frame")
    t = horus.Tensor.from_numpy(rng.normal(size=(2, 3, 4)).astype(np.float32))
    t.set_timestamp_ns(ts); t.set_frame_id("model")
    d = np.zeros(3 + i % 2, dtype=horus.msg.Detection2D.dtype)
    d["score"] = rng.random(len(d))
    d["class_id"] = np.arange(len(d))
    dt = horus.Tensor.from_numpy(d)
    dt.set_timestamp_ns(ts)
    msgs["tensor"], msgs["detections"] = t, dt
    msgs["status"] = {"i": i, "mode": "explore", "ok": bool(i % 2), "pose": np.array([i, 2.0, 0.5]),
                      "map": rng.integers(0, 255, (40, 50), dtype=np.uint8), "hist": (1, 2.5, None),
                      "nan": float("nan") if i == 2 else 1.0, "raw": b"\x00\x01"}
    for name, m in msgs.items():
        topic = {"tf": tf, "pose": pose, "cmd_vel": cmd, "battery": battery, "scan": scan, "probe": probe,
                 "tensor": tensor, "detections": dets, "status": status}[name]
        topic.send(m)
        print("sent", name, json.dumps(digest(m)), flush=True)
    time.sleep(0.02)
time.sleep(max(0.0, t_late - time.monotonic()))
for i in range(3):
    m = horus.CmdVel(linear=float(i), angular=0.0, timestamp_ns=i)
    late.send(m)
    print("sent", "late.topic", json.dumps(digest(m)), flush=True)
print("done", flush=True)
sys.stdin.readline()
'''

SENSOR_TOPICS = ["cam.rgb", "cam.bgr", "cam.mono16", "cam.yuv", "cam.bayer", "cam.mixed", "depth.m", "depth.mm",
                 "lidar"]
TYPED_TOPICS = ["tf", "pose", "cmd_vel", "battery", "scan", "probe", "tensor", "detections", "status"]
ALL_TOPICS = SENSOR_TOPICS + TYPED_TOPICS + ["late.topic"]


def collect_sent(child: Child, sent: dict[str, list]) -> None:
    while True:
        line = child.expect("", timeout=60)
        if line == "done":
            return
        if line.startswith("sent "):
            _, topic, d = line.split(" ", 2)
            sent.setdefault(topic, []).append(json.loads(d))


exec(DIGEST)  # digest() here too (no Probe: this process must not declare it)


def norm(d):
    return json.loads(json.dumps(d))


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bag") / "run.mcap")
    sensors, typed = Child.python(SENSORS, stdin=True), Child.python(TYPED, stdin=True)
    try:
        sensors.expect("ready")
        typed.expect("ready")
        rec = bag.Recorder(path, ALL_TOPICS, compression="zstd", chunk_size=64 * 1024)
        rec.start()
        assert rec.subscribed == sorted(SENSOR_TOPICS + TYPED_TOPICS)  # existing topics: subscribed by start()
        sent: dict[str, list] = {}
        sensors.send_line("go")
        typed.send_line("go")
        collect_sent(sensors, sent)
        collect_sent(typed, sent)
        deadline = time.monotonic() + 10
        while rec.stats.messages < sum(map(len, sent.values())) and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = rec.stop()
        sensors.send_line("exit")
        typed.send_line("exit")
        assert sensors.wait() == 0, sensors.stderr
        assert typed.wait() == 0, typed.stderr
    finally:
        sensors.kill()
        typed.kill()
    assert horus.record_class(int(sent["probe"][0][1], 16)) is not None  # the recorder declared Probe itself
    return path, sent, stats


# ---- recording ----------------------------------------------------------------------------------


def test_every_message_sent_was_recorded_without_drops(recording):
    path, sent, stats = recording
    assert set(sent) == set(ALL_TOPICS)
    for topic in ALL_TOPICS:
        t = stats.topics[topic]
        assert (t.messages, t.drops, t.errors) == (len(sent[topic]), 0, 0), (topic, t)
    assert stats.messages == sum(len(v) for v in sent.values())
    assert stats.drops == 0 and stats.bytes == sum(t.bytes for t in stats.topics.values()) > 0
    assert stats.topics["probe"].type == "Probe" and stats.topics["detections"].type == "Tensor[Detection2D]"
    assert stats.topics["status"].type == "Data" and stats.topics["lidar"].type == "PointCloud"
    assert stats.elapsed_s > 0 and stats.as_dict()["topics"]["tf"]["messages"] == N


def pb_class(schema):
    fds = descriptor_pb2.FileDescriptorSet.FromString(schema.data)
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(schema.name))


def sha(b) -> str:
    return hashlib.sha256(bytes(b)).hexdigest()[:20]


def test_reference_mcap_reader_and_foxglove_classes_decode_every_message(recording):
    path, sent, _ = recording
    seen: dict[str, int] = {}
    with open(path, "rb") as f:
        reader = make_reader(f, validate_crcs=True)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics.message_count == sum(len(v) for v in sent.values())
        assert len(summary.chunk_indexes) > 1  # chunked (64 KiB chunks here) ...
        assert {ci.compression for ci in summary.chunk_indexes} == {"zstd"}  # ... compressed ...
        assert all(ci.message_index_offsets for ci in summary.chunk_indexes)  # ... with message indexes
        for schema, channel, message in reader.iter_messages():
            topic = channel.topic
            i = seen.get(topic, 0)
            seen[topic] = i + 1
            d = sent[topic][i]
            md = channel.metadata
            assert md["horus.mapping"] == "1"
            if d[0] in ("Image", "DepthImage"):
                assert (schema.name, schema.encoding, channel.message_encoding) == ("foxglove.RawImage", "protobuf",
                                                                                  "protobuf")
                fox = RawImage.FromString(message.data)
                h, w = d[2], d[3]
                dtype = horus.ENCODINGS[d[1]][2] if d[0] == "Image" else d[1]
                bpp = horus.ENCODINGS[d[1]][1] if d[0] == "Image" else np.dtype(dtype).itemsize
                assert (fox.height, fox.width, fox.step) == (h, w, w * bpp)
                assert sha(fox.data) == d[4]
                assert fox.timestamp.seconds * 10**9 + fox.timestamp.nanos == d[5] == message.publish_time
                assert fox.frame_id == d[6]
                expect = {"rgb8": "rgb8", "mono8": "mono8", "mono32f": "32FC1", "rgba8": "rgba8", "depth16": "16UC1",
                          "rgb32f": "32FC3", "bgra8": "bgra8", "mono16": "16UC1", "yuv422": "yuv422",
                          "bayer_rggb8": "bayer_rggb8", "bgr8": "bgr8", "float32": "32FC1", "uint16": "16UC1"}
                assert fox.encoding == expect[d[1]]
                assert md["horus.kind"] == d[0]
            elif d[0] == "PointCloud":
                assert schema.name == "foxglove.PointCloud"
                fox = FoxPointCloud.FromString(message.data)
                assert [f.name for f in fox.fields] == ["x", "y", "z", "intensity", "red", "green", "blue"]
                assert [f.offset for f in fox.fields] == list(range(0, 28, 4)) and fox.point_stride == 28
                assert sha(fox.data) == d[3] and fox.frame_id == d[5]
                assert len(fox.data) // fox.point_stride == 500
            elif d[0] == "TransformStamped":
                assert schema.name == "foxglove.FrameTransform"
                fox = FrameTransform.FromString(message.data)
                assert fox.parent_frame_id == "map" and fox.child_frame_id == f"base_{i}"
                assert fox.rotation.w == pytest.approx(math.cos(i / 10))
            elif d[0] == "Pose":
                assert schema.name == "foxglove.PoseInFrame"
                fox = PoseInFrame.FromString(message.data)
                assert fox.frame_id == "map" and fox.pose.position.x == float(i)
            elif d[0] == "Tensor":
                assert schema.name == "horus.Tensor" and schema.encoding == "protobuf"
                t = pb_class(schema).FromString(message.data)
                assert sha(t.data) == d[5] and list(t.shape)[: len(d[2])] == d[2] and t.dtype == d[1]
                assert (t.record_type or None) == d[3]
            elif d[0] == "Data":
                assert (schema.name, schema.encoding, channel.message_encoding) == ("horus.Data", "jsonschema", "json")
                obj = json.loads(message.data)
                assert obj["i"] == i and obj["mode"] == "explore"
                assert obj["pose"]["values"] == [i, 2.0, 0.5]
            else:  # typed messages as JSON
                assert (schema.encoding, channel.message_encoding) == ("jsonschema", "json") and schema.name == d[0]
                obj = json.loads(message.data)
                schema_obj = json.loads(schema.data)
                assert set(obj) == set(schema_obj["required"]) == set(schema_obj["properties"])
                assert (obj["timestamp_ns"], obj["frame_id"]) == (d[3], d[4])
                assert md["horus.layout_hash"] == f"{int(d[1], 16):#018x}" and md["horus.type_name"] == d[0]
                if d[0] == "BatteryState":
                    assert obj["location"] == f"bay {i} ✓" and obj["cell_voltage"][:2] == pytest.approx([4.1, 4.15])
                if d[0] == "LaserScan":
                    assert obj["count"] == 1081 and len(obj["ranges"]) == 2048 and obj["ranges"][-1] == "Infinity"
                if d[0] == "Probe":
                    assert obj["samples"] == [[i, -i, 2**31 - 1], [0, 1, -(2**31)]] and obj["where"]["z"] == i
    assert seen == {t: len(v) for t, v in sent.items()}


def test_read_gives_back_exactly_what_was_sent(recording):
    path, sent, _ = recording
    got: dict[str, list] = {}
    for topic, msg in bag.read(path):
        got.setdefault(topic, []).append(norm(digest(msg)))
    assert got == norm(sent)


def test_read_selected_topics_and_ml_use(recording):
    path, sent, _ = recording
    frames = [(t, m) for t, m in bag.read(path, topics=["cam.rgb", "scan"])]
    assert {t for t, _ in frames} == {"cam.rgb", "scan"}
    assert len(frames) == 2 * N
    imgs = [m.to_numpy() for t, m in frames if t == "cam.rgb"]
    assert imgs[0].shape == (24, 32, 3) and imgs[0].dtype == np.uint8
    batch = np.stack([m.ranges[:1081] for t, m in frames if t == "scan"])
    assert batch.shape == (N, 1081) and np.isfinite(batch).all()
    with pytest.raises(ValueError, match="has no topic 'nope'; its topics: battery, cam.bayer"):
        bag.read(path, topics=["nope"])
    with pytest.raises(TypeError, match="list of topic names"):
        bag.read(path, topics="scan")


def test_info(recording):
    path, sent, stats = recording
    i = bag.info(path)
    assert i.path == path and i.size_bytes == os.path.getsize(path)
    assert i.messages == stats.messages and i.compression == "zstd" and i.chunks > 1
    assert 0.1 < i.duration_s < 30 and i.end_ns > i.start_ns > 0
    by = {t.name: t for t in i.topics}
    assert set(by) == set(ALL_TOPICS)
    assert {n: t.messages for n, t in by.items()} == {n: len(v) for n, v in sent.items()}
    assert (by["cam.rgb"].horus_type, by["cam.rgb"].schema_name) == ("Image", "foxglove.RawImage")
    assert (by["depth.mm"].horus_type, by["lidar"].schema_name) == ("DepthImage", "foxglove.PointCloud")
    assert (by["tf"].horus_type, by["tf"].schema_name) == ("TransformStamped", "foxglove.FrameTransform")
    assert (by["probe"].horus_type, by["probe"].message_encoding) == ("Probe", "json")
    assert by["probe"].layout_hash == f"{int(sent['probe'][0][1], 16):#018x}"
    assert by["detections"].horus_type == "Tensor[Detection2D]" and by["status"].horus_type == "Data"
    assert i.library.startswith("horus ") and i.recording["namespace"] == horus.namespace()
    d = i.as_dict()
    assert json.loads(json.dumps(d)) == d and d["duration_s"] == i.duration_s


# ---- playing ------------------------------------------------------------------------------------

SUBSCRIBER = DIGEST + PROBE + r'''
names = sys.argv[1].split(",")
expected = int(sys.argv[2])
subs = {n: horus.Topic(None, n) for n in names}
print("ready", flush=True)
got, t_end = 0, time.monotonic() + 60
while got < expected and time.monotonic() < t_end:
    idle = True
    for n, t in subs.items():
        m = t.try_recv()
        if m is not None:
            idle = False
            got += 1
            print("got", n, json.dumps(digest(m)), flush=True)
    if idle:
        time.sleep(0.0005)
print("drops", json.dumps({n: t.dropped for n, t in subs.items()}), flush=True)
print("done", flush=True)
'''


def test_play_republishes_exact_types_bytes_frames_and_timestamps(recording):
    path, sent, _ = recording
    total = sum(len(v) for v in sent.values())
    sub = Child.python(SUBSCRIBER, ",".join(ALL_TOPICS), str(total))
    try:
        sub.expect("ready")
        progress = []
        duration = bag.info(path).duration_s
        stats = bag.play(path, rate=2.0, progress=progress.append)
        got: dict[str, list] = {}
        while True:
            line = sub.expect("", timeout=60)
            if line.startswith("got "):
                _, topic, d = line.split(" ", 2)
                got.setdefault(topic, []).append(json.loads(d))
            elif line.startswith("drops "):
                assert set(json.loads(line[6:]).values()) == {0}
            elif line == "done":
                break
        assert sub.wait() == 0, sub.stderr
    finally:
        sub.kill()
    assert got == norm(sent)  # types (Probe's layout hash too), bytes, frame_id, timestamp_ns
    assert stats.messages == total and stats.loops == 1 and stats.skipped == {}
    assert stats.topics == {t: len(v) for t, v in sent.items()}
    # recorded timing at twice the speed (a loaded machine may run late, never early)
    assert stats.elapsed_s >= duration / 2 * 0.95
    assert stats.elapsed_s < duration / 2 + 2.0
    assert progress and progress[-1].messages == total


def log_times(path: str, topic: str) -> list[int]:
    with open(path, "rb") as f:
        return [m.log_time for _s, _c, m in make_reader(f).iter_messages(topics=[topic])]


def test_play_start_and_topics(recording):
    path, sent, _ = recording
    first = bag.info(path).start_ns
    times = log_times(path, "cmd_vel")
    start = (times[5] - first) / 1e9
    stats = bag.play(path, topics=["cmd_vel", "probe"], start=start, rate=50.0)
    assert set(stats.topics) <= {"cmd_vel", "probe"}
    assert stats.topics["cmd_vel"] == sum(1 for t in times if t >= first + round(start * 1e9)) >= 4
    last = max(log_times(path, "probe")[-1], times[-1])
    assert stats.position_s == pytest.approx((last - first) / 1e9)


def test_play_loop_until_stopped(recording):
    path, sent, _ = recording
    stop = threading.Event()
    timer = threading.Timer(1.5, stop.set)
    timer.start()
    try:
        stats = bag.play(path, topics=["cmd_vel"], rate=20.0, loop=True, stop=stop)
    finally:
        timer.cancel()
    assert stats.loops >= 2
    assert stats.messages >= stats.loops * N and stats.topics["cmd_vel"] == stats.messages


def test_play_bad_arguments(recording):
    path, _, _ = recording
    for rate in (0, -1.0, float("nan"), float("inf"), "fast", True):
        with pytest.raises(ValueError, match=r"rate=.* must be a finite number > 0"):
            bag.play(path, rate=rate)
    for start in (-0.5, float("nan"), "1"):
        with pytest.raises(ValueError, match=r"start=.* must be a finite number >= 0"):
            bag.play(path, start=start)
    with pytest.raises(ValueError, match=r"start=1e\+06 s is past the end of .* \(it lasts"):
        bag.play(path, start=1e6)
    with pytest.raises(ValueError, match="has no topic 'missing'"):
        bag.play(path, topics=["missing"])


# ---- other compressions, all_topics, drops ---------------------------------------------------------


@pytest.mark.parametrize("compression,stored", [("lz4", "lz4"), (None, ""), ("none", "")])
def test_lz4_and_uncompressed_recordings(tmp_path, compression, stored):
    path = str(tmp_path / "c.mcap")
    cam, cmd = horus.Topic(horus.Image, "comp.cam"), horus.Topic(horus.CmdVel, "comp.cmd")
    with bag.Recorder(path, ["comp.cam", "comp.cmd"], compression=compression, chunk_size=4096) as rec:
        for i in range(5):
            img = horus.Image.from_numpy(np.full((16, 16, 3), i, np.uint8))
            img.set_timestamp_ns(i + 1)
            cam.send(img)
            cmd.send(horus.CmdVel(linear=float(i), angular=0.5))
            time.sleep(0.01)
        deadline = time.monotonic() + 5
        while rec.stats.messages < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
    del cam, cmd, img
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    assert {ci.compression for ci in summary.chunk_indexes} == {stored}
    assert bag.info(path).compression == (stored or "none")
    got = list(bag.read(path))
    assert [m.timestamp_ns for t, m in got if t == "comp.cam"] == [1, 2, 3, 4, 5]
    assert [m.linear for t, m in got if t == "comp.cmd"] == [0.0, 1.0, 2.0, 3.0, 4.0]


LATE = r'''
import sys, time, horus
assert sys.stdin.readline().strip() == "go"
t = horus.Topic(horus.CmdVel, sys.argv[1])
time.sleep(1.0)
for i in range(4):
    t.send(horus.CmdVel(linear=float(i), angular=0.0))
print("done", flush=True)
sys.stdin.readline()
'''


def test_all_topics_records_topics_that_appear_later(tmp_path):
    path = str(tmp_path / "all.mcap")
    early = horus.Topic(horus.CmdVel, "all.early")
    child = Child.python(LATE, "all.later", stdin=True)
    try:
        with bag.Recorder(path, all_topics=True) as rec:
            assert "all.early" in rec.subscribed and "all.later" not in rec.subscribed
            early.send(horus.CmdVel(linear=9.0, angular=0.0))
            child.send_line("go")
            child.expect("done")
            deadline = time.monotonic() + 5
            while rec.stats.topics.get("all.later", bag.TopicStats()).messages < 4 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert "all.later" in rec.subscribed
        child.send_line("exit")
        child.wait()
    finally:
        child.kill()
    got = [(t, m.linear) for t, m in bag.read(path) if t.startswith("all.")]
    assert ("all.early", 9.0) in got
    assert [v for t, v in got if t == "all.later"] == [0.0, 1.0, 2.0, 3.0]


BURST = r'''
import sys, time, numpy as np, horus
t = horus.Topic(horus.Image, "burst.cam")
print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
t0 = time.perf_counter()
for i in range(60):
    img = horus.Image.from_numpy(np.full((32, 32, 3), i % 256, np.uint8))
    img.set_timestamp_ns(i)
    t.send(img)
print("sent", 60, time.perf_counter() - t0, flush=True)
sys.stdin.readline()
'''


def test_a_recorder_that_falls_behind_counts_drops_and_publishers_never_wait(tmp_path, monkeypatch):
    import horus.bag._record as record_module

    real = record_module.encode

    def slow_encode(msg):
        time.sleep(0.02)  # a recorder far too slow for the burst
        return real(msg)

    monkeypatch.setattr(record_module, "encode", slow_encode)
    path = str(tmp_path / "slow.mcap")
    child = Child.python(BURST, stdin=True)
    try:
        child.expect("ready")
        rec = bag.Recorder(path, ["burst.cam"]).start()
        child.send_line("go")
        _, n, secs = child.expect("sent").split()
        time.sleep(0.5)
        stats = rec.stop()
        child.send_line("exit")
        child.wait()
    finally:
        child.kill()
    t = stats.topics["burst.cam"]
    assert float(secs) < 60 * 0.02 / 2  # the publisher did not wait for the 20 ms per message recorder
    assert t.drops > 0 and t.messages + t.drops == int(n) == 60
    assert stats.drops == t.drops
    stamps = [m.timestamp_ns for _t, m in bag.read(path)]
    assert stamps == sorted(stamps) and len(stamps) == t.messages


def test_record_function_with_duration_and_progress(tmp_path):
    path = str(tmp_path / "rec.mcap")
    pub = horus.Topic(horus.CmdVel, "recfn.cmd")
    stop_sending = threading.Event()

    def send():
        while not stop_sending.is_set():
            pub.send(horus.CmdVel(linear=1.0, angular=2.0))
            time.sleep(0.01)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        seen = []
        t0 = time.monotonic()
        stats = bag.record(path, ["recfn.cmd"], duration=1.2, compression="lz4", progress=seen.append)
        took = time.monotonic() - t0
    finally:
        stop_sending.set()
        sender.join()
    assert 1.2 <= took < 3.0
    assert len(seen) >= 2 and seen[-1] is stats and stats.compression == "lz4"
    assert stats.topics["recfn.cmd"].messages > 20 and stats.elapsed_s >= 1.2
    assert bag.info(path).topics[0].messages == stats.topics["recfn.cmd"].messages

    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    bag.record(str(tmp_path / "stopped.mcap"), ["recfn.none"], stop=stop)
    assert time.monotonic() - t0 < 2.0
    assert bag.info(str(tmp_path / "stopped.mcap")).messages == 0


# ---- errors -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    p = str(tmp_path / "nothing.mcap")
    for f in (bag.info, bag.read, bag.play):
        with pytest.raises(BagError, match=f"^{p}: no such file$"):
            f(p)


def test_a_file_that_is_not_mcap(tmp_path):
    p = tmp_path / "notes.mcap"
    p.write_text("these are not the bytes you are looking for\n")
    for f in (bag.info, bag.read, bag.play):
        with pytest.raises(BagError, match=r"notes.mcap: is not an MCAP file \(it starts with b'these ar'"):
            f(str(p))
    (tmp_path / "empty.mcap").write_bytes(b"")
    with pytest.raises(BagError, match="empty.mcap: is empty, not an MCAP file"):
        bag.info(str(tmp_path / "empty.mcap"))
    with pytest.raises(BagError, match="is a directory"):
        bag.info(str(tmp_path))


def test_truncated_file(recording, tmp_path):
    path, _, _ = recording
    data = Path(path).read_bytes()
    for cut in (len(data) // 2, len(data) - 3, 20):
        p = tmp_path / f"cut{cut}.mcap"
        p.write_bytes(data[:cut])
        for f in (bag.info, bag.read, bag.play):
            with pytest.raises(BagError, match=rf"cut{cut}.mcap: is truncated \({cut} bytes\): it ends without"):
                f(str(p))


def test_corrupt_chunk_and_corrupt_summary(recording, tmp_path):
    path, _, _ = recording
    data = bytearray(Path(path).read_bytes())
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    ci = summary.chunk_indexes[1]
    bad = bytearray(data)
    mid = ci.chunk_start_offset + ci.chunk_length // 2
    bad[mid : mid + 16] = bytes(16)
    p = tmp_path / "bad_chunk.mcap"
    p.write_bytes(bad)
    bag.info(str(p))  # the summary is intact
    with pytest.raises(BagError, match=r"bad_chunk.mcap: corrupt data after \d+ messages: "):
        for _ in bag.read(str(p)):
            pass
    with pytest.raises(BagError, match="bad_chunk.mcap: corrupt data"):
        bag.play(str(p), rate=1000.0)

    footer = len(data) - 8 - 29  # the Footer record: opcode, length, summary_start, ...
    bad = bytearray(data)
    bad[footer + 9 : footer + 17] = (len(data) - 40).to_bytes(8, "little")  # summary_start into the footer
    p = tmp_path / "bad_summary.mcap"
    p.write_bytes(bad)
    with pytest.raises(BagError, match="bad_summary.mcap: its footer or summary section is corrupt: "):
        bag.info(str(p))


def test_uncompressed_chunk_with_flipped_pixels_fails_its_crc(tmp_path):
    path = str(tmp_path / "raw.mcap")
    cam = horus.Topic(horus.Image, "crc.cam")
    with bag.Recorder(path, ["crc.cam"], compression=None) as rec:
        img = horus.Image.from_numpy(np.full((64, 64, 3), 7, np.uint8))
        cam.send(img)
        deadline = time.monotonic() + 5
        while rec.stats.messages < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    del cam, img
    data = bytearray(Path(path).read_bytes())
    at = data.index(bytes([7]) * 1000)
    data[at + 500] = 8
    Path(path).write_bytes(data)
    with pytest.raises(BagError, match="corrupt data at its first message: .*crc"):
        list(bag.read(path))


def test_unwritable_output_path(tmp_path):
    for p, match in ((tmp_path / "no_such_dir" / "x.mcap", "No such file or directory"),
                     (tmp_path, "Is a directory")):
        with pytest.raises(BagError, match=rf"^{p}: cannot write: {match}"):
            bag.Recorder(str(p), ["a"]).start()
        with pytest.raises(BagError, match="cannot write"):
            bag.record(str(p), ["a"], duration=0.1)
    if os.geteuid() != 0:  # pragma: no cover (root may write anywhere)
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(BagError, match="Permission denied"):
            bag.Recorder(str(ro / "x.mcap"), ["a"]).start()


def test_bad_recorder_arguments(tmp_path):
    p = str(tmp_path / "x.mcap")
    with pytest.raises(ValueError, match=r"compression='gzip' is not supported; use 'zstd', 'lz4' or None"):
        bag.Recorder(p, ["a"], compression="gzip")
    with pytest.raises(ValueError, match="name the topics to record, or pass all_topics=True"):
        bag.Recorder(p)
    with pytest.raises(ValueError, match=r"topic name 'bad name!' is invalid"):
        bag.Recorder(p, ["bad name!"])
    with pytest.raises(TypeError, match="got the string 'cam'"):
        bag.Recorder(p, "cam")
    with pytest.raises(ValueError, match="chunk_size=10 must be an int of 1024"):
        bag.Recorder(p, ["a"], chunk_size=10)
    for duration in (0, -1, float("nan"), "5"):
        with pytest.raises(ValueError, match=r"duration=.* must be a number of seconds > 0"):
            bag.record(p, ["a"], duration=duration)
    with pytest.raises(ValueError, match="compression='bz2'"):
        bag.record(p, ["a"], duration=1, compression="bz2")
    assert not os.path.exists(p)  # nothing was created by refused arguments
    rec = bag.Recorder(p, ["a"]).start()
    with pytest.raises(RuntimeError, match="already started"):
        rec.start()
    rec.stop()
    assert rec.stop() is rec.stop()  # idempotent


def test_bag_error_is_a_horus_error():
    assert issubclass(BagError, horus.HorusError)


def write_foreign(path: str, summary: bool) -> None:
    """A file another program wrote: a Foxglove RawImage channel without horus metadata, and
    a ROS 1 channel horus cannot convert; with or without a summary section."""
    from mcap.writer import CompressionType, IndexType, Writer

    from horus import _foxglove as fx

    with open(path, "wb") as f:
        kw = {} if summary else dict(index_types=IndexType.NONE, repeat_channels=False, repeat_schemas=False,
                                     use_statistics=False, use_summary_offsets=False)
        w = Writer(f, compression=CompressionType.NONE, **kw)
        w.start()
        img = fx.channel_schema(horus.Image(2, 2))
        cam = w.register_channel("cam", "protobuf", w.register_schema(img.schema_name, "protobuf", img.schema_data))
        ros = w.register_channel("ros", "ros1", w.register_schema("sensor_msgs/Image", "ros1msg", b"uint32 height"))
        for i in range(3):
            fox = RawImage(width=2, height=2, encoding="mono8", step=2, data=bytes([i] * 4), frame_id="foreign")
            fox.timestamp.nanos = i
            w.add_message(cam, log_time=1000 + i, data=fox.SerializeToString(), publish_time=i)
            w.add_message(ros, log_time=1000 + i, data=b"\x00" * 8, publish_time=i)
        w.finish()


@pytest.mark.parametrize("summary", [True, False])
def test_foreign_file_channels_that_cannot_be_converted(tmp_path, summary):
    path = str(tmp_path / "foreign.mcap")
    write_foreign(path, summary)
    i = bag.info(path)
    assert i.messages == 6 and {t.name: t.messages for t in i.topics} == {"cam": 3, "ros": 3}
    assert {t.name: t.horus_type for t in i.topics} == {"cam": "Image", "ros": ""}
    assert (i.start_ns, i.end_ns) == (1000, 1002)
    got = [(t, m.timestamp_ns, m.frame_id, bytes(m.to_numpy())) for t, m in bag.read(path, topics=["cam"])]
    assert got == [("cam", k, "foreign", bytes([k] * 4)) for k in range(3)]
    with pytest.raises(BagError, match=r"topic 'ros', message at log time 1000: no horus message for schema "
                                       r"'sensor_msgs/Image' with message encoding 'ros1'.*topics=\[\.\.\.\]"):
        list(bag.read(path))
    stats = bag.play(path, rate=100.0)
    assert stats.topics == {"cam": 3} and set(stats.skipped) == {"ros"}
    assert "sensor_msgs/Image" in stats.skipped["ros"]


# ---- paths that are not regular files, summaries and indexes that lie, argument types -----------


def _in_thread(fn, timeout: float = 5.0):
    """fn()'s exception (None if it returned); fails the test if it blocks."""
    out: list = []

    def run():
        try:
            fn()
            out.append(None)
        except BaseException as e:  # noqa: BLE001
            out.append(e)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(timeout)
    assert out, f"{fn} blocked"
    return out[0]


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = str(tmp_path / "pipe.mcap")
    os.mkfifo(fifo)
    for fn in (lambda: bag.info(fifo), lambda: bag.read(fifo), lambda: bag.play(fifo)):
        e = _in_thread(fn)
        assert isinstance(e, BagError) and str(e).startswith(f"{fifo}: is a named pipe (FIFO), not an MCAP file"), e
    e = _in_thread(lambda: bag.Recorder(fifo, ["a"]).start())
    assert isinstance(e, BagError) and str(e).startswith(f"{fifo}: cannot write: Is a named pipe (FIFO)"), e
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # with a reader, open() would succeed: still refused
    try:
        e = _in_thread(lambda: bag.Recorder(fifo, ["a"]).start())
        assert isinstance(e, BagError) and "named pipe" in str(e), e
    finally:
        os.close(reader)


def test_recording_to_a_character_device_works(tmp_path):
    stats = bag.Recorder("/dev/null", ["devnull.x"]).start().stop()
    assert stats.messages == 0 and stats.path == "/dev/null"


def _small_recording(path: str, n: int = 300, summary: bool = True) -> None:
    from mcap.writer import CompressionType, IndexType, Writer

    from horus import _foxglove as fx

    cs = fx.channel_schema({"i": 0})
    kw = {} if summary else dict(index_types=IndexType.NONE, repeat_channels=False, repeat_schemas=False,
                                 use_statistics=False, use_summary_offsets=False)
    with open(path, "wb") as f:
        w = Writer(f, compression=CompressionType.NONE, chunk_size=2048, **kw)
        w.start()
        ch = w.register_channel("idx", "json", w.register_schema(cs.schema_name, cs.schema_encoding, cs.schema_data),
                                cs.metadata)
        for i in range(n):
            payload = json.dumps({"i": i, "pad": "x" * 40}, separators=(",", ":")).encode()
            w.add_message(ch, log_time=1000 + i, data=payload, publish_time=i)
        w.finish()


def test_a_chunk_index_that_disagrees_with_its_chunk_is_refused_even_without_a_summary_crc(tmp_path):
    path = str(tmp_path / "idx.mcap")
    _small_recording(path)
    data = bytearray(Path(path).read_bytes())
    assert [m["i"] for _, m in bag.read(path)] == list(range(300))
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    assert len(summary.chunk_indexes) >= 3
    summary_start = int.from_bytes(data[len(data) - 37 + 9:len(data) - 37 + 17], "little")
    pos = summary_start
    while data[pos] != 0x08:  # the first ChunkIndex record
        pos += 9 + int.from_bytes(data[pos + 1:pos + 9], "little")
    data[pos + 9:pos + 17] = (10**6).to_bytes(8, "little")  # its message_start_time
    data[len(data) - 12:len(data) - 8] = bytes(4)  # summary_crc 0: "not computed"
    bad = tmp_path / "idx_bad.mcap"
    bad.write_bytes(data)
    for fn in (bag.info, bag.read, bag.play):
        with pytest.raises(BagError, match=r"idx_bad.mcap: its summary section is corrupt: chunk index 0 .* "
                                           r"disagrees with the chunk: message_start_time 1000000 in the index, 1000"):
            fn(str(bad))


def test_a_file_without_a_summary_has_its_chunk_crcs_checked(tmp_path):
    path = str(tmp_path / "nosummary.mcap")
    _small_recording(path, summary=False)
    assert [m["i"] for _, m in bag.read(path)] == list(range(300))
    data = bytearray(Path(path).read_bytes())
    at = data.index(b'{"i":150,')
    data[at + 5] = ord("7")  # still valid JSON: only the chunk's CRC can tell
    bad = tmp_path / "nosummary_bad.mcap"
    bad.write_bytes(data)
    with pytest.raises(BagError, match=r"nosummary_bad.mcap: corrupt data after \d+ messages: .*crc"):
        list(bag.read(str(bad)))


def test_arguments_of_the_wrong_type_are_type_errors_naming_them(tmp_path):
    p = str(tmp_path / "one.mcap")
    _small_recording(p, n=3)
    for fn, match in ((lambda: bag.play(p, progress=5), "progress must be a callable taking PlayStats"),
                      (lambda: bag.record(p + "x", ["a"], progress="x"), "progress must be a callable taking Rec"),
                      (lambda: bag.play(p, stop=True), "stop must be a threading.Event .*; got True"),
                      (lambda: bag.record(p + "x", ["a"], stop=1.5), "stop must be a threading.Event .*; got 1.5"),
                      (lambda: bag.read(p, topics=5), "topics must be a list of topic names; got 5"),
                      (lambda: bag.read(p, topics=[b"idx"]), r"got b'idx' in \[b'idx'\]"),
                      (lambda: bag.Recorder(p + "x", 5), "topics must be a list of topic names; got 5")):
        with pytest.raises(TypeError, match=match):
            fn()
    assert not os.path.exists(p + "x")
