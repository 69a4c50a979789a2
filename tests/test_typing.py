"""Static typing: horus as mypy --strict sees it, checked against what the code does at run time.

* The committed stubs equal their generators' output: python/horus/msg/__init__.pyi
  (scripts/gen_msg_stubs.py, from the C++ declaration of the standard messages via
  horus._core._standard_layouts()) and python/horus/_core.pyi (scripts/gen_stubs.py),
  so neither can drift from the extension.
* The spec's own code (the blocks tests/test_spec_examples.py and
  tests/test_spec_pipelines.py run) passes mypy --strict. The spec's tick functions are
  unannotated (``def edge_tick(node):``), which --strict reports as such, so the spec is
  checked with --strict --allow-untyped-defs: --strict's --check-untyped-defs still
  checks those bodies (test_spec_untyped_bodies_are_checked).
* Typed messages (a TypedMessage subclass with Annotated fields), the standard
  messages, generic topics (Topic[BatteryState], Topic[Tensor[Detection]], Topic[Any]
  for schemaless), each with the types mypy infers asserted (``# reveal: T`` on a line
  with reveal_type) -- and the same module is run, asserting that the values have the
  types mypy was told they have.
* Mistakes mypy must report (``# E: code`` on the line).

mypy checks the installed package (as a user's code would see it; see test_stubs.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import numpy as np
import pytest

import horus

from conftest import new_namespace

REPO = Path(__file__).resolve().parent.parent
PKG = Path(horus.__file__).parent


def _mypy() -> list[str]:
    """This interpreter's mypy (the one beside the installed horus)."""
    import importlib.util

    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed")
    return [sys.executable, "-m", "mypy"]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def run_mypy(files: list[Path], cache: Path, *flags: str) -> list[tuple[str, int, str, str]]:
    """(file name, line, severity, message) of each mypy diagnostic."""
    r = subprocess.run(
        [*_mypy(), "--strict", "--follow-imports=silent", "--no-error-summary", "--show-error-codes",
         "--hide-error-context", "--cache-dir", str(cache), *flags, *map(str, files)],
        capture_output=True, text=True, cwd=files[0].parent,
    )
    assert r.returncode in (0, 1), r.stdout + r.stderr  # 2: mypy itself failed
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"^(.*?):(\d+): (error|note): (.*)$", line)
        assert m, f"unexpected mypy output: {line!r}\n{r.stdout}"
        out.append((Path(m[1]).name, int(m[2]), m[3], m[4]))
    return out


def expectations(code: str) -> tuple[dict[int, str], dict[int, str]]:
    """Line -> expected revealed type (``# reveal: T``), line -> expected error codes (``# E: code code2``)."""
    reveals: dict[int, str] = {}
    errors: dict[int, set[str]] = {}
    for i, line in enumerate(code.splitlines(), 1):
        if m := re.search(r"# reveal: (.*)$", line):
            reveals[i] = m[1].strip()
        if m := re.search(r"# E: ([\w -]+)$", line):
            errors[i] = set(m[1].split())
    return reveals, errors


_NBIT = re.compile(r"numpy\.(floating|signedinteger|unsignedinteger)\[numpy\._typing\._nbit_base\._(\d+)Bit\]")


def _normalize(t: str) -> str:
    """numpy.floating[numpy._typing._nbit_base._32Bit] -> numpy.float32 (NumPy's stubs spell aliases so)."""
    return _NBIT.sub(lambda m: "numpy." + {"floating": "float", "signedinteger": "int",
                                            "unsignedinteger": "uint"}[m[1]] + m[2], t)


