#!/usr/bin/env python3
"""Does the MCAP recorder keep up, and what does it cost? (issue 12)

Load, each publisher in its own process (a fresh interpreter, like a real driver):

* cam0, cam1, cam2   640x480 rgb8 Images at 30 Hz (921,600 bytes each): a gradient that
                     moves from frame to frame plus sensor-like noise (compresses about as
                     much as a camera image, not as well as a flat test pattern)
* cloud              100,000-point XYZI float32 PointCloud at 10 Hz (1.6 MB each)

That is 99 MB/s of messages. A recorder process (horus.bag.Recorder, like `horus record`)
subscribes to the four topics before the publishers start, and records for the whole run,
once per compression (zstd, lz4, none). Publishers never wait for the recorder; a recorder
that falls behind loses messages, which its topics count (`dropped`).

Reported per compression: messages sent and recorded, drops, whether it kept up (nothing
dropped, everything sent recorded), recorded MB/s, the recorder's CPU time (user + system,
all its threads, from resource.getrusage and /proc/self/stat over the recording window,
stop() and its final flush included) as cores used, CPU milliseconds per recorded MB and
CPU % per recorded MB/s, and the file's size.

    .venv/bin/python bench/record/record_bench.py --quick          # 3 s per compression
    .venv/bin/python bench/record/record_bench.py                  # 20 s per compression
    .venv/bin/python bench/record/record_bench.py --out results.json --compression zstd
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

WIDTH, HEIGHT, CAM_HZ, CAMERAS = 640, 480, 30.0, 3
CLOUD_POINTS, CLOUD_FIELDS, CLOUD_HZ = 100_000, 4, 10.0
FRAMES = 8  # distinct frames cycled by each publisher


# ---- roles (child processes) -------------------------------------------------------------------


def _proc_cpu() -> tuple[float, float]:
    """(utime, stime) of this process in seconds, from /proc/self/stat."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _rusage() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _line() -> str:
    return sys.stdin.readline().strip()


def role_publisher(kind: str, name: str, duration: float, seed: int) -> None:
    import numpy as np

    import horus

    rng = np.random.default_rng(seed)
    if kind == "camera":
        rate = CAM_HZ
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
        frames = []
        for k in range(FRAMES):
            base = ((x + 2 * y) // 3 + 16 * k) % 256
            img = np.stack([base, (base + 85) % 256, (255 - base)], axis=-1)
            img = img + rng.integers(-6, 7, img.shape)
            frames.append(np.clip(img, 0, 255).astype(np.uint8))
        topic: Any = horus.Topic(horus.Image, name)
        make: Any = lambda a: horus.Image.from_numpy(a, "rgb8")  # noqa: E731
    else:
        rate = CLOUD_HZ
        frames = [rng.normal(0, 10, (CLOUD_POINTS, CLOUD_FIELDS)).astype(np.float32) for _ in range(4)]
        topic = horus.Topic(horus.PointCloud, name)
        make = horus.PointCloud.from_numpy
    print("ready", flush=True)
    assert _line() == "go"
    c0 = _rusage()
    t0 = time.monotonic()
    k = 0
    while True:
        target = t0 + k / rate
        if target - t0 >= duration:
            break
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        msg = make(frames[k % len(frames)])
        msg.set_timestamp_ns(time.time_ns())
        msg.set_frame_id(name)
        topic.send(msg)
        del msg
        k += 1
    print(json.dumps({"sent": k, "cpu_s": _rusage() - c0}), flush=True)
    _line()  # keep the topic until the recorder has stopped


def role_recorder(path: str, topics: list[str], compression: str, chunk_size: int) -> None:
    import horus.bag

    rec = horus.bag.Recorder(path, topics, compression=None if compression == "none" else compression,
                             chunk_size=chunk_size)
    rec.start()
    missing = set(topics) - set(rec.subscribed)
    print("ready" if not missing else f"missing {sorted(missing)}", flush=True)
    assert _line() == "go"
    c0, p0, t0 = _rusage(), _proc_cpu(), time.monotonic()
    assert _line() == "stop"
    stats = rec.stop()
    c1, p1, t1 = _rusage(), _proc_cpu(), time.monotonic()
    print(json.dumps({
        "window_s": t1 - t0,
        "cpu_s": c1 - c0,
        "proc_utime_s": p1[0] - p0[0],
        "proc_stime_s": p1[1] - p0[1],
        "stats": stats.as_dict(),
        "file_bytes": os.path.getsize(path),
    }), flush=True)


# ---- the driver -------------------------------------------------------------------------------


class Proc:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), *args], env=env, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def read(self) -> str:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"child {self.p.args!r} exited (rc={self.p.wait()})")
        return line.strip()

    def close(self) -> None:
        if self.p.poll() is None:
            try:
                self.send("exit")
                self.p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()


