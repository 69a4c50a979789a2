"""`horus topic list | info | echo | pub` against topics of other processes (golden output).

A publisher child sends known messages of every kind on topics named cli.*; its Foo type is
declared only in the child, so `echo` has to rebuild it from the topic's layout text.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid

import numpy as np
import pytest

import horus
from _child import Child
from conftest import SESSION_NAMESPACE, new_namespace, shm_objects
from test_cli import cli, cli_json

PUBLISHER = """
import sys, threading, time
import numpy as np
import horus

@horus.message
class Foo:
    a: np.float32
    b: horus.array(np.int16, 3)
    s: horus.string(8)
    names: horus.array(horus.string(4), 2)
    pose: horus.msg.Pose2D

topics = {
    "cli.cmd_vel": (horus.Topic(horus.CmdVel, "cli.cmd_vel"), lambda: horus.CmdVel(linear=0.5, angular=0.25)),
    "cli.battery": (horus.Topic(horus.BatteryState, "cli.battery"), lambda: horus.BatteryState(
        voltage=12.4, present=True, cell_count=2, cell_voltage=[4.1, 4.2] + [0.0] * 14, location="bay 1",
        timestamp_ns=17, frame_id="base")),
    "cli.status": (horus.Topic("cli.status"), lambda: {
        "mode": "explore", "n": 3, "ok": True, "none": None, "xs": [1, 2.5], "small": np.arange(3, dtype=np.float32),
        "map": np.full((48, 64), 9, np.uint8), "nested": {"a": [{"b": 1}, 2]}}),
    "cli.foo": (horus.Topic(Foo, "cli.foo"), lambda: Foo(a=1.5, b=[1, -2, 3], s="hi", names=("ab", "c"),
                                                         pose=horus.Pose2D(x=1.0, y=2.0, theta=0.5))),
    "cli.camera": (horus.Topic(horus.Image, "cli.camera"), lambda: horus.Image.from_numpy(
        np.arange(48 * 64 * 3, dtype=np.uint32).reshape(48, 64, 3).astype(np.uint8), encoding="rgb8")),
    "cli.depth": (horus.Topic(horus.DepthImage, "cli.depth"), lambda: horus.DepthImage.from_numpy(
        np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))),
    "cli.cloud": (horus.Topic(horus.PointCloud, "cli.cloud"), lambda: horus.PointCloud.from_numpy(
        np.array([[0, 1, 2], [2, 3, 6]], np.float32))),
    "cli.tensor": (horus.Topic(horus.Tensor, "cli.tensor"), lambda: horus.Tensor.from_numpy(
        np.arange(12, dtype=np.float64).reshape(3, 4))),
    "cli.dets": (horus.Topic(horus.Tensor[horus.msg.Detection2D], "cli.dets"), lambda: horus.Tensor.from_numpy(
        np.array([(7, 0.5, 1, 2, 3, 4)] * 5, dtype=horus.msg.Detection2D.dtype))),
}
for topic, make in topics.values():
    topic.send(make())
quit = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), quit.set()), daemon=True).start()
print("ready", flush=True)
while not quit.wait(0.05):
    for topic, make in topics.values():
        topic.send(make())
