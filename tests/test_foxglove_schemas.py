"""horus._foxglove: the conversion between horus messages and Foxglove's schemas.

Checked against Foxglove's own protobuf classes (foxglove_schemas_protobuf): what horus
writes parses with them (and is byte-for-byte what they serialize), what they write
decodes back to horus messages, and every message survives encode -> decode exactly
(type, layout hash, bytes, frame_id, timestamp_ns).
"""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
import textwrap

import msgpack
import numpy as np
import pytest
from foxglove_schemas_protobuf.FrameTransform_pb2 import FrameTransform
from foxglove_schemas_protobuf.PackedElementField_pb2 import PackedElementField
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud as FoxPointCloud
from foxglove_schemas_protobuf.PoseInFrame_pb2 import PoseInFrame
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

import horus
from horus import _foxglove as fx
from horus._foxglove import ConversionError

TS = 1_700_000_000_123_456_789


def roundtrip(msg: object) -> object:
    cs = fx.channel_schema(msg)
    return fx.decode(cs.schema_name, cs.message_encoding, cs.metadata, fx.encode(msg))


def class_from_schema(cs: fx.ChannelSchema):
    """The message class a generic MCAP reader builds from the channel's schema data."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(cs.schema_data)
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(cs.schema_name))


def stamped(msg, frame_id="sensor", ts=TS):
    msg.set_frame_id(frame_id)
    msg.set_timestamp_ns(ts)
    return msg


# ---- images ---------------------------------------------------------------------------------

FOXGLOVE_ENCODING = {
    "rgb8": "rgb8", "bgr8": "bgr8", "rgba8": "rgba8", "bgra8": "bgra8", "mono8": "mono8", "mono16": "16UC1",
    "mono32f": "32FC1", "rgb32f": "32FC3", "yuv422": "yuv422", "bayer_rggb8": "bayer_rggb8", "depth16": "16UC1",
}


def test_every_horus_encoding_is_mapped():
    assert set(FOXGLOVE_ENCODING) == set(horus.ENCODINGS)


@pytest.mark.parametrize("encoding", sorted(horus.ENCODINGS))
def test_image_encodes_as_foxglove_raw_image_and_back(encoding):
    channels, bpp, dtype = horus.ENCODINGS[encoding]
    h, w = 5, 6
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, h * w * bpp, dtype=np.uint8).tobytes()
    img = stamped(horus.Image.from_bytes(raw, h, w, encoding), "camera_front")
    cs = fx.channel_schema(img)
    assert (cs.schema_name, cs.schema_encoding, cs.message_encoding) == ("foxglove.RawImage", "protobuf", "protobuf")
    assert cs.metadata["horus.kind"] == "Image" and cs.metadata["horus.encoding"] == encoding
    data = fx.encode(img)
    fox = RawImage.FromString(data)
    assert (fox.width, fox.height, fox.step) == (w, h, w * bpp)
    assert fox.encoding == FOXGLOVE_ENCODING[encoding]
    assert fox.frame_id == "camera_front"
    assert fox.timestamp.seconds * 10**9 + fox.timestamp.nanos == TS
    assert fox.data == raw
    back = fx.decode(cs.schema_name, cs.message_encoding, cs.metadata, data)
    assert isinstance(back, horus.Image)
    assert (back.encoding, back.height, back.width, back.frame_id, back.timestamp_ns) == (encoding, h, w,
                                                                                        "camera_front", TS)
    assert bytes(back.to_numpy()) == raw


def test_image_bytes_are_what_foxglove_serializes():
    img = stamped(horus.Image.from_numpy(np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3), "rgb8"))
    data = fx.encode(img)
    assert RawImage.FromString(data).SerializeToString() == data


def test_depth16_image_keeps_its_encoding_through_the_extension_field():
    img = horus.Image.from_bytes(bytes(range(8)), 2, 2, "depth16")
    data = fx.encode(img)
    fox = RawImage.FromString(data)
    assert fox.encoding == "16UC1"  # what Foxglove shows
    assert fx.decode("foxglove.RawImage", "protobuf", {"horus.kind": "Image"}, data).encoding == "depth16"
    mono = fx.encode(horus.Image.from_bytes(bytes(range(8)), 2, 2, "mono16"))
    assert fx.decode("foxglove.RawImage", "protobuf", {}, mono).encoding == "mono16"


def test_raw_image_written_by_foxglove_decodes_with_row_padding_removed():
    pixels = np.arange(3 * 4 * 3, dtype=np.uint8).reshape(3, 4, 3)
    padded = np.zeros((3, 16), np.uint8)
    padded[:, :12] = pixels.reshape(3, 12)
    fox = RawImage(width=4, height=3, encoding="bgr8", step=16, data=padded.tobytes(), frame_id="f")
    fox.timestamp.seconds, fox.timestamp.nanos = 12, 34
    img = fx.decode("foxglove.RawImage", "protobuf", {}, fox.SerializeToString())
    assert img.encoding == "bgr8" and img.timestamp_ns == 12_000_000_034 and img.frame_id == "f"
    assert np.array_equal(img.to_numpy(), pixels)


@pytest.mark.parametrize("foxglove,horus_encoding", [("8UC1", "mono8"), ("uyvy", "yuv422"), ("mono16", "mono16")])
def test_foxglove_aliases_decode(foxglove, horus_encoding):
    bpp = horus.ENCODINGS[horus_encoding][1]
    fox = RawImage(width=2, height=2, encoding=foxglove, step=2 * bpp, data=bytes(4 * bpp))
    assert fx.decode("foxglove.RawImage", "protobuf", {}, fox.SerializeToString()).encoding == horus_encoding


@pytest.mark.parametrize("foxglove", ["yuyv", "bayer_bggr8", "8UC3", "nv12", ""])
def test_encodings_without_a_horus_equivalent_are_refused(foxglove):
    fox = RawImage(width=2, height=2, encoding=foxglove, step=4, data=bytes(8))
    with pytest.raises(ConversionError, match="has no horus equivalent"):
        fx.decode("foxglove.RawImage", "protobuf", {}, fox.SerializeToString())


def test_raw_image_with_too_little_data_or_a_short_step_is_refused():
    short = RawImage(width=4, height=4, encoding="mono8", step=4, data=bytes(15)).SerializeToString()
    with pytest.raises(ConversionError, match="15 bytes of data"):
        fx.decode("foxglove.RawImage", "protobuf", {}, short)
    step = RawImage(width=4, height=4, encoding="rgb8", step=4, data=bytes(48)).SerializeToString()
    with pytest.raises(ConversionError, match="step 4 is less than"):
        fx.decode("foxglove.RawImage", "protobuf", {}, step)


@pytest.mark.parametrize("dtype,encoding", [("float32", "32FC1"), ("uint16", "16UC1")])
def test_depth_image_both_kinds(dtype, encoding):
    a = (np.arange(12).reshape(3, 4) * 7).astype(dtype)
    if dtype == "float32":
        a[0, 0] = np.nan
        a[0, 1] = np.inf
    d = stamped(horus.DepthImage.from_numpy(a), "depth")
    cs = fx.channel_schema(d)
    assert cs.schema_name == "foxglove.RawImage" and cs.metadata["horus.kind"] == "DepthImage"
    fox = RawImage.FromString(fx.encode(d))
    assert (fox.encoding, fox.width, fox.height, fox.step) == (encoding, 4, 3, 4 * a.itemsize)
    assert fox.data == a.tobytes()
    back = roundtrip(d)
    assert isinstance(back, horus.DepthImage) and back.dtype == dtype
    assert back.to_numpy().tobytes() == a.tobytes()
    assert (back.frame_id, back.timestamp_ns) == ("depth", TS)


# ---- point clouds ---------------------------------------------------------------------------


@pytest.mark.parametrize("fields,names", [
    (3, ["x", "y", "z"]),
    (4, ["x", "y", "z", "intensity"]),
    (6, ["x", "y", "z", "red", "green", "blue"]),
    (7, ["x", "y", "z", "intensity", "red", "green", "blue"]),
    (9, ["x", "y", "z", "intensity", "red", "green", "blue", "f7", "f8"]),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_point_cloud_fields(fields, names, dtype):
    pts = np.random.default_rng(2).random((50, fields)).astype(dtype)
    c = stamped(horus.PointCloud.from_numpy(pts), "lidar")
    cs = fx.channel_schema(c)
    assert (cs.schema_name, cs.metadata["horus.kind"]) == ("foxglove.PointCloud", "PointCloud")
    data = fx.encode(c)
    fox = FoxPointCloud.FromString(data)
    size = np.dtype(dtype).itemsize
    kind = PackedElementField.FLOAT32 if size == 4 else PackedElementField.FLOAT64
    assert [(f.name, f.offset, f.type) for f in fox.fields] == [(n, i * size, kind) for i, n in enumerate(names)]
    assert fox.point_stride == fields * size
    assert fox.data == pts.tobytes()
    assert fox.frame_id == "lidar"
    assert fox.pose.orientation.w == 1.0  # identity pose
    assert fox.SerializeToString() == data
    back = roundtrip(c)
    assert isinstance(back, horus.PointCloud) and back.dtype == dtype
    assert back.to_numpy().tobytes() == pts.tobytes()
    assert (back.frame_id, back.timestamp_ns) == ("lidar", TS)


def test_float16_cloud_is_float32_in_the_file_and_float16_again_when_read():
    pts = np.array([[1.5, -2.25, 65504.0], [np.nan, np.inf, 0.0009765625]], np.float16)
    c = horus.PointCloud.from_numpy(pts)
    fox = FoxPointCloud.FromString(fx.encode(c))
    assert {f.type for f in fox.fields} == {PackedElementField.FLOAT32}
    assert np.frombuffer(fox.data, np.float32).reshape(2, 3).astype(np.float16).tobytes() == pts.tobytes()
    back = roundtrip(c)
    assert back.dtype == "float16" and back.to_numpy().tobytes() == pts.tobytes()


def test_foreign_cloud_with_packed_rgb_is_refused_with_its_fields():
    fox = FoxPointCloud(point_stride=16, data=bytes(32))
    for name, off, t in (("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("rgb", 12, 5)):
        fox.fields.add(name=name, offset=off, type=t)
    with pytest.raises(ConversionError, match="float32 or float64 fields of one type"):
        fx.decode("foxglove.PointCloud", "protobuf", {}, fox.SerializeToString())


def test_foreign_cloud_of_float_fields_decodes():
    fox = FoxPointCloud(point_stride=12, data=np.arange(6, dtype=np.float32).tobytes(), frame_id="velodyne")
    for i, name in enumerate("xyz"):
        fox.fields.add(name=name, offset=4 * i, type=PackedElementField.FLOAT32)
    c = fx.decode("foxglove.PointCloud", "protobuf", {}, fox.SerializeToString())
    assert c.point_count == 2 and c.frame_id == "velodyne"
    assert np.array_equal(c.to_numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))


# ---- TransformStamped and Pose ---------------------------------------------------------------


def test_transform_stamped_is_a_frame_transform():
    t = horus.TransformStamped(parent_frame="map", child_frame="base_link",
                               transform={"translation": {"x": 1.5, "y": -2.0, "z": 1e-300},
                                          "rotation": {"x": 0.0, "y": 0.0, "z": math.sin(0.3), "w": math.cos(0.3)}},
                               timestamp_ns=TS, frame_id="odom")
    cs = fx.channel_schema(t)
    assert (cs.schema_name, cs.message_encoding) == ("foxglove.FrameTransform", "protobuf")
    assert cs.metadata["horus.layout_hash"] == f"{horus.TransformStamped.layout_hash:#018x}"
    fox = FrameTransform.FromString(fx.encode(t))
    assert (fox.parent_frame_id, fox.child_frame_id) == ("map", "base_link")
    assert (fox.translation.x, fox.translation.y, fox.translation.z) == (1.5, -2.0, 1e-300)
    assert (fox.rotation.z, fox.rotation.w) == (math.sin(0.3), math.cos(0.3))
    assert fox.timestamp.seconds * 10**9 + fox.timestamp.nanos == TS
    back = roundtrip(t)
    assert type(back) is horus.TransformStamped and bytes(back) == bytes(t)
    assert (back.frame_id, back.timestamp_ns) == ("odom", TS)  # frame_id through the extension field


def test_frame_transform_written_by_foxglove_decodes():
    fox = FrameTransform(parent_frame_id="world", child_frame_id="cam")
    fox.translation.x, fox.rotation.w = 3.0, 1.0
    fox.timestamp.seconds = 5
    t = fx.decode("foxglove.FrameTransform", "protobuf", {}, fox.SerializeToString())
    assert type(t) is horus.TransformStamped
    assert (t.parent_frame, t.child_frame, t.transform.translation.x, t.transform.rotation.w) == ("world", "cam", 3, 1)
    assert t.timestamp_ns == 5 * 10**9 and t.frame_id == ""


def test_pose_is_a_pose_in_frame():
    p = horus.Pose(position={"x": 1.0, "y": 2.0, "z": -0.0}, orientation={"w": 1.0, "x": 1e-17},
                   timestamp_ns=TS, frame_id="map")
    cs = fx.channel_schema(p)
    assert cs.schema_name == "foxglove.PoseInFrame"
    data = fx.encode(p)
    fox = PoseInFrame.FromString(data)
    assert fox.frame_id == "map" and fox.pose.position.y == 2.0 and fox.pose.orientation.x == 1e-17
    assert math.copysign(1, fox.pose.position.z) == -1  # -0.0 is kept
    back = roundtrip(p)
    assert type(back) is horus.Pose and bytes(back) == bytes(p) and back.frame_id == "map"


# ---- typed messages as JSON ---------------------------------------------------------------------


def test_typed_message_json_and_its_schema():
    b = horus.BatteryState(voltage=12.4, current=-1.5, cell_count=3, present=True, location="slot α",
                           serial_number="x" * 32, timestamp_ns=TS, frame_id="battery")
    b.cell_voltage[:3] = (4.1, 4.2, float("nan"))
    b.cell_temperature[0] = float("-inf")
    cs = fx.channel_schema(b)
    assert (cs.schema_name, cs.schema_encoding, cs.message_encoding) == ("BatteryState", "jsonschema", "json")
    schema = json.loads(cs.schema_data)
    assert schema["properties"]["location"] == {"type": "string", "maxLength": 32,
                                                "description": "UTF-8 text of at most 32 bytes"}
    assert schema["properties"]["cell_voltage"]["minItems"] == schema["properties"]["cell_voltage"]["maxItems"] == 16
    assert schema["properties"]["power_supply_status"]["maximum"] == 255
    assert schema["properties"]["present"] == {"type": "boolean"}
    assert set(schema["required"]) == set(horus.BatteryState.fields) | {"timestamp_ns", "frame_id"}
    text = fx.encode(b)
    obj = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert obj["cell_voltage"][2] == "NaN" and obj["cell_temperature"][0] == "-Infinity"
    assert obj["location"] == "slot α" and obj["timestamp_ns"] == TS and obj["frame_id"] == "battery"
    back = roundtrip(b)
    assert type(back) is horus.BatteryState and bytes(back) == bytes(b)
    assert (back.timestamp_ns, back.frame_id) == (TS, "battery")


def test_floats_and_integers_survive_json_exactly():
    @horus.message
    class Extremes:
        f16: np.float16
        f32: horus.array(np.float32, 6)
        f64: horus.array(np.float64, 4)
        u64: np.uint64
        i64: np.int64
        grid: horus.array(np.float32, (2, 3))

    tiny32 = np.float32(1e-45)  # the smallest float32 subnormal
    m = Extremes(f16=np.float16(6.1e-05), u64=2**64 - 1, i64=-(2**63), timestamp_ns=2**64 - 1)
    m.f32[:] = (0.1, tiny32, np.finfo(np.float32).max, -0.0, np.nan, np.float32(1 / 3))
    m.f64[:] = (0.1, 5e-324, -np.inf, np.finfo(np.float64).max)
    m.grid[:] = [[np.nan, 1, 2], [3, np.inf, 5]]
    back = roundtrip(m)
    assert bytes(back) == bytes(m)  # every bit of every float, NaN included
    assert back.u64 == 2**64 - 1 and back.i64 == -(2**63) and back.timestamp_ns == 2**64 - 1


def test_string_arrays_and_nested_messages():
    j = horus.JointState(count=2, name=["shoulder", "elbow ü"] + [""] * 30, timestamp_ns=3)
    j.position[:2] = (0.5, -1.25)
    assert bytes(roundtrip(j)) == bytes(j)
    o = horus.Odometry(child_frame_id="base_link")
    o.pose.position.x = 1.0
    o.pose_covariance[5, 5] = 0.25
    back = roundtrip(o)
    assert type(back) is horus.Odometry and bytes(back) == bytes(o)
    schema = json.loads(fx.channel_schema(o).schema_data)
    pose = schema["properties"]["pose"]
    assert pose["type"] == "object" and pose["properties"]["position"]["properties"]["x"]["description"] == "float64"
    cov = schema["properties"]["pose_covariance"]
    assert cov["minItems"] == 6 and cov["items"]["minItems"] == 6
    assert "Pose#" in fx.channel_schema(o).metadata["horus.layouts"]


def test_small_typed_message_cmd_vel():
    c = horus.CmdVel(linear=0.5, angular=-0.25, timestamp_ns=7)
    assert json.loads(fx.encode(c)) == {"linear": 0.5, "angular": -0.25, "timestamp_ns": 7, "frame_id": ""}
    assert bytes(roundtrip(c)) == bytes(c)


def test_json_of_a_typed_message_with_a_bad_field_is_refused():
    md = fx.channel_schema(horus.CmdVel()).metadata
    for bad, match in ((b'{"linear": "fast"}', "not a valid CmdVel|float field"), (b"[1, 2]", "JSON object"),
                       (b"{not json", "not valid JSON"), (b'{"linear": 1, "sideways": 2}', "not a valid CmdVel")):
        with pytest.raises(ConversionError, match=match):
            fx.decode("CmdVel", "json", md, bad)


def test_typed_message_not_declared_in_the_reading_process_is_declared_from_the_layout(tmp_path):
    @horus.message
    class Gripper:
        width: np.float32
        force: horus.array(np.float64, 2)
        tool: horus.string(12)
        pose: horus.msg.Pose2D

    g = Gripper(width=0.04, force=[1.5, float("nan")], tool="parallel", pose={"x": 1.0, "theta": 0.5},
                timestamp_ns=11, frame_id="hand")
    cs = fx.channel_schema(g)
    (tmp_path / "msg.pkl").write_bytes(pickle.dumps((cs.schema_name, cs.message_encoding, cs.metadata, fx.encode(g))))
    code = textwrap.dedent(f"""
        import pickle, horus
        from horus import _foxglove as fx
        assert horus.record_class({Gripper.layout_hash}) is None
        name, enc, md, data = pickle.loads(open({str(tmp_path / "msg.pkl")!r}, "rb").read())
        m = fx.decode(name, enc, md, data)
        print(type(m).__name__, hex(m.layout_hash), bytes(m).hex(), m.timestamp_ns, m.frame_id)
        print(horus.record_class(m.layout_hash) is type(m))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0].split() == ["Gripper", hex(Gripper.layout_hash), bytes(g).hex(), "11", "hand"]
    assert lines[1] == "True"  # declared in that process: Topic(None, ...) receives it from now on