def check(diags: list[tuple[str, int, str, str]], name: str, code: str) -> None:
    reveals, errors = expectations(code)
    got_reveals = {ln: _normalize(msg) for f, ln, sev, msg in diags if f == name and msg.startswith("Revealed type is ")}
    got_errors: dict[int, set[str]] = {}
    unexpected = []
    for f, ln, sev, msg in diags:
        if f != name or msg.startswith("Revealed type is "):
            continue
        if sev == "error":
            m = re.search(r"\[([\w-]+)\]$", msg)
            code_ = m[1] if m else "?"
            if code_ in errors.get(ln, ()):
                got_errors.setdefault(ln, set()).add(code_)
            else:
                unexpected.append(f"{name}:{ln}: {msg}")
    lines = code.splitlines()
    problems = list(unexpected)
    for ln, want in reveals.items():
        got = got_reveals.get(ln, "<no reveal_type>")
        if got != f'Revealed type is "{want}"':
            problems.append(f"{name}:{ln}: {lines[ln - 1].strip()}\n    want {want}\n    got  {got}")
    for ln, want_codes in errors.items():
        for want_code in sorted(want_codes - got_errors.get(ln, set())):
            problems.append(f"{name}:{ln}: mypy reported no [{want_code}] error for: {lines[ln - 1].strip()}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ generated stubs


def test_msg_stub_is_the_generators_output():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_msg_stubs.py"), "-"],
                       capture_output=True, text=True, check=True)
    committed = (REPO / "python" / "horus" / "msg" / "__init__.pyi").read_text()
    assert committed == r.stdout, "python/horus/msg/__init__.pyi is stale: run scripts/gen_msg_stubs.py"
    installed = PKG / "msg" / "__init__.pyi"
    assert installed.is_file() and installed.read_text() == committed, "the installed msg stub is stale: make install"


def test_core_stub_is_the_generators_output(tmp_path):
    out = tmp_path / "_core.pyi"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_stubs.py"), str(out)], check=True)
    committed = (REPO / "python" / "horus" / "_core.pyi").read_text()
    assert committed == out.read_text(), "python/horus/_core.pyi is stale: run scripts/gen_stubs.py"


def test_msg_stub_declares_every_standard_message_and_field():
    import ast

    tree = ast.parse((PKG / "msg" / "__init__.pyi").read_text())
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    assert set(classes) == set(horus.msg.__all__)
    for name, node in classes.items():
        cls = getattr(horus.msg, name)
        declared = []
        for n in node.body:
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                declared.append(n.target.id)
            elif isinstance(n, ast.FunctionDef) and n.name != "__init__" and n.name not in declared:
                declared.append(n.name)
        assert tuple(declared) == cls.fields, name
        init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        assert [a.arg for a in init.args.args[1:]] == list(cls.fields)
        assert [a.arg for a in init.args.kwonlyargs] == ["timestamp_ns", "frame_id"]


# ------------------------------------------------------------------ run time: Topic[...] in annotations


def test_topic_and_tensor_subscript_at_run_time():
    class Det(horus.TypedMessage):
        score: typing.Annotated[float, np.float32]

    alias = horus.Topic[horus.Image]
    assert typing.get_origin(alias) is horus.Topic and typing.get_args(alias) == (horus.Image,)
    assert horus.Topic[horus.CmdVel] == horus.Topic[horus.CmdVel]
    assert repr(horus.Tensor[Det]) == "horus.Tensor[Det]"
    ns: dict = {"horus": horus, "Det": Det}
    exec(textwrap.dedent("""
        def f(t: horus.Topic[horus.Image], d: horus.Topic[horus.Tensor[Det]]) -> horus.Image | None:
            return t.try_recv()
    """), ns)  # no `from __future__ import annotations`: evaluated at definition
    hints = typing.get_type_hints(ns["f"], ns)
    assert hints["t"] == horus.Topic[horus.Image]
    assert hints["d"] == horus.Topic[horus.Tensor[Det]]


# ------------------------------------------------------------------ the spec's code


def _spec_modules() -> dict[str, str]:
    import test_spec_examples as ex
    import test_spec_pipelines as pl

    given = "raw_data: bytes = bytes(480 * 640 * 3)\nraw_bytes: bytes = bytes(480 * 640 * 3)\n"
    return {
        "spec_image.py": given + "".join([ex.IMAGE_CREATING, ex.IMAGE_PROPERTIES, ex.IMAGE_CONVERSIONS,
                                          ex.IMAGE_PIXELS, ex.IMAGE_METADATA, ex.IMAGE_DLPACK]),
        "spec_cloud.py": "".join([ex.CLOUD_CREATING, ex.CLOUD_PROPERTIES, ex.CLOUD_CONVERSIONS,
                                  ex.CLOUD_POINT_ACCESS, ex.CLOUD_METADATA]),
        "spec_depth.py": "".join([ex.DEPTH_CREATING, ex.DEPTH_PROPERTIES, ex.DEPTH_ACCESS, ex.DEPTH_CONVERSIONS]),
        "spec_usage_with_topics.py": pl.USAGE_WITH_TOPICS,
        "spec_edge_detector.py": pl.EDGE_DETECTOR,
        "spec_ml_pipeline.py": pl.ML_PIPELINE,
    }


