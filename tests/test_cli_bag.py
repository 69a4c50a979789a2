"""`horus record`, `horus play`, `horus bag info` and `horus view`: the wiring to horus.bag and horus.view.

A child publishes CmdVel and Image messages; `horus record` writes them to an MCAP file,
`horus bag info` reports what it holds, and `horus play` publishes them again to a
subscriber in this process, with the recorded values.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

import horus
from _child import Child
from test_cli import cli, cli_env, cli_json

pytest.importorskip("horus.bag")

PUBLISHER = """
import sys, threading, time
import numpy as np
import horus
cmd = horus.Topic(horus.CmdVel, "bag.cmd_vel")
cam = horus.Topic(horus.Image, "bag.camera")
quit = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), quit.set()), daemon=True).start()
print("ready", flush=True)
i = 0
while not quit.wait(0.02):
    cmd.send(horus.CmdVel(linear=float(i), angular=0.5))
    cam.send(horus.Image.from_numpy(np.full((4, 6), i % 256, np.uint8)))
    i += 1
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("bag") / "run.mcap"
    child = Child.python(PUBLISHER, stdin=True)
    try:
        child.expect("ready", timeout=60)
        stats = cli_json("record", "-o", str(path), "bag.cmd_vel", "bag.camera", "--duration", "1.5",
                         "--compression", "lz4")
        child.send_line("quit")
        assert child.wait() == 0
    finally:
        child.kill()
    return path, stats


def test_record_writes_the_named_topics_and_reports_its_statistics(recording):
    path, stats = recording
    assert stats["path"] == str(path) and stats["compression"] == "lz4" and stats["drops"] == 0
    assert set(stats["topics"]) == {"bag.cmd_vel", "bag.camera"}
    assert 1.4 <= stats["elapsed_s"] < 3
    n = stats["topics"]["bag.cmd_vel"]["messages"]
    assert 30 <= n <= 90 and stats["messages"] == n + stats["topics"]["bag.camera"]["messages"]


def test_bag_info_reports_what_the_file_holds(recording):
    path, stats = recording
    doc = cli_json("bag", "info", str(path))
    assert doc["messages"] == stats["messages"] and doc["compression"] == "lz4"
    topics = {t["name"]: t for t in doc["topics"]}
    assert (topics["bag.cmd_vel"]["horus_type"], topics["bag.cmd_vel"]["messages"]) == (
        "CmdVel", stats["topics"]["bag.cmd_vel"]["messages"])
    assert topics["bag.camera"]["schema_name"] == "foxglove.RawImage"
    lines = cli("bag", "info", str(path)).stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("TOPIC "))
    assert lines[header].split() == ["TOPIC", "TYPE", "SCHEMA", "ENCODING", "MESSAGES"]
    assert lines[header + 1].split()[:2] == ["bag.camera", "Image"]
    assert lines[header + 2].split() == ["bag.cmd_vel", "CmdVel", "CmdVel", "json",
                                         str(stats["topics"]["bag.cmd_vel"]["messages"])]
    assert doc["recording"]["drops"] == "" and stats["drops"] == 0  # the JSON keeps the stored value
    assert "recording drops             0" in lines  # ... the table says how many: none
    assert "recording topics_requested  bag.cmd_vel,bag.camera" in lines


def test_bag_info_shows_the_drops_of_a_recording_in_all_and_per_topic(tmp_path):
    from mcap.writer import Writer

    def bag_with_drops(name: str, drops: str) -> str:
        path = tmp_path / name
        with open(path, "wb") as f:
            w = Writer(f)
            w.start(library="test")
            w.add_metadata("horus.recording", {"horus_version": "0.1.0", "namespace": "", "drops": drops})
            w.finish()
        return str(path)

    lossy = bag_with_drops("lossy.mcap", "bag.camera=1200,bag.cmd_vel=3")
    assert "recording drops          1,203 (bag.camera=1,200, bag.cmd_vel=3)" in cli("bag", "info", lossy).stdout
    assert cli_json("bag", "info", lossy)["recording"] == {"horus_version": "0.1.0", "namespace": "",
                                                           "drops": "bag.camera=1200,bag.cmd_vel=3"}
    text = cli("bag", "info", bag_with_drops("odd.mcap", "camera=many")).stdout.splitlines()
    assert "recording drops          camera=many" in text  # not topic=count: shown as stored
    assert "recording namespace      -" in text  # an empty value is "-", not a blank