def test_recorded_layout_whose_hash_does_not_match_is_refused():
    md = dict(fx.channel_schema(horus.CmdVel()).metadata)
    md["horus.layout_text"] = "CmdVelX{linear:float32@0,angular:float32@4}8"
    md["horus.layout_hash"] = "0x0123456789abcdef"
    with pytest.raises(ConversionError, match="gives hash .* not the recorded 0x0123456789abcdef"):
        fx.decode("CmdVelX", "json", md, b'{"linear": 1, "angular": 2}')
    md["horus.layout_text"] = "Outer{inner:Inner#00000000000000ab@0}8"
    with pytest.raises(ConversionError, match="nested type Inner .* not declared"):
        fx.decode("Outer", "json", md, b"{}")
    with pytest.raises(ConversionError, match="not a hex number"):
        fx.decode("X", "json", {"horus.kind": "Record", "horus.layout_hash": "zz"}, b"{}")


def test_record_class_for_gives_the_declared_class():
    assert fx.record_class_for(horus.Imu.layout_text, horus.Imu.layout_hash) is horus.Imu


# ---- tensors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                                   "float16", "float32", "float64"])
def test_tensor_every_dtype(dtype):
    a = (np.arange(24) % 7).astype(dtype).reshape(2, 3, 4)
    t = stamped(horus.Tensor.from_numpy(a), "model")
    back = roundtrip(t)
    assert isinstance(back, horus.Tensor) and back.dtype == dtype and back.shape == (2, 3, 4)
    assert back.to_numpy().tobytes() == a.tobytes() and back.record_type is None
    assert (back.frame_id, back.timestamp_ns) == ("model", TS)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,) * 8, (5,)])
