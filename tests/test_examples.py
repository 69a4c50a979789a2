"""The README's demo programs run and show what they claim (zero copy, nothing left behind)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str, *args: str, timeout: float = 180) -> str:
    ns = f"ex_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, HORUS_NAMESPACE=ns)
    out = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
    return out.stdout


def test_pipeline_demo_moves_frames_between_three_processes_without_copies():
    text = _run("pipeline.py", "--seconds", "1.5")
    assert "camera -> edge_detector" in text and "edge_detector -> model" in text
    # every hop delivered frames
    for hop in ("camera -> edge_detector", "camera -> model", "edge_detector -> model", "detections -> model"):
        line = next(line for line in text.splitlines() if line.startswith(hop))
        assert int(line.split()[3]) > 0, line  # "<from> -> <to> <messages> <dropped> ..." 
    assert text.count("one block, no copy") == 3, text
    commands = next(line for line in text.splitlines() if line.startswith("model -> cmd_vel"))
    assert int(commands.split()[3]) > 0, commands  # typed messages flowed: detections in, CmdVel out
    assert "MISMATCH" not in text
    assert "nothing left of" in text


def test_bridge_demo_streams_frames_and_commands_between_two_namespaces():
    ns = f"ex_{uuid.uuid4().hex[:10]}"
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "bridge_demo.py"), "--seconds", "3"],
                         env=dict(os.environ, HORUS_NAMESPACE=ns), capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    frames = next(line for line in out.stdout.splitlines() if line.startswith("robot -> base:"))
    got, sent = (int(w) for w in frames.split()[3:6:2])  # "robot -> base: 88 of 90 camera frames ..."
    assert sent >= 60 and got >= sent * 0.8, frames
    assert " 0 lost on the link" in frames, frames
    commands = next(line for line in out.stdout.splitlines() if line.startswith("base -> robot:"))
    assert int(commands.split()[3]) >= got * 0.8, commands
    for role in ("robot", "base"):
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}_{role}.")]


def test_control_loop_demo_shows_deadlines_safe_mode_restarts_and_logs():
    text = _run("control_loop.py", "--seconds", "2")
    rows = {line.split()[0]: line.split() for line in text.splitlines()
            if line.split() and line.split()[0] in ("controller", "detector", "sensor")}
    assert set(rows) == {"controller", "detector", "sensor"}, text
    assert int(rows["controller"][2]) > 1000 and int(rows["detector"][2]) > 30, text  # ticks
    assert int(rows["controller"][3]) >= 1, text  # the provoked hiccup missed its deadline
    assert int(rows["sensor"][4]) >= 2 and int(rows["sensor"][5]) >= 1, text  # errors, restarts
    assert rows["detector"][-1] == "own" and rows["controller"][-1] == "own" and rows["sensor"][-1] == "main"
    safe = next(line for line in text.splitlines() if line.startswith("safe mode: entered"))
    assert int(safe.split()[3]) >= 1 and int(safe.split()[5]) >= 1, safe
    assert "WARNING controller:" in text and "missed the deadline of 900.0 us" in text
    assert "INFO    sensor: restarted: init ran again (restart 1 of 10)" in text
    assert "ERROR   sensor: tick raised OSError: serial read timed out" in text


def test_memory_types_demo_shows_one_buffer_per_message_and_returns_every_block():
    text = _run("demo.py")
    assert "one buffer: yes" in text
    assert "one buffer: no" not in text
    assert "zero-copy everywhere: yes;  every block back in the pool: yes" in text


def test_scene_example_feeds_the_readme_commands_and_a_recording_with_every_topic(tmp_path):
    """The README's first five commands, against examples/scene.py: list, echo, hz, record."""
    ns = f"ex_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, HORUS_NAMESPACE=ns)
    scene = subprocess.Popen([sys.executable, str(ROOT / "examples" / "scene.py"), "--seconds", "8"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def horus_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "horus", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    try:
        assert scene.stdout.readline().startswith("scene: publishing")
        import json
        import time
        deadline = time.monotonic() + 20
        while True:
            listed = json.loads(horus_cli("topic", "list", "--json").stdout)
            names = {t["name"]: t for t in listed["topics"]}
            if {"camera", "depth", "lidar", "pose", "tf", "cmd_vel"} <= names.keys() and \
                    all(t["messages"] > 0 for t in names.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert {n: names[n]["type_name"] or names[n]["kind"] for n in names} == {
            "camera": "Image", "depth": "DepthImage", "lidar": "PointCloud", "pose": "Pose",
            "tf": "TransformStamped", "cmd_vel": "CmdVel"}
        echo = horus_cli("topic", "echo", "cmd_vel", "--once")
        assert echo.returncode == 0 and "linear: 0.6" in echo.stdout and "angular: 0.3" in echo.stdout
        hz = horus_cli("topic", "hz", "camera", "--duration", "1.5", "--json")
        rate = json.loads(hz.stdout.strip().splitlines()[-1])["rate_hz"]
        assert 20 < rate < 40, hz.stdout  # 30 Hz, on a loaded 2-core machine
        out = tmp_path / "run.mcap"
        rec = horus_cli("record", "-o", str(out), "--all", "--duration", "1.5")
        assert rec.returncode == 0, rec.stderr
        info = json.loads(horus_cli("bag", "info", str(out), "--json").stdout)
        topics = {t["name"]: t for t in info["topics"]}
        assert {topics[n]["schema_name"] for n in ("camera", "depth")} == {"foxglove.RawImage"}
        assert topics["lidar"]["schema_name"] == "foxglove.PointCloud"
        assert topics["tf"]["schema_name"] == "foxglove.FrameTransform" and topics["pose"]["schema_name"] == "foxglove.PoseInFrame"
        assert all(t["messages"] > 0 for t in topics.values())
    finally:
        import signal
        scene.send_signal(signal.SIGINT)  # horus.run stops cleanly; the last process unlinks the namespace
        try:
            scene.wait(timeout=20)
        except subprocess.TimeoutExpired:
            scene.kill()
            scene.wait(timeout=10)
        subprocess.run([sys.executable, "-m", "horus", "clean", ns], env=env, capture_output=True, timeout=60)
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