def test_spec_code_passes_mypy_strict(tmp_path, mypy_cache):
    files = []
    for name, code in _spec_modules().items():
        (tmp_path / name).write_text(code)
        files.append(tmp_path / name)
    diags = run_mypy(files, mypy_cache, "--allow-untyped-defs")
    assert not diags, "\n".join(f"{f}:{ln}: {sev}: {msg}" for f, ln, sev, msg in diags)
    # Only the spec's unannotated functions stand between it and plain --strict.
    strict = run_mypy(files, mypy_cache)
    assert strict and all(msg.endswith("[no-untyped-def]") for _, _, _, msg in strict), strict


def test_spec_untyped_bodies_are_checked(tmp_path, mypy_cache):
    """--allow-untyped-defs keeps --check-untyped-defs: a mistake in the spec's tick body is reported."""
    code = _spec_modules()["spec_edge_detector.py"].replace("pixels = img.to_numpy()", "pixels = img.to_numpyy()")
    code = code.replace("pub_edges.send(result)", "pub_edges.send(horus.CmdVel())")
    f = tmp_path / "spec_edge_broken.py"
    f.write_text(code)
    msgs = [msg for _, _, sev, msg in run_mypy([f], mypy_cache, "--allow-untyped-defs") if sev == "error"]
    assert any("to_numpyy" in m and "[attr-defined]" in m for m in msgs), msgs
    assert any('"CmdVel"' in m and "[arg-type]" in m for m in msgs), msgs


def test_spec_recv_is_optional(tmp_path, mypy_cache):
    """recv() is honestly `Image | None`: the spec's `if received:` narrows it; without it mypy objects."""
    f = tmp_path / "recv_unchecked.py"
    code = textwrap.dedent("""\
        from horus import Image, Topic
        img_topic = Topic(Image)
        received = img_topic.recv()
        reveal_type(received)  # reveal: horus._core.Image | None
        received.to_numpy()  # E: union-attr
        if received:
            reveal_type(received)  # reveal: horus._core.Image
        blocking = img_topic.recv(timeout=float("inf"))
        reveal_type(blocking)  # reveal: horus._core.Image | None
    """)
    f.write_text(code)
    check(run_mypy([f], mypy_cache), f.name, code)


# ------------------------------------------------------------------ typed messages, checked and run