def test_tensor_shapes(shape):
    a = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    back = roundtrip(horus.Tensor.from_numpy(a))
    assert back.shape == shape and back.to_numpy().tobytes() == a.tobytes()


def test_tensor_schema_is_a_valid_file_descriptor_set_readers_can_use():
    t = stamped(horus.Tensor.from_numpy(np.arange(6, dtype=np.int16).reshape(2, 3)), "f")
    cs = fx.channel_schema(t)
    assert (cs.schema_name, cs.schema_encoding, cs.message_encoding) == ("horus.Tensor", "protobuf", "protobuf")
    msg = class_from_schema(cs).FromString(fx.encode(t))
    assert list(msg.shape) == [2, 3] and msg.dtype == "int16" and msg.frame_id == "f"
    assert msg.data == np.arange(6, dtype=np.int16).tobytes()
    assert msg.timestamp.seconds * 10**9 + msg.timestamp.nanos == TS
    assert msg.record_type == "" and msg.record_layout_hash == 0


def test_tensor_of_records():
    dets = np.zeros(4, dtype=horus.msg.Detection2D.dtype)
    dets["score"] = (0.9, 0.5, np.nan, 1.0)
    dets["class_id"] = (1, 2, 3, 2**32 - 1)
    t = horus.Tensor.from_numpy(dets)
    cs = fx.channel_schema(t)
    assert cs.metadata["horus.kind"] == "Tensor" and cs.metadata["horus.type_name"] == "Detection2D"
    assert cs.metadata["horus.layout_hash"] == f"{horus.msg.Detection2D.layout_hash:#018x}"
    assert fx.horus_type(cs.metadata) == "Tensor[Detection2D]"
    msg = class_from_schema(cs).FromString(fx.encode(t))
    assert msg.record_type == "Detection2D" and msg.record_layout_hash == horus.msg.Detection2D.layout_hash
    assert list(msg.shape) == [4, 24] and msg.dtype == "uint8" and msg.data == dets.tobytes()
    back = roundtrip(t)
    assert back.record_type is horus.msg.Detection2D
    assert back.to_numpy().tobytes() == dets.tobytes()


