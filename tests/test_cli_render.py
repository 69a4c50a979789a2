"""How `horus topic echo` renders messages, and how the command finds message types (in-process)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import horus
from horus import _message
from horus.cli import _render, _types
from horus.cli._lookup import close_matches
from horus.cli._output import CliError, jsonable


def _text(msg) -> list[str]:
    return _render.lines(*_render.describe(msg))


def test_float32_fields_print_as_their_shortest_decimal():
    msg = horus.CmdVel(linear=0.1, angular=-3.3)
    assert msg.linear != 0.1  # the float32 value, widened
    assert _text(msg) == ["linear: 0.1", "angular: -3.3"]
    assert _render.record("t", msg)["data"] == {"linear": 0.1, "angular": -3.3}


def test_non_finite_values_in_text_and_json():
    msg = horus.CmdVel(linear=float("nan"), angular=float("-inf"))
    assert _text(msg) == ["linear: nan", "angular: -inf"]
    line = json.dumps(jsonable(_render.record("t", msg)), allow_nan=False)  # standard JSON: no NaN literal
    assert json.loads(line)["data"] == {"linear": "NaN", "angular": "-Infinity"}


def test_long_arrays_are_shortened_in_text_and_complete_in_json():
    scan = horus.msg.LaserScan(count=2048, ranges=np.arange(2048, dtype=np.float32), range_max=30.5)
    text = _text(scan)
    assert "ranges: [0.0, 1.0, 2.0, ..., 2045.0, 2046.0, 2047.0] (2048 items)" in text
    assert "range_max: 30.5" in text and "count: 2048" in text
    data = _render.record("scan", scan)["data"]
    assert data["ranges"] == [float(i) for i in range(2048)] and len(data["intensities"]) == 2048


def test_nested_messages_string_arrays_and_matrices():
    odom = horus.msg.Odometry(child_frame_id="base", pose={"position": {"x": 1.5}},
                              pose_covariance=np.eye(6))
    text = _text(odom)
    assert text[:9] == ['child_frame_id: "base"', "pose:", "  position:", "    x: 1.5", "    y: 0.0", "    z: 0.0",
                        "  orientation:", "    x: 0.0", "    y: 0.0"]
    cov = next(line for line in text if line.startswith("pose_covariance:"))
    assert cov == "pose_covariance: [" + ", ".join(
        "[" + ", ".join("1.0" if i == j else "0.0" for j in range(6)) + "]" for i in range(6)) + "]"
    joints = horus.msg.JointState(count=2, name=["left", "right"] + [""] * 30)
    assert 'name: ["left", "right", "", ..., "", "", ""] (32 items)' in _text(joints)


def test_schemaless_values_of_every_kind():
    value = {"t": (1, "a"), "b": b"\x00\xff", "deep": [[1, 2], {"k": []}], "e": {}, 3: "int key",
             "big": np.zeros((100, 3), np.float32), "nan": np.array([np.nan, 1.0]), "s": np.float32(2.5)}
    text = _render.lines(*_render.describe(value))
    assert text == [
        't: [1, "a"]',
        "b: bytes(2): 00ff",
        "deep:",
        "  - [1, 2]",
        "  - k: []",
        "e: {}",
        '3: "int key"',
        "big: array(shape=[100, 3], dtype=float32, min=0.0, max=0.0, mean=0.0)",
        "nan: array([nan, 1.0], dtype=float64)",
        "s: 2.5",
    ]
    doc = jsonable(_render.record("d", value))
    assert doc["data"]["b"] == {"bytes": 2, "hex": "00ff"} and doc["data"]["3"] == "int key"
    assert doc["data"]["nan"] == {"shape": [2], "dtype": "float64", "min": 1.0, "max": 1.0, "mean": 1.0,
                                  "values": ["NaN", 1.0]}
    assert _render.lines(None, [1, 2]) == ["[1, 2]"] and _render.lines(None, "x") == ['"x"']


def test_payload_bytes_is_the_size_on_the_wire():
    assert _render.payload_bytes(horus.CmdVel()) == 8
    assert _render.payload_bytes(horus.BatteryState()) == horus.BatteryState.dtype.itemsize
    img = horus.Image(height=4, width=5, encoding="mono16")
    assert _render.payload_bytes(img) == 40
    del img
    small = _render.payload_bytes({"a": 1})
    assert small < 16 and _render.payload_bytes({"a": 1, "m": np.zeros(1000, np.uint8)}) >= 1000 + small


def _forget(cls: type) -> None:
    """Makes horus.record_class() not know `cls` (as in a process that never declared it)."""
    del _message._by_hash[cls.layout_hash]


def test_a_flat_type_is_rebuilt_from_its_layout_text():
    @horus.message
    class Gripper:
        width: np.float64
        force: horus.array(np.float16, (2, 2))
        closed: bool
        tag: horus.string(5)

    _forget(Gripper)
    desc = f"Gripper messages with layout {Gripper.layout_text} (hash 0x{Gripper.layout_hash:016x})"
    rebuilt = _types.declare_seen(Gripper.layout_hash, desc)  # the topic header's text (no registry entry)
    assert rebuilt is not Gripper and rebuilt.layout_text == Gripper.layout_text
    assert horus.record_class(Gripper.layout_hash) is rebuilt
    assert _types.declare_seen(Gripper.layout_hash, "anything") is rebuilt  # found again, not rebuilt
    assert _types.declare_seen(0, "untyped messages") is None


@horus.message
class Inner:
    v: np.int32


@horus.message
class Outer:
    inner: Inner
    n: np.uint8


def test_a_type_with_a_nested_type_of_its_own_needs_type_module_class():
    _forget(Outer)
    _forget(Inner)
    # the header's text names the nested type only by name and hash; no registry entry here
    with pytest.raises(CliError, match=r"Inner.*name its class with --type module:Class"):
        _types.declare_seen(Outer.layout_hash, f"Outer messages with layout {Outer.layout_text} "
                                               f"(hash 0x{Outer.layout_hash:016x})")
    with pytest.raises(CliError, match="cannot read the layout"):
        _types.declare_seen(12345, "garbage")


def test_type_names_on_the_command_line():
    assert _types.resolve("CmdVel") is horus.CmdVel
    assert _types.resolve("horus.msg.Odometry") is horus.msg.Odometry
    assert _types.resolve("horus.Pose2D") is horus.Pose2D
    assert _types.resolve("DATA") == _types.DATA
    assert _types.resolve("horus.msg:LaserScan") is horus.msg.LaserScan
    for spec, message in (("CmdVl", "did you mean CmdVel?"), ("TypedMessage", "unknown message type"),
                          ("Image", "publish those from a program"), ("json:loads", "is not a @horus.message class"),
                          ("json:nothing", "has no attribute 'nothing'"), (":X", "use module:Class"),
                          ("missing_file.py:X", "no file 'missing_file.py'")):
        with pytest.raises(CliError, match=message):
            _types.resolve(spec)


def test_close_matches_prefer_the_nearest_names():
    names = ["cli.cmd_vel", "cli.camera", "cli.dets", "cli.battery", "scan"]
    assert close_matches("cli.cmd_vell", names) == ["cli.cmd_vel"]
    assert close_matches("battery", names) == ["cli.battery"]
    assert close_matches("zzz", names) == []
    assert close_matches("sca", names) == ["scan"]


def test_jsonable_gives_standard_json():
    assert jsonable({"a": (1, np.int8(2)), "f": math.inf, 1: np.arange(2)}) == {
        "a": [1, 2], "f": "Infinity", "1": [0, 1]}