"""


@pytest.fixture(scope="module")
def publisher():
    child = Child.python(PUBLISHER, stdin=True)
    try:
        child.expect("ready", timeout=60)
        yield child
        child.send_line("quit")  # a normal exit closes its topics and frees their messages
        assert child.wait() == 0
    finally:
        child.kill()


def _echo(name: str, *more: str) -> str:
    return cli("topic", "echo", name, "--once", *more).stdout


def test_topic_list_json_describes_every_topic_of_the_namespace(publisher):
    doc = cli_json("topic", "list")
    assert doc["namespace"] == SESSION_NAMESPACE
    by_name = {t["name"]: t for t in doc["topics"]}
    assert [t["name"] for t in doc["topics"]] == sorted(by_name)
    cmd = by_name["cli.cmd_vel"]
    assert set(cmd) == {"name", "kind", "type_name", "layout_hash", "type_description", "capacity", "messages",
                        "last_send_ns", "processes", "publishers", "subscribers", "complete", "bridged"}
    assert cmd["bridged"] == ""
    assert (cmd["kind"], cmd["type_name"], cmd["layout_hash"]) == ("Record", "CmdVel", horus.CmdVel.layout_hash)
    assert cmd["publishers"] == [{"pid": publisher.proc.pid, "node": "", "topics": 1}] and cmd["messages"] >= 1
    kinds = {n: (by_name[n]["kind"], by_name[n]["type_name"]) for n in by_name if n.startswith("cli.")}
    assert kinds == {"cli.cmd_vel": ("Record", "CmdVel"), "cli.battery": ("Record", "BatteryState"),
                     "cli.status": ("Data", ""), "cli.foo": ("Record", "Foo"), "cli.camera": ("Image", ""),
                     "cli.depth": ("DepthImage", ""), "cli.cloud": ("PointCloud", ""), "cli.tensor": ("Tensor", ""),
                     "cli.dets": ("Tensor", "Detection2D")}


def test_topic_list_table_has_one_aligned_row_per_topic(publisher):
    lines = cli("topic", "list").stdout.splitlines()
    header = lines[0]
    assert header.split() == ["TOPIC", "TYPE", "PUBS", "SUBS", "MESSAGES", "CAPACITY", "LAST", "MESSAGE"]
    rows = {line.split()[0]: line for line in lines[1:]}
    for name, label in (("cli.cmd_vel", "CmdVel"), ("cli.dets", "Tensor[Detection2D]"), ("cli.status", "schemaless"),
                        ("cli.camera", "Image")):
        row = rows[name]
        assert row.index(label, len(name)) == header.index("TYPE"), (header, row)
        # numbers are right-aligned: they end where their header ends
        assert row[: header.index("PUBS") + 4].rstrip().endswith("1"), (header, row)


def test_topic_info_json_and_table(publisher):
    doc = cli_json("topic", "info", "cli.battery")
    assert doc["name"] == "cli.battery" and doc["type_name"] == "BatteryState"
    assert doc["namespace"] == SESSION_NAMESPACE
    assert doc["type_description"].startswith("BatteryState messages with layout BatteryState{voltage:float32@0,")
    text = cli("topic", "info", "cli.battery").stdout
    assert f"layout hash   0x{horus.BatteryState.layout_hash:016x}" in text
    assert "type          BatteryState" in text and "subscribers: none" in text
    lines = text.splitlines()
    at = lines.index("publishers (1)")
    assert lines[at + 1].split() == ["PID", "NODE", "TOPICS"] and lines[at + 2].split() == [str(publisher.proc.pid), "-", "1"]


def test_echo_once_of_a_cmd_vel(publisher):
    assert _echo("cli.cmd_vel") == "linear: 0.5\nangular: 0.25\n---\n"


def test_echo_once_of_a_battery_state_field_by_field(publisher):
    zeros = ", ".join(["0.0"] * 16)
    assert _echo("cli.battery") == textwrap.dedent(f"""\
        timestamp_ns: 17
        frame_id: "base"
        voltage: 12.4
        temperature: 0.0
        current: 0.0
        charge: 0.0
        capacity: 0.0
        design_capacity: 0.0
        percentage: 0.0
        power_supply_status: 0
        power_supply_health: 0
        power_supply_technology: 0
        present: true
        cell_count: 2
        cell_voltage: [4.1, 4.2, {", ".join(["0.0"] * 14)}]
        cell_temperature: [{zeros}]
        location: "bay 1"
        serial_number: ""
        ---
        """)


def test_echo_once_of_schemaless_data_summarises_its_arrays(publisher):
    assert _echo("cli.status") == textwrap.dedent("""\
        mode: "explore"
        n: 3
        ok: true
        none: null
        xs: [1, 2.5]
        small: array([0.0, 1.0, 2.0], dtype=float32)
        map: array(shape=[48, 64], dtype=uint8, min=9, max=9, mean=9.0)
        nested:
          a:
            - b: 1
            - 2
        ---
        """)


def test_echo_once_of_a_type_declared_only_in_the_publisher(publisher):
    assert _echo("cli.foo") == textwrap.dedent("""\
        a: 1.5
        b: [1, -2, 3]
        s: "hi"
        names: ["ab", "c"]
        pose:
          x: 1.0
          y: 2.0
          theta: 0.5
        ---
        """)


def test_echo_once_of_memory_types_gives_metadata_and_a_summary(publisher):
    pixels = np.arange(48 * 64 * 3, dtype=np.uint32).astype(np.uint8)
    assert _echo("cli.camera") == (
        f"height: 48\nwidth: 64\nencoding: \"rgb8\"\nchannels: 3\ndtype: \"uint8\"\nstep: 192\nnbytes: 9216\n"
        f"min: 0\nmax: 255\nmean: {float(pixels.mean())!r}\n---\n")
    assert _echo("cli.depth") == (
        'height: 2\nwidth: 2\ndtype: "float32"\nunit: "m"\ndepth_scale: 1.0\nnbytes: 16\n'
        "min_m: 1.0\nmax_m: 3.0\nmean_m: 2.0\n---\n")  # 0 is no reading: not in the statistics
    assert _echo("cli.cloud") == (
        'points: 2\nfields_per_point: 3\ndtype: "float32"\nnbytes: 24\n'
        "min: [0.0, 1.0, 2.0]\nmax: [2.0, 3.0, 6.0]\nmean: [1.0, 2.0, 4.0]\n---\n")
    assert _echo("cli.tensor") == 'shape: [3, 4]\ndtype: "float64"\nnbytes: 96\nmin: 0.0\nmax: 11.0\nmean: 5.5\n---\n'


def test_echo_json_of_a_tensor_of_records(publisher):
    doc = json.loads(_echo("cli.dets", "--json"))
    assert doc["kind"] == "Tensor" and doc["type"] == "Tensor[Detection2D]"
    assert doc["data"]["record_type"] == "Detection2D" and doc["data"]["records"] == 5
    assert doc["data"]["first"] == [{"class_id": 7, "score": 0.5, "center_x": 1.0, "center_y": 2.0, "width": 3.0,
                                     "height": 4.0}] * 3


def test_echo_json_lines_carry_the_fields_and_metadata(publisher):
    out = cli("topic", "echo", "cli.battery", "-n", "3", "--json").stdout
    docs = [json.loads(line) for line in out.splitlines()]
    assert len(docs) == 3
    d = docs[0]
    assert (d["topic"], d["kind"], d["type"], d["timestamp_ns"], d["frame_id"]) == (
        "cli.battery", "Record", "BatteryState", 17, "base")
    assert d["data"]["voltage"] == 12.4 and d["data"]["cell_voltage"][:3] == [4.1, 4.2, 0.0]
    assert d["data"]["location"] == "bay 1" and d["data"]["present"] is True
    status = json.loads(_echo("cli.status", "--json"))
    assert (status["kind"], status["type"], status["timestamp_ns"]) == ("Data", "", None)
    assert status["data"]["map"] == {"shape": [48, 64], "dtype": "uint8", "min": 9, "max": 9, "mean": 9.0}
    assert status["data"]["small"]["values"] == [0.0, 1.0, 2.0]


def test_echo_of_an_unknown_topic_names_close_matches_and_creates_nothing(publisher):
    out = cli("topic", "echo", "cli.cmd_vell", ok=False)
    assert out.returncode == 1
    assert out.stderr.strip() == (f"horus: error: unknown topic 'cli.cmd_vell' in namespace '{SESSION_NAMESPACE}'; "
                                  "did you mean 'cli.cmd_vel'?")
    assert horus.topic_info("cli.cmd_vell") is None
    out = cli("topic", "hz", "zzz_nothing_like_it", ok=False)
    assert "there are" in out.stderr and "`horus topic list` shows them" in out.stderr
    assert horus.topic_info("zzz_nothing_like_it") is None
    assert "did you mean 'cli.battery'?" in cli("topic", "info", "cli.batery", ok=False).stderr


SUBSCRIBER = """
import json, sys
import horus
topic = horus.Topic(horus.msg.{cls}, sys.argv[1])
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    msg = topic.recv(timeout=30)
    print("got", json.dumps(None if msg is None else msg.to_dict()), msg and msg.frame_id, flush=True)