def test_play_publishes_the_recorded_values_again(recording, no_leak):
    path, stats = recording
    n = stats["topics"]["bag.cmd_vel"]["messages"]
    sub = horus.Topic(horus.CmdVel, "bag.cmd_vel", capacity=256)  # room for every recorded message
    doc = cli_json("play", str(path), "--topics", "bag.cmd_vel", "--rate", "20")
    assert doc["topics"] == {"bag.cmd_vel": n} and doc["messages"] == n and doc["loops"] == 1
    got = []
    while (m := sub.try_recv()) is not None:
        got.append((m.linear, m.angular))
    assert sub.dropped == 0 and len(got) == n
    first = int(got[0][0])
    assert got == [(float(first + i), 0.5) for i in range(n)]  # what the publisher sent, in order


def test_bag_errors_and_usage_errors(tmp_path):
    out = cli("bag", "info", str(tmp_path / "missing.mcap"), ok=False)
    assert out.returncode == 1 and out.stderr.startswith("horus: error: ") and "missing.mcap" in out.stderr
    (tmp_path / "junk.mcap").write_bytes(b"not an mcap file at all")
    out = cli("play", str(tmp_path / "junk.mcap"), ok=False)
    assert out.returncode == 1 and "junk.mcap" in out.stderr
    out = cli("record", "-o", str(tmp_path / "x.mcap"), "a", "--all", ok=False)
    assert out.returncode == 2 and "not both" in out.stderr
    out = cli("play", str(tmp_path / "junk.mcap"), "--rate", "0", ok=False)
    assert out.returncode == 2


def test_view_listens_reports_its_port_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "horus", "view", "--port", "0", "--json"], env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert first["event"] == "listening" and first["port"] > 0
        assert first["url"] == f"ws://localhost:{first['port']}" and first["topics"] is None
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        last = json.loads(out.splitlines()[-1])
        assert last["event"] == "stopped" and last["port"] == first["port"] and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _run_on_a_terminal(args: list[str], timeout: float = 30) -> tuple[int, str]:
    """Runs `python -m horus ARGS` with stdout on a pseudo-terminal; (status, what it wrote)."""
    import os
    import pty

    master, slave = pty.openpty()
    env = cli_env()
    env.pop("NO_COLOR")
    proc = subprocess.Popen([sys.executable, "-m", "horus", *args], env=env, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=timeout), b"".join(chunks).decode(errors="replace")


def test_record_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path):
    status, text = _run_on_a_terminal(["record", "-o", str(tmp_path / "t.mcap"), "bag.nobody", "--duration", "1.2"])
    assert status == 0
    assert "recording  0.5 s  0 messages  0 B  0 dropped" in text and "\x1b[" in text  # a redrawn status line
    piped = cli("record", "-o", str(tmp_path / "p.mcap"), "bag.nobody", "--duration", "0.6")
    assert "\x1b" not in piped.stdout and "\r" not in piped.stdout
    assert piped.stdout.startswith("recording bag.nobody to ") and "messages     0" in piped.stdout
    assert "topic 'bag.nobody' does not exist yet" in piped.stderr


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_a_damaged_recording_is_a_clear_error_for_play_and_bag_info(recording, tmp_path, damage):
    """The issue's error paths: a truncated or corrupt .mcap gives one clear line and exit 1."""
    data = open(recording[0], "rb").read()
    bad = tmp_path / f"{damage}.mcap"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "corrupt":
        b = bytearray(data)
        for i in range(len(b) // 3, len(b) // 3 + 64):
            b[i] ^= 0x5A
        bad.write_bytes(bytes(b))
    else:
        bad.write_bytes(b"")
    # bag info reads the summary (like `ros2 bag info`): bytes flipped inside a chunk are found by
    # play, which checks the chunk's CRC before it publishes anything of it
    commands = [("play", str(bad))]
    if damage != "corrupt":
        commands += [("bag", "info", str(bad)), ("bag", "info", str(bad), "--json")]
    for args in commands:
        out = cli(*args, ok=False)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("horus: error: ") and bad.name in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_record_to_an_unwritable_output_is_a_clear_error(tmp_path):
    for target in (tmp_path / "no" / "such" / "dir" / "x.mcap", tmp_path):  # a missing directory; a directory
        out = cli("record", "-o", str(target), "--all", "--duration", "0.2", ok=False)
        assert out.returncode == 1, (target, out.stdout, out.stderr)
        assert out.stderr.startswith("horus: error: ") and str(target) in out.stderr, out.stderr
        assert "Traceback" not in out.stderr, out.stderr