def test_tensor_with_wrong_data_size_or_dtype_is_refused():
    cs = fx.channel_schema(horus.Tensor.from_numpy(np.zeros(2, np.float32)))
    cls = class_from_schema(cs)
    bad = cls(dtype="float32", shape=[3], data=bytes(8)).SerializeToString()
    with pytest.raises(ConversionError, match="8 bytes of data for shape \\(3,\\)"):
        fx.decode(cs.schema_name, "protobuf", cs.metadata, bad)
    with pytest.raises(ConversionError, match="tensor dtype 'complex64'"):
        fx.decode(cs.schema_name, "protobuf", cs.metadata, cls(dtype="complex64").SerializeToString())


def test_foxglove_schema_data_are_file_descriptor_sets_with_their_imports():
    img = horus.Image(2, 2)
    img.fill(0)
    for msg, name in ((img, "foxglove.RawImage"), (horus.PointCloud.from_numpy(np.zeros((1, 3), np.float32)),
                                                   "foxglove.PointCloud"),
                      (horus.TransformStamped(), "foxglove.FrameTransform"), (horus.Pose(), "foxglove.PoseInFrame")):
        cs = fx.channel_schema(msg)
        assert cs.schema_name == name
        files = [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(cs.schema_data).file]
        assert "google/protobuf/timestamp.proto" in files
        assert class_from_schema(cs).DESCRIPTOR.full_name == name