"""


def test_pub_is_received_by_a_subscriber_process_with_exact_values():
    name = f"cli.pub.{uuid.uuid4().hex[:6]}"
    sub = Child.python(SUBSCRIBER.format(cls="CmdVel"), name, "3")
    try:
        sub.expect("ready")
        out = cli("topic", "pub", name, "CmdVel", '{"linear": 0.5, "angular": -0.125}', "--rate", "50", "--count", "3")
        assert out.stdout.splitlines() == [f"publishing CmdVel(linear=0.5, angular=-0.125) on '{name}' at 50 Hz",
                                           "published 3 messages"]
        for _ in range(3):
            assert sub.expect("got") == 'got {"linear": 0.5, "angular": -0.125} '
        assert sub.wait() == 0
    finally:
        sub.kill()


def test_pub_of_a_message_in_a_pool_block_with_arrays_strings_and_metadata():
    name = f"cli.pub.{uuid.uuid4().hex[:6]}"
    sub = Child.python(SUBSCRIBER.format(cls="BatteryState"), name, "1")
    try:
        sub.expect("ready")
        cells = [3.5 + i / 8 for i in range(16)]
        doc = cli_json("topic", "pub", name, "horus.msg.BatteryState",
                       json.dumps({"voltage": 12.5, "cell_voltage": cells, "location": "bay 2", "cell_count": 16,
                                   "frame_id": "pack"}))
        assert doc["published"] == 1 and doc["type"] == "BatteryState" and doc["message"]["cell_voltage"] == cells
        got = sub.expect("got")
        values = json.loads(got[len("got "):got.rindex("}") + 1])
        assert values["voltage"] == 12.5 and values["cell_voltage"] == cells and values["cell_count"] == 16
        assert values["location"] == "bay 2" and got.endswith(" pack")
    finally:
        sub.kill()


def test_pub_of_a_users_type_and_of_schemaless_data(tmp_path):
    (tmp_path / "my_msgs.py").write_text(textwrap.dedent("""\
        import numpy as np, horus
        @horus.message
        class Wheel:
            rpm: np.float32
            ids: horus.array(np.uint8, 2)
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        import my_msgs  # the same class as the command's (same layout, same hash)
    finally:
        sys.path.remove(str(tmp_path))
    name = f"cli.pub.{uuid.uuid4().hex[:6]}"
    sub = horus.Topic(my_msgs.Wheel, name)
    cli("topic", "pub", name, "my_msgs:Wheel", '{"rpm": 1200.5, "ids": [3, 4]}', cwd=str(tmp_path))
    msg = sub.recv(timeout=5)
    assert msg is not None and msg.rpm == 1200.5 and msg.ids.tolist() == [3, 4]
    cli("topic", "pub", name, f"{tmp_path / 'my_msgs.py'}:Wheel", '{"rpm": 7}')  # a file instead of a module
    msg = sub.recv(timeout=5)
    assert msg is not None and msg.rpm == 7.0 and msg.ids.tolist() == [0, 0]
    data_name = f"cli.data.{uuid.uuid4().hex[:6]}"
    data = horus.Topic(data_name)
    cli("topic", "pub", data_name, "data", '{"mode": "dock", "speeds": [1, 2.5], "on": true}')
    assert data.recv(timeout=5) == {"mode": "dock", "speeds": [1, 2.5], "on": True}


