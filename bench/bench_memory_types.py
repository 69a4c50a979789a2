#!/usr/bin/env python3
"""Python micro-benchmarks of the horus memory types, each against a baseline.

Every case times a horus operation and a plain NumPy / PyTorch / JAX baseline
that does the same job, in the same process, with their repeats interleaved
(candidate, baseline, candidate, ...) so that frequency scaling or a noisy
neighbour hits both alike. Results are ratios:

* time ratio      horus time / baseline time          (goal: <= limit)
* bandwidth ratio horus GB/s / baseline GB/s          (goal: >= limit)
* absolute        horus time per call                 (goal: <= limit)

Each number is per call, from `number` calls per repeat (calibrated to a
target time per repeat), after a warm-up; we report the minimum (the least
disturbed repeat, used for ratios) and the median of the repeats.

    python bench/bench_memory_types.py            # full run (~1 min)
    python bench/bench_memory_types.py --quick    # a few seconds, for CI
    python bench/bench_memory_types.py --json out.json
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import horus

try:
    import torch
except ImportError:  # pragma: no cover - optional extra
    torch = None
try:
    import jax
    import jax.dlpack
except ImportError:  # pragma: no cover - optional extra
    jax = None


@dataclass
class Case:
    name: str
    candidate: str              # label of the horus operation
    baseline: str               # label of the baseline operation
    fn: Callable[[], object]
    base_fn: Callable[[], object]
    kind: str                   # "time" | "bandwidth" | "absolute"
    goal: Optional[float]       # limit (ratio, or ns for "absolute"); None = informational
    nbytes: int = 0             # bytes moved per call (bandwidth cases)
    note: str = ""
    result: dict = field(default_factory=dict)


def aligned_empty(shape, dtype=np.uint8, align=64):
    """np.empty with a 64-byte aligned data pointer (JAX copies unaligned CPU input)."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(n + align, dtype=np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + n].view(dtype).reshape(shape)


