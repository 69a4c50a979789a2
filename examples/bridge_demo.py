"""Two "hosts" joined by the Zenoh bridge: a robot streams its camera to a base station, which
finds the ball in each frame and sends steering commands back.

    python examples/bridge_demo.py [--seconds 5]

Each side is a process with a horus namespace of its own (as two machines have separate
shared memory) and its own horus.Bridge, joined over TCP on loopback: on two real hosts only
the endpoints change (docs/bridge.md). The robot publishes 640x480 rgb8 frames at 30 Hz on
"camera"; its bridge sends them out and brings "cmd_vel" in. The base's bridge brings
"camera" in and sends "cmd_vel" out; its detector stamps each command with the frame's
timestamp, so the robot measures the whole round trip: camera -> network -> detector ->
network -> robot.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time

import numpy as np

W, H, FPS = 640, 480, 30


def _frame(t: float) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 2] = np.linspace(40, 120, H, dtype=np.uint8)[:, None]  # a blue floor gradient
    cx, cy = int(W / 2 + W / 3 * np.cos(t)), int(H / 2 + H / 3 * np.sin(t))
    y, x = np.ogrid[:H, :W]
    img[(x - cx) ** 2 + (y - cy) ** 2 < 30**2] = (255, 40, 40)  # the red ball
    return img


def _pct(v: list[float], p: float) -> float:
    return sorted(v)[min(len(v) - 1, int(len(v) * p))] if v else float("nan")


def robot(endpoint: str, seconds: float) -> None:
    import horus

    bridge = horus.Bridge(pub=["camera"], sub=["cmd_vel"], listen=[endpoint], scouting=False).start()
    camera = horus.Topic(horus.Image, "camera")
    cmd = horus.Topic(horus.CmdVel, "cmd_vel")
    deadline = time.monotonic() + 20
    while bridge.stats.peers == 0 and time.monotonic() < deadline:  # the base's bridge is there
        time.sleep(0.05)
    time.sleep(0.5)  # and has subscribed; our bridge has found "camera" (it looks every 0.2 s)
    rtt: list[float] = []
    sent = 0
    t0 = time.monotonic()
    next_frame = t0
    while time.monotonic() - t0 < seconds:
        now = time.monotonic()
        if now >= next_frame:
            img = horus.Image.from_numpy(_frame(now - t0))  # one copy into the pool
            img.set_timestamp_ns(time.time_ns())
            img.set_frame_id("camera")
            camera.send(img)
            sent += 1
            next_frame += 1.0 / FPS
        c = cmd.recv(timeout=max(0.0, min(next_frame - time.monotonic(), 0.01)))
        if c is not None:
            rtt.append((time.time_ns() - c.timestamp_ns) / 1e6)
    time.sleep(0.3)
    while (c := cmd.try_recv()) is not None:
        rtt.append((time.time_ns() - c.timestamp_ns) / 1e6)
    stats = bridge.stop()
    print(json.dumps({"side": "robot", "frames_sent": sent, "commands": len(rtt),
                      "rtt_ms_p50": round(_pct(rtt, 0.5), 2), "rtt_ms_p99": round(_pct(rtt, 0.99), 2),
                      "lost_in": stats.topic("cmd_vel", "in").lost if stats.topic("cmd_vel", "in") else None}))


def base(endpoint: str, seconds: float) -> None:
    import horus

    bridge = horus.Bridge(sub=["camera"], pub=["cmd_vel"], connect=[endpoint], scouting=False).start()
    cmd = horus.Topic(horus.CmdVel, "cmd_vel")
    camera = None
    frames = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds + 1.0:
        if camera is None:
            if horus.topic_info("camera") is None:  # the bridge creates it with the first frame
                time.sleep(0.01)
                continue
            camera = horus.Topic(horus.Image, "camera")
        img = camera.recv(timeout=0.1)
        if img is None:
            continue
        frames += 1
        red = img.to_numpy()[..., 0]  # a zero-copy view of the frame the bridge published
        ys, xs = np.nonzero(red > 200)
        steer = 0.0 if xs.size == 0 else float((xs.mean() - W / 2) / (W / 2))
        c = horus.CmdVel(linear=0.5, angular=-steer)
        c.set_timestamp_ns(img.timestamp_ns)  # the frame's time: the robot measures the round trip
        cmd.send(c)
        del img
    stats = bridge.stop()
    cam = stats.topic("camera", "in")
    print(json.dumps({"side": "base", "frames": frames, "lost": cam.lost if cam else None,
                      "latency_ms_p50": round(cam.latency_ms_p50, 2) if cam else None,
                      "latency_ms_p99": round(cam.latency_ms_p99, 2) if cam else None}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--role", choices=("robot", "base"), help=argparse.SUPPRESS)
    ap.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role:
        (robot if args.role == "robot" else base)(args.endpoint, args.seconds)
        return 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"tcp/127.0.0.1:{s.getsockname()[1]}"
    tag = os.environ.get("HORUS_NAMESPACE") or f"demo_{os.getpid()}_{secrets.token_hex(3)}"
    names = {role: f"{tag[:40]}_{role}" for role in ("robot", "base")}
    procs = {}
    for role in ("robot", "base"):
        env = dict(os.environ, HORUS_NAMESPACE=names[role])
        procs[role] = subprocess.Popen([sys.executable, __file__, "--role", role, "--endpoint", endpoint,
                                        "--seconds", str(args.seconds)], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
    out = {role: json.loads(p.communicate(timeout=args.seconds + 60)[0].strip().splitlines()[-1])
           for role, p in procs.items()}
    r, b = out["robot"], out["base"]
    print(f"robot -> base: {b['frames']} of {r['frames_sent']} camera frames (640x480 rgb8) arrived, "
          f"{b['lost']} lost on the link, latency p50 {b['latency_ms_p50']} ms, p99 {b['latency_ms_p99']} ms")
    print(f"base -> robot: {r['commands']} steering commands, round trip camera -> detector -> robot "
          f"p50 {r['rtt_ms_p50']} ms, p99 {r['rtt_ms_p99']} ms")
    ok = all(p.returncode == 0 for p in procs.values()) and b["frames"] > 0 and r["commands"] > 0
    for role in ("robot", "base"):
        subprocess.run([sys.executable, "-m", "horus", "clean", names[role]], capture_output=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
