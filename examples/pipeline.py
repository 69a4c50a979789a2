"""A real multi-process horus pipeline: camera -> NumPy edge detector -> PyTorch model -> CmdVel.

    python examples/pipeline.py [--seconds 5] [--rate 30]

Three processes share one horus namespace:
  camera         publishes 640x480 rgb8 frames on "camera.rgb" at --rate Hz (horus.Node + horus.run)
  edge_detector  receives them, runs the spec's NumPy edge filter, publishes "camera.edges"
  edge_detector  also publishes the 5 strongest edge columns as detections: a Tensor of
                 horus.msg.Detection2D records on "detections" (an array of typed messages)
  model          receives frames and edges, opens frames in PyTorch (to_torch, no copy), runs a
                 small convolution, and steers toward the strongest detection: a horus.CmdVel on
                 "cmd_vel" (an 8-byte typed message, inline in the ring slot)
Each message carries the sender's time.monotonic_ns() in timestamp_ns, so every receiver measures
the hop latency (send -> recv). Each process also prints horus.block_ref(msg) of the first frames:
the same (segment, block, generation) on both sides of a hop means nobody copied the pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import numpy as np

import horus
from horus import Image, Topic
from horus.msg import Detection2D

WIDTH, HEIGHT = 640, 480


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def summarize(latencies_ns: list[int]) -> dict:
    if not latencies_ns:
        return {"count": 0}
    a = np.array(latencies_ns, dtype=np.float64) / 1e3
    return {"count": len(a), "median_us": float(np.median(a)), "p99_us": float(np.percentile(a, 99)),
            "max_us": float(a.max())}


# ---------------------------------------------------------------- the three processes
def camera(seconds: float, rate: float) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    sent = []

    def tick(node: horus.Node) -> None:
        k = len(sent)
        frame = np.roll(base, k * 4, axis=1)  # a moving scene
        img = Image.from_numpy(frame, encoding="rgb8")  # the one copy into shared memory
        img.set_frame_id("camera_front")
        img.set_timestamp_ns(time.monotonic_ns())
        node.send("camera.rgb", img)
        if k < 3:
            emit(role="camera", event="sent", frame=k, block=list(horus.block_ref(img)))
        sent.append(k)

    node = horus.Node(name="camera", tick=tick, rate=rate, pubs=["camera.rgb"])
    t0 = time.monotonic()
    horus.run(node, duration=seconds)
    elapsed = time.monotonic() - t0
    emit(role="camera", event="done", frames=len(sent), rate_hz=len(sent) / elapsed,
         overruns=node.stats.overruns, mean_tick_ms=node.stats.mean_tick_s * 1e3)


def edge_detector(idle_timeout: float) -> None:
    sub_rgb = Topic(Image, "camera.rgb")
    pub_edges = Topic(Image, "camera.edges")
    pub_dets = Topic(horus.Tensor[Detection2D], "detections")
    emit(role="edge_detector", event="ready")
    lat, k, first = [], 0, None
    while True:
        img = sub_rgb.recv(timeout=idle_timeout if k else 60.0)  # the camera may take a while to start
        if img is None:
            break
        lat.append(time.monotonic_ns() - img.timestamp_ns)
        first = first or time.monotonic()
        if k < 3:
            emit(role="edge_detector", event="received", frame=k, block=list(horus.block_ref(img)))
        pixels = img.to_numpy()  # zero-copy view of the camera's block
        gray = np.mean(pixels, axis=2).astype(np.uint8)
        edges = np.abs(np.diff(gray, axis=1))
        result = Image.from_numpy(edges)
        result.set_frame_id(img.frame_id)
        result.set_timestamp_ns(time.monotonic_ns())
        pub_edges.send(result)
        energy = edges.sum(axis=0, dtype=np.float64)  # per column: where the scene has structure
        cols = np.argsort(energy)[-5:][::-1]
        dets = np.zeros(5, dtype=Detection2D.dtype)  # 5 records of the typed message
        dets["class_id"], dets["score"] = 1, energy[cols] / max(energy.max(), 1.0)
        dets["center_x"], dets["center_y"], dets["width"], dets["height"] = cols, HEIGHT / 2, 8, HEIGHT
        found = horus.Tensor.from_numpy(dets)  # one copy in; receivers get a structured array view
        found.set_frame_id(img.frame_id)
        found.set_timestamp_ns(time.monotonic_ns())
        pub_dets.send(found)
        k += 1
    rate = (k - 1) / (time.monotonic() - idle_timeout - first) if k > 1 and first else 0.0
    emit(role="edge_detector", event="done", frames=k, dropped=sub_rgb.dropped, rate_hz=rate,
         hop="camera -> edge_detector", latency=summarize(lat))


def model(idle_timeout: float) -> None:
    import torch

    frames = Topic(Image, "camera.rgb")
    edges = Topic(Image, "camera.edges")
    detections = Topic(horus.Tensor[Detection2D], "detections")
    cmd_vel = Topic(horus.CmdVel, "cmd_vel")
    torch.set_num_threads(1)  # a good neighbour: the other pipeline stages need cores too
    kernel = torch.ones(8, 3, 3, 3) / 27.0
    torch.nn.functional.conv2d(torch.zeros(1, 3, 120, 160), kernel)  # warm-up before frames arrive
    lat_rgb, lat_edges, lat_dets, k, commands = [], [], [], 0, 0
    stop = threading.Event()

    def edges_listener() -> None:  # a second subscriber thread: recv() releases the GIL while waiting
        while not stop.is_set():
            e = edges.recv(timeout=0.05)
            if e is not None:
                lat_edges.append(time.monotonic_ns() - e.timestamp_ns)

    def controller() -> None:  # steers toward the strongest detection
        nonlocal commands
        while not stop.is_set():
            found = detections.recv(timeout=0.05)
            if found is None:
                continue
            lat_dets.append(time.monotonic_ns() - found.timestamp_ns)
            recs = found.to_numpy()  # structured array of Detection2D, zero-copy and read-only
            best = recs[np.argmax(recs["score"])]
            steer = float((WIDTH / 2 - best["center_x"]) / (WIDTH / 2))
            cmd_vel.send(horus.CmdVel(linear=0.5, angular=steer, timestamp_ns=time.monotonic_ns()))
            commands += 1

    listener = threading.Thread(target=edges_listener)
    listener.start()
    steering = threading.Thread(target=controller)
    steering.start()
    emit(role="model", event="ready")
    last = time.monotonic() + 60.0  # the camera may take a while to start
    while time.monotonic() - last < idle_timeout:
        img = frames.recv(timeout=0.05)
        if img is None:
            continue
        last = time.monotonic()
        lat_rgb.append(time.monotonic_ns() - img.timestamp_ns)
        if k < 3:
            emit(role="model", event="received", frame=k, block=list(horus.block_ref(img)))
        tensor = img.to_torch()  # zero-copy: same address as the pool block
        assert tensor.data_ptr() == img.data_ptr()
        x = tensor.permute(2, 0, 1).unsqueeze(0).float() / 255.0
        torch.nn.functional.conv2d(x[:, :, ::4, ::4], kernel)  # "inference"
        k += 1
    stop.set()
    listener.join()
    steering.join()
    emit(role="model", event="done", frames=k, dropped=frames.dropped, hop="camera -> model",
         latency=summarize(lat_rgb), edges_latency=summarize(lat_edges), edges=len(lat_edges),
         detections_latency=summarize(lat_dets), detections_dropped=detections.dropped, commands=commands)


# ---------------------------------------------------------------- orchestration
def spawn(role: str, *args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--role", role, *args], env=env,
                            stdout=subprocess.PIPE, text=True)


def read_until_ready(proc: subprocess.Popen, records: list) -> None:
    for line in proc.stdout:
        rec = json.loads(line)
        records.append(rec)
        if rec.get("event") == "ready":
            return
    raise RuntimeError("a pipeline process exited before it was ready")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--role", choices=["camera", "edge_detector", "model"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role == "camera":
        camera(args.seconds, args.rate)
        return 0
    if args.role == "edge_detector":
        edge_detector(idle_timeout=1.0)
        return 0
    if args.role == "model":
        model(idle_timeout=1.5)
        return 0

    ns = os.environ.get("HORUS_NAMESPACE") or f"demo_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, HORUS_NAMESPACE=ns)
    print(f"horus pipeline: camera -> edge detector (NumPy) -> model (PyTorch), 3 processes, "
          f"{WIDTH}x{HEIGHT} rgb8 at {args.rate:g} Hz for {args.seconds:g} s (namespace {ns})\n")
    records: list[dict] = []
    procs = []
    try:
        for role in ("edge_detector", "model"):
            p = spawn(role, env=env)
            procs.append(p)
            read_until_ready(p, records)
        cam = spawn("camera", "--seconds", str(args.seconds), "--rate", str(args.rate), env=env)
        procs.append(cam)
        for p in procs:
            out, _ = p.communicate(timeout=args.seconds + 60)
            records += [json.loads(line) for line in out.splitlines() if line.strip()]
            if p.returncode != 0:
                print(f"a pipeline process failed with exit code {p.returncode}", file=sys.stderr)
                return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()

    done = {r["role"]: r for r in records if r.get("event") == "done"}
    cam = done["camera"]
    print(f"camera        published {cam['frames']} frames at {cam['rate_hz']:.1f} Hz "
          f"(tick {cam['mean_tick_ms']:.2f} ms incl. the one copy into the pool, {cam['overruns']} overruns)")
    print(f"\n{'hop':<28}{'messages':>9}{'dropped':>9}{'median':>11}{'p99':>11}{'max':>11}")
    rows = [("camera -> edge_detector", done["edge_detector"]["latency"], done["edge_detector"]["dropped"]),
            ("camera -> model", done["model"]["latency"], done["model"]["dropped"]),
            ("edge_detector -> model", done["model"]["edges_latency"], 0),
            ("detections -> model", done["model"]["detections_latency"], done["model"]["detections_dropped"])]
    for hop, lat, dropped in rows:
        if lat.get("count"):
            print(f"{hop:<28}{lat['count']:>9}{dropped:>9}{lat['median_us']:>9.1f}us"
                  f"{lat['p99_us']:>9.1f}us{lat['max_us']:>9.1f}us")
        else:
            print(f"{hop:<28}{0:>9}")
    print(f"\nmodel -> cmd_vel: {done['model']['commands']} CmdVel commands (8 bytes each, inline in the ring slot) "
          "steering toward the strongest Detection2D record")
    print("\nzero-copy check: where frame k's pixels live in the pool (segment, block, generation, offset)")
    for k in range(3):
        refs = {r["role"]: r["block"] for r in records if r.get("frame") == k and "block" in r}
        same = len({tuple(v) for v in refs.values()}) == 1 and len(refs) == 3
        print(f"  frame {k}: " + ", ".join(f"{role} {tuple(v)}" for role, v in refs.items())
              + ("  -> one block, no copy" if same else "  -> MISMATCH"))
    time.sleep(0.2)
    leftovers = [f for f in os.listdir("/dev/shm") if f.startswith(f"horus.{ns}.")]
    print(f"\n/dev/shm after all processes exited: {leftovers if leftovers else 'nothing left of ' + ns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