def test_pub_errors_are_one_line_and_exit_1(publisher):
    cases = {
        '{"linear": 0.5,': "horus: error: the JSON for CmdVel is not valid (Expecting property name enclosed in "
                           "double quotes at line 1 column 16): '{\"linear\": 0.5,'",
        '{"linaer": 0.5}': "horus: error: CmdVel from '{\"linaer\": 0.5}': CmdVel() got an unknown field 'linaer'; "
                           "its fields are linear, angular (and timestamp_ns=, frame_id=)",
        '{"linear": "fast"}': "horus: error: CmdVel from '{\"linear\": \"fast\"}': CmdVel.linear = 'fast': expected a "
                              "number; got str",
        '[1, 2]': "horus: error: CmdVel from '[1, 2]': CmdVel.from_dict() expects a dict; got list",
    }
    for text, message in cases.items():
        out = cli("topic", "pub", "cli.never", "CmdVel", text, ok=False)
        assert (out.returncode, out.stderr.strip()) == (1, message)
    out = cli("topic", "pub", "cli.never", "CmdVl", "{}", ok=False)
    assert out.returncode == 1 and "unknown message type 'CmdVl'; did you mean CmdVel?" in out.stderr
    out = cli("topic", "pub", "cli.cmd_vel", "Pose2D", '{"x": 1}', ok=False)  # the topic carries CmdVel
    assert out.returncode == 1 and "CmdVel" in out.stderr and "Pose2D" in out.stderr
    out = cli("topic", "pub", "cli.never", "nowhere_module:Thing", "{}", ok=False)
    assert out.returncode == 1 and "cannot import 'nowhere_module'" in out.stderr
    assert horus.topic_info("cli.never") is None  # nothing was published