TYPED = '''\
"""Typed messages as strict mypy sees them; run, it asserts the values have those types."""
import sys
import typing
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt

import horus

if sys.version_info >= (3, 11):
    from typing import reveal_type
else:
    from typing_extensions import reveal_type


class BatteryState(horus.TypedMessage):
    voltage: Annotated[float, np.float32]
    current: Annotated[float, np.float32]
    cell_voltages: Annotated[npt.NDArray[np.float32], horus.array(np.float32, 8)]
    charging: bool
    name: Annotated[str, horus.string(16)]
    cycles: Annotated[int, np.uint16]


b = BatteryState(voltage=12.5, charging=True, timestamp_ns=5, frame_id="base")
b.name = "pack-a"
b.cell_voltages[:] = 3.5
reveal_type(b)  # reveal: typed_messages.BatteryState
reveal_type(b.voltage)  # reveal: float
reveal_type(b.charging)  # reveal: bool
reveal_type(b.name)  # reveal: str
reveal_type(b.cycles)  # reveal: int
reveal_type(b.cell_voltages)  # reveal: numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.float32]]
reveal_type(b.timestamp_ns)  # reveal: int
reveal_type(b.copy())  # reveal: typed_messages.BatteryState
reveal_type(BatteryState.from_dict({"voltage": 1.0}))  # reveal: typed_messages.BatteryState
reveal_type(BatteryState.layout_hash)  # reveal: int
reveal_type(BatteryState.fields)  # reveal: tuple[str, ...]

battery = horus.Topic(BatteryState, "typing.battery")
reveal_type(battery)  # reveal: horus._core.Topic[typed_messages.BatteryState]
battery.send(b)
got = battery.recv(timeout=5.0)
reveal_type(got)  # reveal: typed_messages.BatteryState | None
assert got is not None
reveal_type(got)  # reveal: typed_messages.BatteryState
assert type(got.voltage) is float and got.voltage == 12.5
assert type(got.charging) is bool and got.charging is True
assert type(got.name) is str and got.name == "pack-a"
assert type(got.cycles) is int
assert isinstance(got.cell_voltages, np.ndarray) and got.cell_voltages.dtype == np.float32
assert got.is_shared() and got.frame_id == "base" and got.timestamp_ns == 5
reveal_type(battery.message_type)  # reveal: type[typed_messages.BatteryState] | None
assert battery.message_type is BatteryState
assert battery.try_recv() is None

# the default name: lowercase class name
default_named = horus.Topic(BatteryState)
reveal_type(default_named)  # reveal: horus._core.Topic[typed_messages.BatteryState]

# standard messages (horus.msg, top-level aliases)
cmd = horus.CmdVel(linear=1.0, angular=0.5)
reveal_type(cmd)  # reveal: horus.msg.CmdVel
reveal_type(cmd.linear)  # reveal: float
assert type(cmd.linear) is float and cmd.angular == 0.5
cmd_topic = horus.Topic(horus.CmdVel, "typing.cmd_vel")
reveal_type(cmd_topic)  # reveal: horus._core.Topic[horus.msg.CmdVel]
cmd_topic.send(cmd)
c = cmd_topic.recv(timeout=5.0)
if c is not None:
    reveal_type(c.angular)  # reveal: float
assert c is not None and c == cmd
assert horus.CmdVel is horus.msg.CmdVel

odom = horus.Odometry(child_frame_id="base_link", pose={"position": {"x": 1.0}})
reveal_type(odom.pose)  # reveal: horus.msg.Pose
reveal_type(odom.pose.position.x)  # reveal: float
reveal_type(odom.pose_covariance)  # reveal: numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.float64]]
reveal_type(odom.child_frame_id)  # reveal: str
assert odom.pose.position.x == 1.0 and odom.child_frame_id == "base_link"
odom.pose_covariance = np.eye(6)
odom.pose_covariance = [[0.0] * 6] * 6
odom.twist = horus.msg.Twist(linear=horus.msg.Vector3(1.0, 2.0, 3.0))
odom.pose.position.y = 2.0
assert odom.pose.position.y == 2.0 and odom.twist.linear.z == 3.0
assert isinstance(odom.pose, horus.msg.Pose) and odom.pose_covariance.dtype == np.float64

joints = horus.JointState(count=2, name=["a", "b"] + [""] * 30)
reveal_type(joints.name)  # reveal: tuple[str, ...]
reveal_type(joints.count)  # reveal: int
assert joints.name[:2] == ("a", "b") and type(joints.count) is int
scan = horus.LaserScan(angle_min=-1.5, ranges=np.zeros(2048, np.float32), count=0)
reveal_type(scan.ranges)  # reveal: numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.float32]]
assert scan.ranges.dtype == np.float32
fix = horus.msg.NavSatFix(status=-1, latitude=48.1)
reveal_type(fix.status)  # reveal: int
b2 = horus.BatteryState(present=True, location="left")
reveal_type(b2.present)  # reveal: bool
assert b2.present is True and b2.location == "left"

# schemaless data
status = horus.Topic("typing.status")
reveal_type(status)  # reveal: horus._core.Topic[Any]
status.send({"a": 1})
value = status.recv(timeout=5.0)
assert value == {"a": 1}
untyped = horus.Topic(None, "typing.battery")
reveal_type(untyped)  # reveal: horus._core.Topic[Any]

# Tensors of records
class Detection(horus.TypedMessage):
    class_id: Annotated[int, np.uint32]
    score: Annotated[float, np.float32]


detections = horus.Topic(horus.Tensor[Detection], "typing.detections")
reveal_type(detections)  # reveal: horus._core.Topic[horus._core.Tensor[typed_messages.Detection]]
records = horus.Tensor.from_records(np.zeros(4, dtype=Detection.dtype), Detection)
reveal_type(records)  # reveal: horus._core.Tensor[typed_messages.Detection]
detections.send(records)
dt = detections.recv(timeout=5.0)
assert dt is not None
reveal_type(dt.record_type)  # reveal: type[typed_messages.Detection] | None
assert dt.record_type is Detection and dt.to_numpy().shape == (4,)
plain: horus.Tensor = horus.Tensor((2, 3), "int8")
reveal_type(plain)  # reveal: horus._core.Tensor[Any]


# generic topics in annotations, evaluated at run time (no `from __future__ import annotations`)
def latest_voltage(t: horus.Topic[BatteryState]) -> float:
    m = t.try_recv()
    return m.voltage if m is not None else 0.0


def frames(t: horus.Topic[horus.Image]) -> horus.Image | None:
    return t.try_recv()


any_topic: horus.Topic = status
reveal_type(any_topic)  # reveal: horus._core.Topic[Any]
assert latest_voltage(battery) == 0.0
assert typing.get_type_hints(latest_voltage)["t"] == horus.Topic[BatteryState]
print("typed messages ok")
'''