def calibrate(fn, target_s):
    """Calls per repeat so that one repeat takes about target_s."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 4 or number >= 1 << 22:
            return max(1, int(number * target_s / max(dt, 1e-9)))
        number *= 4


def time_loop(fn, number):
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        if gc_was:
            gc.enable()


def measure(case: Case, repeats: int, target_s: float):
    for f in (case.fn, case.base_fn):   # warm-up: imports, caches, pool segments
        for _ in range(50):
            f()
    n_c = calibrate(case.fn, target_s)
    n_b = calibrate(case.base_fn, target_s)
    tc, tb = [], []
    for _ in range(repeats):
        tc.append(time_loop(case.fn, n_c))
        tb.append(time_loop(case.base_fn, n_b))
    r = {
        "horus_ns_min": min(tc) * 1e9, "horus_ns_median": statistics.median(tc) * 1e9,
        "baseline_ns_min": min(tb) * 1e9, "baseline_ns_median": statistics.median(tb) * 1e9,
        "number": [n_c, n_b], "repeats": repeats,
    }
    if case.kind == "bandwidth":
        r["horus_gbps"] = case.nbytes / min(tc) / 1e9
        r["baseline_gbps"] = case.nbytes / min(tb) / 1e9
        r["ratio"] = r["horus_gbps"] / r["baseline_gbps"]
        r["ratio_median"] = statistics.median(tb) / statistics.median(tc)
        r["met"] = None if case.goal is None else r["ratio"] >= case.goal
    else:
        r["ratio"] = min(tc) / min(tb)
        r["ratio_median"] = statistics.median(tc) / statistics.median(tb)
        if case.goal is None:
            r["met"] = None
        elif case.kind == "absolute":
            r["met"] = r["horus_ns_min"] <= case.goal
        else:
            r["met"] = r["ratio"] <= case.goal
    case.result = r


def build_cases() -> list[Case]:
    H, W = 480, 640
    img = horus.Image(height=H, width=W, encoding="rgb8")
    img.fill([1, 2, 3])
    buf = bytearray(H * W * 3)
    cases = [
        Case("to_numpy (640x480 rgb8)", "img.to_numpy()", "np.frombuffer(buf, uint8).reshape(480, 640, 3)",
             img.to_numpy, lambda: np.frombuffer(buf, np.uint8).reshape(H, W, 3), "time", 1.5),
        Case("np.asarray(img)", "np.asarray(img)", "np.frombuffer(buf, uint8).reshape(480, 640, 3)",
             lambda: np.asarray(img), lambda: np.frombuffer(buf, np.uint8).reshape(H, W, 3), "time", None,
             note="via __array_interface__ (a dict per call); informational"),
    ]
    if torch is not None:
        arr = np.zeros((H, W, 3), np.uint8)
        cases.append(Case("to_torch (640x480 rgb8)", "img.to_torch()", "torch.from_numpy(arr)",
                          img.to_torch, lambda: torch.from_numpy(arr), "time", 1.5))
        cases.append(Case("to_torch vs DLPack import", "img.to_torch()", "torch.from_dlpack(arr)",
                          img.to_torch, lambda: torch.from_dlpack(arr), "time", None,
                          note="same-mechanism reference (NumPy array through torch's DLPack import); informational"))
    if jax is not None:
        arr64 = aligned_empty((H, W, 3))
        arr64[...] = 7
        zc = jax.dlpack.from_dlpack(arr64).unsafe_buffer_pointer() == arr64.ctypes.data
        zc_h = img.to_jax().unsafe_buffer_pointer() == img.data_ptr()
        cases.append(Case("to_jax (640x480 rgb8)", "img.to_jax()", "jax.dlpack.from_dlpack(arr) (64-B aligned)",
                          img.to_jax, lambda: jax.dlpack.from_dlpack(arr64), "time", 1.5,
                          note=f"baseline zero-copy: {zc}, horus zero-copy: {zc_h}"))
    for (h, w) in ((480, 640), (1080, 1920)):
        src = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
        dst = np.empty_like(src)
        cases.append(Case(f"from_numpy {w}x{h}x3", "Image.from_numpy(src)", "np.copyto(prealloc, src)",
                          lambda src=src: horus.Image.from_numpy(src), lambda src=src, dst=dst: np.copyto(dst, src),
                          "bandwidth", 0.8, nbytes=src.nbytes,
                          note="horus: allocate a pool block + copy; baseline: copy only"))
    cases.append(Case("Image(height=480, width=640, encoding='rgb8')", "horus.Image(...)", "np.empty((480, 640, 3), uint8)",
                      lambda: horus.Image(height=480, width=640, encoding="rgb8"),
                      lambda: np.empty((480, 640, 3), np.uint8), "absolute", 2000.0,
                      note="goal is absolute (<= 2 us); ratio to np.empty informational"))
    return cases


def fmt_ns(ns):
    return f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.0f} ns"


def goal_text(c: Case):
    if c.goal is None:
        return "—"
    if c.kind == "bandwidth":
        return f">= {c.goal:g}x bandwidth"
    if c.kind == "absolute":
        return f"<= {fmt_ns(c.goal)}"
    return f"<= {c.goal:g}x"


def met_text(r):
    return {True: "met", False: "**missed**", None: "info"}[r["met"]]


def markdown(cases: list[Case]) -> str:
    lines = [
        "| case | horus | baseline | horus (min / median) | baseline (min / median) | ratio (min / median) | goal | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        r = c.result
        if c.kind == "bandwidth":
            hv = f"{r['horus_gbps']:.2f} GB/s ({fmt_ns(r['horus_ns_min'])} / {fmt_ns(r['horus_ns_median'])})"
            bv = f"{r['baseline_gbps']:.2f} GB/s ({fmt_ns(r['baseline_ns_min'])} / {fmt_ns(r['baseline_ns_median'])})"
        else:
            hv = f"{fmt_ns(r['horus_ns_min'])} / {fmt_ns(r['horus_ns_median'])}"
            bv = f"{fmt_ns(r['baseline_ns_min'])} / {fmt_ns(r['baseline_ns_median'])}"
        lines.append(f"| {c.name} | `{c.candidate}` | `{c.baseline}` | {hv} | {bv} | "
                     f"{r['ratio']:.2f}x / {r['ratio_median']:.2f}x | {goal_text(c)} | {met_text(r)} |")
    notes = [f"- {c.name}: {c.note}" for c in cases if c.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def run(quick: bool = False) -> list[Case]:
    repeats, target = (5, 0.004) if quick else (21, 0.05)
    cases = build_cases()
    for c in cases:
        measure(c, repeats, target)
    return cases


def to_json(cases: list[Case]) -> list[dict]:
    return [{"name": c.name, "horus": c.candidate, "baseline": c.baseline, "kind": c.kind,
             "goal": c.goal, "nbytes": c.nbytes, "note": c.note, **c.result} for c in cases]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repeats, a few seconds in all (CI)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    cases = run(args.quick)
    print(markdown(cases))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(cases), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
