"""The standard message set (horus.msg, built from the C++ declaration) against an
independent Python declaration (tests/data/standard_messages_decl.py): same names,
fields, dtypes, layout texts and hashes; every message round-trips through a topic;
the top-level aliases. (C++'s own layouts: test_typed_cross_language.py.)
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import horus
from horus import Topic

DECL_PATH = Path(__file__).resolve().parent / "data" / "standard_messages_decl.py"

STANDARD = ["Vector3", "Point", "Quaternion", "Pose", "Twist", "Transform", "TransformStamped", "CmdVel", "Pose2D",
            "Imu", "Odometry", "JointState", "LaserScan", "NavSatFix", "BatteryState", "Detection2D", "Detection3D", "Log"]
TOP_LEVEL = ["BatteryState", "CmdVel", "Imu", "JointState", "LaserScan", "Odometry", "Pose", "Pose2D",
             "TransformStamped", "Twist"]

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"std_{tag}_{os.getpid()}_{next(_counter)}"


def _load_decl():
    spec = importlib.util.spec_from_file_location("standard_messages_decl", DECL_PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["standard_messages_decl"] = mod  # the declarations look their module up
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules["standard_messages_decl"]
    return mod


DECL = _load_decl()


def test_the_standard_set_is_complete():
    assert [c.__name__ for c in DECL.ALL] == STANDARD
    assert sorted(horus.msg.__all__) == sorted(STANDARD)
    for name in STANDARD:
        cls = getattr(horus.msg, name)
        assert issubclass(cls, horus.TypedMessage) and cls.__name__ == name
        assert cls.__module__ == "horus.msg"


@pytest.mark.parametrize("name", STANDARD)
def test_same_layout_as_the_independent_declaration(name):
    mine, std = getattr(DECL, name), getattr(horus.msg, name)
    assert mine is not std
    assert mine.__name__ == std.__name__ == name
    assert mine.fields == std.fields
    assert mine.dtype.itemsize == std.dtype.itemsize
    assert mine.dtype.names == std.dtype.names
    for f in std.fields:
        assert mine.dtype.fields[f][1] == std.dtype.fields[f][1], f  # offset
        assert mine.dtype.fields[f][0] == std.dtype.fields[f][0], f  # type
    assert mine.dtype == std.dtype
    assert mine.layout_text == std.layout_text
    assert mine.layout_hash == std.layout_hash
    # The same bytes mean the same values.
    assert bytes(mine()) == bytes(std())


def test_known_layouts():
    assert horus.msg.CmdVel.layout_text == "CmdVel{linear:float32@0,angular:float32@4}8"
    assert horus.msg.Vector3.layout_text == "Vector3{x:float64@0,y:float64@8,z:float64@16}24"
    assert horus.msg.LaserScan.dtype.itemsize == 8 * 4 + 2 * 2048 * 4
    assert horus.msg.NavSatFix.dtype.fields["service"][1] == 2  # int8 then uint16: one byte of padding
    assert horus.msg.NavSatFix.dtype.fields["latitude"][1] == 8
    assert horus.msg.NavSatFix.dtype.itemsize == 8 + 24 + 72 + 8
    assert horus.msg.BatteryState.dtype.itemsize == 228
    assert horus.msg.Pose.layout_text.startswith("Pose{position:Point#")
    assert len({getattr(horus.msg, n).layout_hash for n in STANDARD}) == len(STANDARD)
    # Vector3 and Point have equal fields but are distinct types.
    assert horus.msg.Vector3.layout_hash != horus.msg.Point.layout_hash


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_aliases(name):
    assert getattr(horus, name) is getattr(horus.msg, name)
    assert name in horus.__all__


def _sample(cls, seed: int):
    """A message of `cls` with every field set to something non-zero."""
    rng = np.random.default_rng(seed)
    m = cls()
    for f in cls.fields:
        v = getattr(m, f)
        if isinstance(v, horus.TypedMessage):
            setattr(m, f, _sample(type(v), seed + 1))
        elif isinstance(v, np.ndarray):
            if v.dtype.kind == "f":
                v[...] = rng.standard_normal(v.shape)
            else:
                v[...] = rng.integers(0, 100, v.shape)
        elif isinstance(v, list):  # string array
            setattr(m, f, [f"{f[:4]}{i}" for i in range(len(v))])
        elif isinstance(v, bool):
            setattr(m, f, True)
        elif isinstance(v, int):
            setattr(m, f, 7)
        elif isinstance(v, float):
            setattr(m, f, 0.25 + seed)
        elif isinstance(v, str):
            setattr(m, f, f"{f}-{seed}"[:16])
    return m


@pytest.mark.parametrize("name", STANDARD)
def test_every_standard_message_round_trips_through_a_topic(name, no_leak):
    cls = getattr(horus.msg, name)
    topic = unique(name.lower())
    sub, pub = Topic(cls, topic), Topic(cls, topic)
    m = _sample(cls, 3)
    m.set_timestamp_ns(123)
    m.set_frame_id("std")
    assert m != cls()
    pub.send(m)
    got = sub.recv(timeout=2)
    assert got is not None and type(got) is cls
    assert got == m and bytes(got) == bytes(m)
    assert got.to_dict() == m.to_dict()
    assert (got.timestamp_ns, got.frame_id) == (123, "std")
    # The independent declaration's class reads the same bytes the same way.
    twin = getattr(DECL, name)
    assert np.frombuffer(bytes(got), dtype=twin.dtype)[0].tobytes() == bytes(m)
    del got, sub, pub


def test_independent_declaration_can_open_the_standard_topic(no_leak):
    """Equal layout hash = same topic type: a class declared elsewhere with the same layout
    opens a topic of horus.msg's, and receives the message (as the first class of that hash)."""
    name = unique("twin")
    t = Topic(horus.msg.Pose2D, name)
    twin_topic = Topic(DECL.Pose2D, name)
    twin_topic.send(DECL.Pose2D(1.0, 2.0, 3.0))
    got = t.recv(timeout=2)
    assert (got.x, got.y, got.theta) == (1.0, 2.0, 3.0)
    del got, t, twin_topic