MISTAKES = '''\
import numpy as np

import horus
from horus import Image, Topic

img_topic = Topic(Image)
img_topic.send(horus.CmdVel())  # E: arg-type
horus.Topic(horus.CmdVel, "c").send(horus.Twist())  # E: arg-type
cmd = horus.CmdVel(linear="fast")  # E: arg-type
horus.CmdVel(speed=1.0)  # E: call-arg
horus.CmdVel(1.0, 2.0, 3.0)  # E: call-arg arg-type
horus.CmdVel(timestamp_ns="now")  # E: arg-type
c = horus.CmdVel()
c.linear = "x"  # E: assignment
n: int = c.linear  # E: assignment
c.speed  # E: attr-defined
c.timestamp_ns = 5  # E: misc
horus.Odometry(pose=horus.Twist())  # E: arg-type
horus.JointState().name = [1, 2]  # E: list-item
Topic(int, "x")  # E: type-var
Topic("a", "b")  # E: call-overload
Topic(None)  # E: call-overload
horus.Tensor[int]  # E: type-var
s: horus.Topic[horus.CmdVel] = Topic(Image)  # E: arg-type
'''


def test_typed_messages_mypy_strict(tmp_path, mypy_cache):
    typed = tmp_path / "typed_messages.py"
    typed.write_text(TYPED)
    mistakes = tmp_path / "mistakes.py"
    mistakes.write_text(MISTAKES)
    diags = run_mypy([typed, mistakes], mypy_cache)
    check(diags, typed.name, TYPED)
    check(diags, mistakes.name, MISTAKES)


def test_typed_messages_module_runs(tmp_path):
    """The module mypy checked runs, and its values have the types mypy revealed."""
    typed = tmp_path / "typed_messages.py"
    typed.write_text(TYPED)
    env = dict(os.environ, HORUS_NAMESPACE=new_namespace())
    r = subprocess.run([sys.executable, str(typed)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "typed messages ok" in r.stdout
    assert "leaked" not in r.stderr, r.stderr


def test_package_typing_modules_pass_mypy_strict(mypy_cache):
    """The modules that make up the typing story are themselves --strict clean (checked from source)."""
    src = REPO / "python"
    files = [src / "horus" / p for p in ("__init__.py", "_message.py", "_core.pyi", "msg/__init__.pyi")]
    r = subprocess.run(
        [*_mypy(), "--strict", "--follow-imports=silent", "--no-error-summary", "--cache-dir", str(mypy_cache),
         *map(str, files)],
        capture_output=True, text=True, cwd=src, env={**os.environ, "MYPYPATH": str(src)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
