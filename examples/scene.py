"""A synthetic robot to look at: camera, depth, lidar, pose and commands on horus topics.

    python examples/scene.py [--seconds S]        (forever by default; Ctrl-C stops it)

Then, in another terminal (same user, so the same namespace):

    horus topic list                   what flows, its type, publishers, rate of messages
    horus topic echo cmd_vel           typed messages field by field
    horus topic hz camera              the camera's rate
    horus record -o run.mcap --all --duration 5    an MCAP file that opens in Foxglove
    horus view                         the same topics live in Foxglove (ws://localhost:8765)

Topics (one process, horus.run):
  camera   640x480 rgb8 Image at 30 Hz: a ball circling over a floor gradient (frame "camera")
  depth    320x240 float32 DepthImage (metres) at 15 Hz (frame "camera")
  lidar    PointCloud of 20,000 points (x, y, z, intensity) at 10 Hz: a room's walls (frame "lidar")
  pose     horus.msg.Pose at 50 Hz: the robot driving a circle (frame "map")
  tf       horus.msg.TransformStamped map -> base_link at 50 Hz
  cmd_vel  horus.CmdVel at 50 Hz
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import horus
from horus import CmdVel, DepthImage, Image, Node, PointCloud
from horus.msg import Pose, TransformStamped

W, H = 640, 480
ROOM = 4.0  # metres: the lidar sees a square room of this half-width

_ys, _xs = np.mgrid[0:H, 0:W]
_floor = np.stack([_xs * 255 // W, _ys * 255 // H, np.full_like(_xs, 90)], axis=-1).astype(np.uint8)
_rng = np.random.default_rng(7)
_angles = _rng.uniform(0, 2 * np.pi, 20_000)
_heights = _rng.uniform(0.0, 2.0, 20_000).astype(np.float32)


def now_ns() -> int:
    return time.time_ns()


def camera(node: Node) -> None:
    t = time.monotonic()
    frame = _floor.copy()
    cx, cy = W / 2 + 180 * math.cos(t), H / 2 + 120 * math.sin(t)
    ball = (_xs - cx) ** 2 + (_ys - cy) ** 2 < 40**2
    frame[ball] = (255, 210, 40)
    img = Image.from_numpy(frame, encoding="rgb8")
    img.set_frame_id("camera")
    img.set_timestamp_ns(now_ns())
    node.send("camera", img)


def depth(node: Node) -> None:
    t = time.monotonic()
    d = np.fromfunction(lambda y, x: 1.0 + 3.0 * y / 240.0, (240, 320), dtype=np.float32)
    d[100:140, int(160 + 100 * math.cos(t)) - 20:int(160 + 100 * math.cos(t)) + 20] = 0.8
    msg = DepthImage.from_numpy(d)
    msg.set_frame_id("camera")
    msg.set_timestamp_ns(now_ns())
    node.send("depth", msg)


def lidar(node: Node) -> None:
    # rays from the centre to the walls of a square room, with a little noise
    c, s = np.cos(_angles), np.sin(_angles)
    r = ROOM / np.maximum(np.abs(c), np.abs(s)) + _rng.normal(0, 0.02, _angles.size)
    pts = np.stack([r * c, r * s, _heights, (_heights / 2.0)], axis=1).astype(np.float32)
    cloud = PointCloud.from_numpy(pts)
    cloud.set_frame_id("lidar")
    cloud.set_timestamp_ns(now_ns())
    node.send("lidar", cloud)


def motion(node: Node) -> None:
    t = time.monotonic() * 0.3
    x, y, yaw = 2.0 * math.cos(t), 2.0 * math.sin(t), t + math.pi / 2
    q = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
    pose = Pose.from_dict({"position": {"x": x, "y": y, "z": 0.0},
                           "orientation": {"x": q[0], "y": q[1], "z": q[2], "w": q[3]}})
    pose.set_frame_id("map")
    pose.set_timestamp_ns(now_ns())
    node.send("pose", pose)
    tf = TransformStamped.from_dict({"parent_frame": "map", "child_frame": "base_link",
                                     "transform": {"translation": {"x": x, "y": y, "z": 0.0},
                                                   "rotation": {"x": q[0], "y": q[1], "z": q[2], "w": q[3]}}})
    tf.set_timestamp_ns(now_ns())
    node.send("tf", tf)
    node.send("cmd_vel", CmdVel(linear=0.6, angular=0.3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until Ctrl-C)")
    args = ap.parse_args()
    print(f"scene: publishing camera, depth, lidar, pose, tf, cmd_vel in namespace {horus.namespace()!r}",
          flush=True)
    horus.run(
        Node("camera", camera, rate=30, pubs=["camera"]),
        Node("depth", depth, rate=15, pubs=["depth"]),
        Node("lidar", lidar, rate=10, pubs=["lidar"]),
        Node("motion", motion, rate=50, pubs=["pose", "tf", "cmd_vel"]),
        duration=args.seconds,
    )


if __name__ == "__main__":
    main()