# ---- schemaless data ----------------------------------------------------------------------------


def same(a, b) -> bool:
    """Equal values of equal types (tuples stay tuples, arrays equal in dtype, shape, bytes)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)
    return a == b


VALUES = [
    {"mode": "explore", "battery": 0.82, "ok": True, "none": None, "n": -3, "big": 2**64 - 1, "neg": -(2**63)},
    {"nested": {"list": [1, 2.5, "x", [None]], "tuple": (1, (2, "y")), "bytes": b"\x00\xff"}},
    {"floats": [float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 0.1]},
    {1: "int key", (2, 3): "tuple key", b"k": "bytes key", 2.5: "float key"},
    {"__horus__": "a user key that looks like our tag", "x": 1},
    {"small": np.arange(5, dtype=np.float32), "bool": np.array([True, False]), "u64": np.array([2**64 - 1], np.uint64),
     "nan": np.array([np.nan, np.inf], np.float16), "scalar0d": np.array(3.5)},
    {"map": np.arange(480 * 64, dtype=np.uint8).reshape(480, 64), "big_f": np.linspace(0, 1, 1000)},
    {"struct": np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]), "dt": np.array(["2024-01-01"], "datetime64[D]"),
     "be": np.arange(300, dtype=">i4"), "c": np.array([1 + 2j] * 300)},
    [1, "top-level list", {"a": (1,)}],
    42,
    None,
    "text",
    (1, 2),
    {"ext": msgpack.ExtType(5, b"raw"), "ts": msgpack.Timestamp(10, 20)},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_schemaless_values_round_trip_exactly(value):
    cs = fx.channel_schema(value)
    assert (cs.schema_name, cs.schema_encoding, cs.message_encoding) == ("horus.Data", "jsonschema", "json")
    data = fx.encode(value)
    json.loads(data, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))  # standard JSON
    back = fx.decode(cs.schema_name, cs.message_encoding, cs.metadata, data)
    assert same(back, value), (back, value)  # big-endian arrays keep their dtype too (same() compares dtypes)


def test_schemaless_dict_reads_as_plain_json_in_foxglove():
    data = fx.encode({"mode": "explore", "pose": np.array([1.0, 2.0, 0.5])})
    assert json.loads(data) == {"mode": "explore",
                                "pose": {"__horus__": "ndarray", "dtype": "<f8", "shape": [3],
                                         "values": [1.0, 2.0, 0.5]}}


def test_schemaless_value_that_cannot_be_recorded_is_refused():
    with pytest.raises(ConversionError, match="type set"):
        fx.channel_schema({"s": {1, 2}})
    with pytest.raises(ConversionError, match="not valid horus.Data JSON"):
        fx.decode("horus.Data", "json", {"horus.kind": "Data"}, b'{"__horus__": "ndarray"}')


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"\x0a\xff\xff", b"\x12\x05ab", b"\x0f", b"\x35\x01\x02"])
def test_truncated_or_malformed_protobuf_is_a_conversion_error(data):
    with pytest.raises(ConversionError, match="not a valid protobuf message"):
        fx.decode("foxglove.RawImage", "protobuf", {"horus.kind": "Image"}, data)


def test_unknown_schema_or_mismatched_encoding_is_refused():
    with pytest.raises(ConversionError, match="no horus message for schema 'sensor_msgs/Image'"):
        fx.decode("sensor_msgs/Image", "ros1", {}, b"")
    with pytest.raises(ConversionError, match="with message encoding 'json' and horus.kind 'Image'"):
        fx.decode("foxglove.RawImage", "json", {"horus.kind": "Image"}, b"{}")


def test_conversion_error_is_a_horus_error_and_a_value_error():
    assert issubclass(ConversionError, horus.HorusError) and issubclass(ConversionError, ValueError)


# ---- exact NaN bits, strict typed JSON, hostile JSON, bounded layouts ---------------------------


def _bits(dt: str, bits: int) -> np.generic:
    return np.array([bits], f"u{np.dtype(dt).itemsize}").view(dt)[0]


@horus.message
class NanBits:
    h: np.float16
    f: np.float32
    d: np.float64
    fs: horus.array(np.float32, (2, 2))
    pose: horus.msg.Pose2D


def test_every_nan_of_a_typed_message_keeps_its_exact_bits_in_json():
    m = NanBits(d=-np.nan, timestamp_ns=4)
    raw = np.frombuffer(m, NanBits.dtype)  # the fields' bytes, written exactly (no conversion through a double)
    raw["h"] = _bits("float16", 0xFE01)
    raw["f"] = _bits("float32", 0x7F800001)  # a signalling NaN
    raw["fs"][0, 0, 0] = np.nan  # NumPy's nan: plain "NaN"
    raw["fs"][0, 1, 1] = _bits("float32", 0xFFC00001)  # sign and payload
    raw["fs"][0, 0, 1] = -np.inf
    raw["pose"]["theta"] = _bits("float64", 0x7FF0000000000001)  # in a nested message
    del raw
    assert bytes(m)[:2] == b"\x01\xfe"
    obj = json.loads(fx.encode(m), parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert (obj["h"], obj["f"], obj["d"]) == ("NaN:0xfe01", "NaN:0x7f800001", "NaN:0xfff8000000000000")
    assert obj["fs"] == [["NaN", "-Infinity"], [0.0, "NaN:0xffc00001"]]
    assert obj["pose"]["theta"] == "NaN:0x7ff0000000000001"
    back = roundtrip(m)
    assert bytes(back) == bytes(m), f"{bytes(m).hex()} came back as {bytes(back).hex()}"
    schema = json.loads(fx.channel_schema(m).schema_data)
    import re

    pattern = schema["properties"]["f"]["anyOf"][2]["pattern"]
    assert re.fullmatch(pattern, obj["f"]) and not re.fullmatch(pattern, obj["d"])
    assert schema["properties"]["f"]["description"] == "float32"


@pytest.mark.parametrize("text, match", [
    ('"NaN:0x7f800000"', "not the bit pattern of a float32 NaN"),  # the bits of +Infinity
    ('"NaN:0x7fc0"', "with 8 hex digits"),
    ('"nan"', "in a float32 field"),
])
def test_a_nan_text_that_is_not_a_nan_of_the_field_is_refused(text, match):
    md = fx.channel_schema(NanBits()).metadata
    good = json.loads(fx.encode(NanBits()))
    data = json.dumps(good).replace('"f": 0.0', f'"f": {text}').encode()
    with pytest.raises(ConversionError, match=match):
        fx.decode("NanBits", "json", md, data)


@pytest.mark.parametrize("payload, match", [
    (b'{"linear": 1.5}', r"lacks the fields angular, timestamp_ns, frame_id"),
    (b'{"linear": 1, "angular": 2, "timestamp_ns": 0}', "lacks the field frame_id"),
    (b'{"linear": 1, "angular": 2, "boost": 3, "timestamp_ns": 0, "frame_id": ""}', "CmdVel has no field 'boost'"),
    (b'{"linear": 1, "angular": 2, "timestamp_ns": -1, "frame_id": ""}', "timestamp_ns -1 is not an integer"),
    (b'{"linear": 1, "angular": 2, "timestamp_ns": 1e400, "frame_id": ""}', "timestamp_ns inf is not an integer"),
    (b'{"linear": 1, "angular": 2, "timestamp_ns": 0, "frame_id": 5}', "frame_id 5 is not a string"),
    (b'{"linear": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested too deep"),
])
def test_typed_json_that_does_not_follow_its_schema_is_refused(payload, match):
    md = fx.channel_schema(horus.CmdVel()).metadata
    with pytest.raises(ConversionError, match=match):
        fx.decode("CmdVel", "json", md, payload)


def test_a_nested_message_missing_a_field_is_refused():
    obj = json.loads(fx.encode(NanBits()))
    del obj["pose"]["theta"]
    with pytest.raises(ConversionError, match=r"message.pose: not a valid Pose2D: it lacks the field theta"):
        fx.decode("NanBits", "json", fx.channel_schema(NanBits()).metadata, json.dumps(obj).encode())


def test_schemaless_nans_keep_their_bits():
    odd = float(_bits("float64", 0xFFF8000000000001))
    small = np.array([0xFFC00001, 0x7FC00000], np.uint32).view(np.float32)  # an odd NaN: stored as bytes
    plain = np.array([np.nan, 1.0], np.float32)  # NumPy's nan only: stored as readable values
    value = {"odd": odd, "nan": float("nan"), "small": small, "plain": plain}
    obj = json.loads(fx.encode(value))
    assert obj["odd"] == {"__horus__": "float", "value": "NaN", "bits": "0xfff8000000000001"}
    assert obj["nan"] == {"__horus__": "float", "value": "NaN"}
    assert "base64" in obj["small"] and obj["plain"]["values"] == ["NaN", 1.0]
    back = roundtrip(value)
    assert np.array([back["odd"]]).view(np.uint64)[0] == 0xFFF8000000000001
    assert back["small"].tobytes() == small.tobytes() and back["plain"].tobytes() == plain.tobytes()


@pytest.mark.parametrize("tagged, match", [
    ('{"__horus__":"ndarray","dtype":"<f4","shape":[Infinity],"values":[]}', "not a list of at most 32 integers"),
    ('{"__horus__":"ndarray","dtype":"<f4","shape":[-1],"values":[]}', "not a list of at most 32 integers"),
    ('{"__horus__":"ndarray","dtype":"<f4","shape":[3],"values":[1]}', r"shape \(3,\) with 1 values"),
    ('{"__horus__":"ndarray","dtype":"<i4","shape":[1],"values":[9999999999999]}', "OverflowError"),
    ('{"__horus__":"ndarray","dtype":"<f4","shape":[2],"base64":"AAAA"}', "needs 8 bytes; base64 gives 3"),
    ('{"__horus__":"ndarray","dtype":"|O","shape":[1],"base64":"AAAAAAAAAAA="}', "holds Python objects"),
    ('{"__horus__":"timestamp","seconds":1e400,"nanoseconds":0}', "timestamp seconds inf is not an integer"),
    ('{"__horus__":"timestamp","seconds":1,"nanoseconds":1000000000}', "nanoseconds 1000000000"),
    ('{"__horus__":"ext","code":300,"base64":""}', "ext code 300 is not an integer of -128 to 127"),
    ('{"__horus__":"dict","items":[[1]]}', r"not a list of \[key, value\] pairs"),
    ('{"__horus__":"float","value":"NaN","bits":"0x0000000000000001"}', "are not a NaN's"),
    ('{"__horus__":"tuple","items":"ab"}', "tuple without a list of items"),
    ('[' * 100000 + ']' * 100000, "nested too deep"),
])
def test_hostile_schemaless_json_is_a_conversion_error(tagged, match):
    with pytest.raises(ConversionError, match=match):
        fx.decode("horus.Data", "json", {"horus.kind": "Data"}, f'{{"x":{tagged}}}'.encode())


def _layout_md(text: str, h: int, layouts: dict[str, str] | None = None) -> dict[str, str]:
    md = dict(fx.channel_schema(horus.CmdVel()).metadata, **{"horus.layout_text": text,
                                                             "horus.layout_hash": f"{h:#018x}"})
    if layouts is not None:
        md["horus.layouts"] = json.dumps(layouts)
    return md


@pytest.mark.parametrize("text, layouts, match", [
    ("Huge{a:float64[100000000000]@0}800000000000", None, "bytes per message; a message may have at most"),
    ("Big{a:float64[100000000]@0}8", None, "is larger than a message may be"),
    ("Wide{s:string<1073741824>@0}8", None, "is larger than a message may be"),
    ("Loop{a:Loop#00000000000000aa@0}8", {"Loop#00000000000000aa": "Loop{a:Loop#00000000000000aa@0}8"},
     "nested more than 16 deep"),
    ("Odd{a:complex64@0}8", None, "unknown field type 'complex64'"),
])
def test_recorded_layouts_are_bounded_before_anything_is_declared(text, layouts, match):
    with pytest.raises(ConversionError, match=match):
        fx.decode("X", "json", _layout_md(text, 0xAA, layouts), b"{}")


NESTED_TEXTS = """
import json, sys, numpy as np, horus
p = sys.argv[1]  # a prefix of the type names: types no other test declares in the test process
A = horus.message(type(p + "Cell", (), {"__annotations__": {"volts": np.float32}}))
B = horus.message(type(p + "Cell", (), {"__annotations__": {"amps": np.float64, "n": np.uint8}}))
Pack = horus.message(type(p + "Pack", (), {"__annotations__": {"a": A, "b": B, "id": np.uint16}}))
m = Pack(a={"volts": 3.5}, b={"amps": 1.25, "n": 3}, id=9)
print(json.dumps([[Pack.layout_text, B.layout_text, A.layout_text], Pack.layout_hash, bytes(m).hex()]))
"""


def _nested_texts(prefix: str) -> tuple[list[str], int, str]:
    out = subprocess.run([sys.executable, "-c", NESTED_TEXTS, prefix], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    texts, h, raw = json.loads(out.stdout)
    return texts, h, raw


def test_a_class_is_declared_from_a_registry_bundle_of_texts_in_any_order():
    """record_class_from_texts: the bundle _core._layout_bundle gives (the type first, then its
    nested types' texts, which carry no hash), here with two nested types of the same name."""
    texts, h, raw = _nested_texts("Bundle")
    assert horus.record_class(h) is None
    with pytest.raises(ConversionError, match="nested type BundleCell .* not declared"):
        fx.record_class_from_texts([texts[0]], h)  # the nested types' texts missing
    with pytest.raises(ConversionError, match="not a list of str"):
        fx.record_class_from_texts([], h)
    cls = fx.record_class_from_texts(texts, h)
    assert (cls.__name__, cls.layout_hash, cls.layout_text) == ("BundlePack", h, texts[0])
    m = cls(a={"volts": 3.5}, b={"amps": 1.25, "n": 3}, id=9)
    assert bytes(m).hex() == raw
    assert fx.record_class_from_texts(texts, h) is cls


def test_live_record_class_uses_the_registry_then_the_topic_header(monkeypatch):
    texts, h, _raw = _nested_texts("Live")
    from horus import _core

    desc = f"LivePack messages with layout {texts[0]} (hash {h:#018x})"
    monkeypatch.setattr(_core, "_layout_bundle", lambda x: None, raising=False)
    with pytest.raises(ConversionError, match="nested type LiveCell"):  # the header names the nested types only
        fx.live_record_class(h, desc)
    assert fx.live_record_class(h, "") is None
    monkeypatch.setattr(_core, "_layout_bundle", lambda x: texts if x == h else None)
    assert fx.live_record_class(h, "").layout_hash == h
    assert fx.live_record_class(horus.CmdVel.layout_hash) is horus.CmdVel