def run_one(compression: str, duration: float, chunk_size: int, directory: str) -> dict[str, Any]:
    env = dict(os.environ, HORUS_NAMESPACE=f"recbench_{os.getpid()}_{compression}_{secrets.token_hex(3)}",
               PYTHONUNBUFFERED="1")
    path = os.path.join(directory, f"bench_{compression}.mcap")
    names = [f"cam{i}" for i in range(CAMERAS)] + ["cloud"]
    pubs = [Proc(["--role", "publisher", "--kind", "camera" if n.startswith("cam") else "cloud", "--name", n,
                  "--duration", str(duration), "--seed", str(i)], env) for i, n in enumerate(names)]
    rec = None
    try:
        for p in pubs:
            assert p.read() == "ready"
        rec = Proc(["--role", "recorder", "--path", path, "--topics", ",".join(names), "--compression", compression,
                    "--chunk-size", str(chunk_size)], env)
        got = rec.read()
        if got != "ready":
            raise RuntimeError(f"recorder: {got}")
        rec.send("go")
        for p in pubs:
            p.send("go")
        sent = {n: json.loads(p.read()) for n, p in zip(names, pubs)}
        time.sleep(0.3)  # the last messages reach the recorder
        rec.send("stop")
        r = json.loads(rec.read())
    finally:
        for p in pubs + ([rec] if rec else []):
            p.close()
    st = r["stats"]
    n_sent = sum(s["sent"] for s in sent.values())
    mb = st["bytes"] / 1e6
    mb_s = mb / r["window_s"]
    return {
        "compression": compression,
        "duration_s": duration,
        "sent": n_sent,
        "sent_per_topic": {n: s["sent"] for n, s in sent.items()},
        "recorded": st["messages"],
        "recorded_per_topic": {n: t["messages"] for n, t in st["topics"].items()},
        "drops": st["drops"],
        "errors": st["errors"],
        "kept_up": st["drops"] == 0 and st["messages"] == n_sent,
        "recorded_mb": mb,
        "recorded_mb_s": mb_s,
        "window_s": r["window_s"],
        "recorder_cpu_s": r["cpu_s"],
        "recorder_proc_stat_cpu_s": r["proc_utime_s"] + r["proc_stime_s"],
        "recorder_cores": r["cpu_s"] / r["window_s"],
        "cpu_ms_per_mb": r["cpu_s"] * 1000 / mb if mb else None,
        "cpu_percent_per_mb_s": (r["cpu_s"] / r["window_s"] * 100) / mb_s if mb_s else None,
        "publishers_cpu_s": sum(s["cpu_s"] for s in sent.values()),
        "file_mb": r["file_bytes"] / 1e6,
        "file_ratio": r["file_bytes"] / st["bytes"] if st["bytes"] else None,
    }


def _f(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def table(results: list[dict[str, Any]]) -> str:
    rows = ["| compression | sent | recorded | drops | kept up | MB/s | recorder cores | CPU ms per MB | "
            "CPU % per MB/s | file MB (ratio) |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(
            f"| {r['compression']} | {r['sent']} | {r['recorded']} | {r['drops']} | {'yes' if r['kept_up'] else 'NO'} "
            f"| {r['recorded_mb_s']:.1f} | {r['recorder_cores']:.2f} | {_f(r['cpu_ms_per_mb'], '.2f')} "
            f"| {_f(r['cpu_percent_per_mb_s'], '.3f')} | {r['file_mb']:.0f} ({_f(r['file_ratio'], '.2f')}) |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", choices=["publisher", "recorder"], help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--topics", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="3 s per compression instead of 20")
    ap.add_argument("--duration", type=float, help="seconds of publishing per compression")
    ap.add_argument("--compression", nargs="+", default=["zstd", "lz4", "none"], choices=["zstd", "lz4", "none"])
    ap.add_argument("--chunk-size", type=int, default=None, help="bytes per MCAP chunk (default: the recorder's)")
    ap.add_argument("--dir", help="where the .mcap files go (default: a temporary directory, removed)")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args()
    if a.role == "publisher":
        role_publisher(a.kind, a.name, a.duration, a.seed)
        return 0
    if a.role == "recorder":
        role_recorder(a.path, a.topics.split(","), a.compression[0], a.chunk_size)
        return 0
    from horus.bag import DEFAULT_CHUNK_SIZE

    duration = a.duration or (3.0 if a.quick else 20.0)
    chunk_size = a.chunk_size or DEFAULT_CHUNK_SIZE
    directory = a.dir or tempfile.mkdtemp(prefix="horus_record_bench_")
    load = os.getloadavg()
    results = []
    try:
        for comp in a.compression:
            r = run_one(comp, duration, chunk_size, directory)
            results.append(r)
            print(f"{comp}: {r['recorded']}/{r['sent']} recorded, {r['drops']} drops, "
                  f"{r['recorder_cores']:.2f} cores at {r['recorded_mb_s']:.1f} MB/s", file=sys.stderr)
    finally:
        if not a.dir:
            shutil.rmtree(directory, ignore_errors=True)
    out = {
        "benchmark": "record_bench",
        "load": f"3x {WIDTH}x{HEIGHT} rgb8 at {CAM_HZ:g} Hz + {CLOUD_POINTS}-point x{CLOUD_FIELDS} float32 cloud at "
                f"{CLOUD_HZ:g} Hz",
        "duration_s": duration,
        "chunk_size": chunk_size,
        "cpus": os.cpu_count(),
        "loadavg_before": load,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "results": results,
    }
    print(table(results))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=2)
    return 0 if all(r["kept_up"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
