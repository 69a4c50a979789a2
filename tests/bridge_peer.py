"""A process on one side of a bridge test: `send` publishes every message kind, `recv`
receives them, and both print one JSON line per message with a digest of its bytes, type
and metadata, so a test can tell that what arrived is exactly what was sent.

    python tests/bridge_peer.py send --prefix a_ --count 40 --period 0.05
    python tests/bridge_peer.py recv --prefix a_ --duration 5 [--expect 10]

Topics (after --prefix): img (Image rgb8), depth (DepthImage float32), cloud (PointCloud
xyzi), tensor (float64 Tensor), recs (Tensor of Detection2D records), cmd (CmdVel), nested
(a nested type only the sender declares), data (a schemaless dict with a NumPy array). The
receiver never declares the nested type: it comes from the layout the bridge carries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from typing import Any

import numpy as np

import horus

TOPICS = ("img", "depth", "cloud", "tensor", "recs", "cmd", "nested", "data")


def _sha(b: Any) -> str:
    return hashlib.sha256(memoryview(b).cast("B") if not isinstance(b, bytes) else b).hexdigest()[:24]


def _canonical(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return ["ndarray", v.dtype.str, list(v.shape), _sha(np.ascontiguousarray(v).tobytes())]
    if isinstance(v, dict):
        return {"dict": sorted([[repr(k), _canonical(x)] for k, x in v.items()])}
    if isinstance(v, (list, tuple)):
        return [type(v).__name__, [_canonical(x) for x in v]]
    if isinstance(v, bytes):
        return ["bytes", v.hex()]
    return [type(v).__name__, repr(v)]


def digest(msg: Any) -> dict[str, Any]:
    """What identifies a message: its type, bytes and metadata."""
    if isinstance(msg, horus.TypedMessage):
        return {"type": f"Record {type(msg).__name__} {type(msg).layout_hash:#x}", "sha": _sha(bytes(memoryview(msg))),
                "frame_id": msg.frame_id, "ts": msg.timestamp_ns}
    if isinstance(msg, (horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)):
        a = msg.to_numpy()
        extra = ""
        if isinstance(msg, horus.Image):
            extra = msg.encoding
        if isinstance(msg, horus.Tensor) and msg.record_type is not None:
            extra = f"{msg.record_type.__name__} {msg.record_type.layout_hash:#x}"
        return {"type": f"{type(msg).__name__} {a.dtype.str} {list(a.shape)} {extra}".strip(),
                "sha": _sha(np.ascontiguousarray(a).tobytes()), "frame_id": msg.frame_id, "ts": msg.timestamp_ns}
    return {"type": "Data", "sha": _sha(json.dumps(_canonical(msg), sort_keys=True).encode()), "frame_id": "",
            "ts": 0}


def _index(msg: Any) -> int:
    """The send index a message carries (each kind keeps it somewhere of its own)."""
    if isinstance(msg, dict):
        return int(msg["i"])
    return int(msg.timestamp_ns % 1_000_000)


def _declare_nested() -> type:
    @horus.message
    class Waypoint:
        pose: horus.Pose
        label: horus.string(12)
        weights: horus.array(np.float32, 3)
        flags: horus.array(np.uint8, (2, 2))

    return Waypoint


def _messages(i: int, waypoint: type) -> dict[str, Any]:
    ts = 1_700_000_000_000_000_000 + i  # the index travels in the timestamp's last digits
    img = horus.Image(48, 64, "rgb8")
    img.to_numpy()[:] = (np.arange(48 * 64 * 3, dtype=np.uint32).reshape(48, 64, 3) * (i + 1) % 251).astype(np.uint8)
    depth = horus.DepthImage.from_numpy(np.linspace(0.5, 4.0 + i, 24 * 32, dtype=np.float32).reshape(24, 32))
    cloud = horus.PointCloud.from_numpy(np.random.default_rng(i).normal(size=(100, 4)).astype(np.float32))
    tensor = horus.Tensor.from_numpy(np.arange(15, dtype=np.float64).reshape(3, 5) * i)
    dets = np.zeros(3, dtype=horus.msg.Detection2D.dtype)
    dets["score"] = [0.5, 0.25, i / 1000]
    dets["class_id"] = [1, 2, i]
    recs = horus.Tensor.from_records(dets, horus.msg.Detection2D)
    out: dict[str, Any] = {"img": img, "depth": depth, "cloud": cloud, "tensor": tensor, "recs": recs}
    for m in out.values():
        m.set_timestamp_ns(ts)
        m.set_frame_id(f"frame_{i}")
    cmd = horus.CmdVel(linear=0.1 * i, angular=-1.5)
    cmd.set_timestamp_ns(ts)
    cmd.set_frame_id("base_link")
    wp = waypoint(pose=horus.Pose(), label=f"wp{i}", weights=[1.0, 2.0, float(i)], flags=[[1, 0], [0, i % 256]])
    wp.set_timestamp_ns(ts)
    out["cmd"], out["nested"] = cmd, wp
    out["data"] = {"i": i, "status": "ok", "nested": {"list": [1, 2.5, None, True], "b": b"\x00\xff"},
                   "arr": np.arange(6, dtype=np.int16).reshape(2, 3) * i}
    return out


def send(args: argparse.Namespace) -> None:
    waypoint = _declare_nested()
    first = _messages(0, waypoint)
    topics = {}
    for name in args.topics:
        m = first[name]
        mtype: Any = None if name == "data" else (horus.Tensor[horus.msg.Detection2D] if name == "recs" else type(m))
        topics[name] = horus.Topic(args.prefix + name) if mtype is None else horus.Topic(mtype, args.prefix + name)
    time.sleep(args.warmup)  # a bridge finds a new topic within 0.2 s; what is sent before is not forwarded
    print(json.dumps({"event": "ready"}), flush=True)
    for i in range(args.count):
        msgs = _messages(i, waypoint)
        for name in args.topics:
            topics[name].send(msgs[name])
            print(json.dumps({"event": "sent", "topic": name, "i": i, **digest(msgs[name])}), flush=True)
        time.sleep(args.period)


def recv(args: argparse.Namespace) -> None:
    from horus.bag._discovery import declare_topic_type

    subs: dict[str, Any] = {}
    counts: dict[str, int] = {}
    deadline = time.monotonic() + args.duration
    print(json.dumps({"event": "ready"}), flush=True)
    while time.monotonic() < deadline:
        names = {t.name for t in horus.topics()}
        for name in args.topics:
            if name not in subs and args.prefix + name in names:
                subs[name] = horus.Topic(None, args.prefix + name)
        got = False
        for name, t in subs.items():
            try:
                declare_topic_type(t)
                msg = t.try_recv()
            except TypeError:
                continue
            if msg is None:
                continue
            got = True
            counts[name] = counts.get(name, 0) + 1
            print(json.dumps({"event": "got", "topic": name, "i": _index(msg), **digest(msg)}), flush=True)
            del msg
        if args.expect and len(counts) == len(args.topics) and min(counts.values()) >= args.expect:
            break
        if not got:
            time.sleep(0.002)
    print(json.dumps({"event": "done", "counts": counts}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("send", "recv"))
    ap.add_argument("--prefix", default="")
    ap.add_argument("--topics", nargs="+", default=list(TOPICS), choices=TOPICS)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--period", type=float, default=0.05)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--warmup", type=float, default=0.6, help="seconds between creating the topics and sending")
    args = ap.parse_args()
    (send if args.mode == "send" else recv)(args)


if __name__ == "__main__":
    sys.exit(main())