def test_namespace_option_isolates_topics():
    other = new_namespace("cli_iso")
    child = Child.python("""
        import sys, horus
        t = horus.Topic(horus.CmdVel, "cli.elsewhere")
        t.send(horus.CmdVel(linear=2.0, angular=0.0))
        print("ready", flush=True)
        sys.stdin.readline()
        """, env={"HORUS_NAMESPACE": other}, stdin=True)
    try:
        child.expect("ready")
        here = [t["name"] for t in cli_json("topic", "list")["topics"]]
        there = cli_json("topic", "list", "--namespace", other)
        assert "cli.elsewhere" not in here
        assert there["namespace"] == other and [t["name"] for t in there["topics"]] == ["cli.elsewhere"]
        assert cli("topic", "info", "cli.elsewhere", ok=False).returncode == 1
        assert cli_json("topic", "info", "cli.elsewhere", namespace=other)["publishers"][0]["pid"] == child.proc.pid
        child.send_line("quit")
        assert child.wait() == 0
    finally:
        child.kill()
    assert shm_objects(other) == []  # the last process unlinked the namespace


def test_an_echo_that_cannot_keep_up_never_slows_the_publisher():
    """echo's stdout is a pipe nobody reads: echo blocks writing, and the publisher still sends at
    full speed (the echo loses the oldest messages instead)."""
    import subprocess
    import time

    from test_cli import cli_env

    name = f"cli.fast.{uuid.uuid4().hex[:6]}"
    topic = horus.Topic(horus.CmdVel, name)
    topic.send(horus.CmdVel(linear=-1.0, angular=0.0))
    echo = subprocess.Popen([sys.executable, "-m", "horus", "topic", "echo", name], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until echo subscribed (it counts once it has received)
            topic.send(horus.CmdVel(linear=0.0, angular=0.0))
            info = horus.topic_info(name)
            if any(e.pid == echo.pid for e in info.subscribers):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("echo never subscribed")
        started = time.perf_counter()
        for i in range(100_000):  # ~3 MB of text: far beyond the pipe's buffer
            topic.send(horus.CmdVel(linear=float(i), angular=1.0))
        took = time.perf_counter() - started
        assert took < 5.0, f"100k sends took {took:.2f} s with a stalled echo attached"
        assert echo.poll() is None  # still there, blocked on its output
        assert horus.topic_info(name).messages >= 100_000
    finally:
        echo.kill()
        echo.wait()


def test_echo_of_a_topic_typed_only_after_echo_opened_it():
    """The topic exists untyped (opened by name) when echo starts; a publisher of a type echo's
    process never declared types it later. echo learns the type and prints the messages."""
    import subprocess
    import time

    from test_cli import cli_env

    name = f"cli.late.{uuid.uuid4().hex[:6]}"
    untyped = horus.Topic(None, name)
    assert horus.topic_info(name).kind == ""
    echo = subprocess.Popen([sys.executable, "-m", "horus", "topic", "echo", name, "-n", "3", "--json"],
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # echo starts (about 0.5 s) and waits on the untyped topic
        assert echo.poll() is None and horus.topic_info(name).kind == ""
        sender = Child.python(f"""
            import time, numpy as np, horus
            @horus.message
            class Late:
                v: np.int32
                w: horus.array(np.float32, 2)
            t = horus.Topic(Late, "{name}")
            for i in range(40):
                t.send(Late(v=i, w=[0.5, 1.5]))
                time.sleep(0.05)
            """)
        out, err = echo.communicate(timeout=30)
        sender.wait(timeout=30)
        assert echo.returncode == 0, err
        docs = [json.loads(line) for line in out.splitlines()]
        assert [d["type"] for d in docs] == ["Late"] * 3
        vs = [d["data"]["v"] for d in docs]
        assert vs == list(range(vs[0], vs[0] + 3)) and all(d["data"]["w"] == [0.5, 1.5] for d in docs)
    finally:
        echo.kill()
        echo.wait()
    del untyped


def test_echo_of_nested_and_long_layout_types_declared_only_in_the_publisher():
    """Types the topic header cannot describe: a nested one (the header's layout text names the
    inner type by hash only) and one whose layout text is longer than the header's 1023
    characters. echo declares both from the namespace's type registry."""
    child = Child.python("""
        import sys, threading, numpy as np, horus
        @horus.message
        class EchoCell:
            volts: np.float32
            temp: np.float32
        @horus.message
        class EchoPack:
            cell: EchoCell
            id: np.uint16
        EchoWide = horus.message(type("EchoWide", (), {"__annotations__": {
            f"joint_position_sensor_{i:02d}": np.float32 for i in range(40)}}))
        assert len(EchoWide.layout_text) > 1023
        pack = horus.Topic(EchoPack, "cli.pack")
        wide = horus.Topic(EchoWide, "cli.wide")
        quit = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), quit.set()), daemon=True).start()
        print("ready", flush=True)
        while not quit.wait(0.05):
            pack.send(EchoPack(cell={"volts": 3.5, "temp": 20.0}, id=7))
            wide.send(EchoWide(joint_position_sensor_39=2.5))
        """, stdin=True)
    try:
        child.expect("ready", timeout=60)
        doc = json.loads(_echo("cli.pack", "--json"))
        assert (doc["type"], doc["data"]) == ("EchoPack", {"cell": {"volts": 3.5, "temp": 20.0}, "id": 7})
        doc = json.loads(_echo("cli.wide", "--json"))
        assert doc["type"] == "EchoWide" and len(doc["data"]) == 40
        assert doc["data"]["joint_position_sensor_39"] == 2.5 and doc["data"]["joint_position_sensor_00"] == 0.0
        child.send_line("quit")
        assert child.wait() == 0
    finally:
        child.kill()
