"""Scheduler start-time jitter: horus (Python and C++) against horus-robotics, side by side.

For each row a process runs one node at 1 kHz or 100 Hz for a few seconds; the node's
tick only stores the clock. The jitter of a tick is how late it started against its ideal
time on the node's grid (first tick + k periods; a slot the scheduler skipped counts as
missed, and the next tick is measured against its own slot). Rows:

  impl           horus-py (horus.run), horus-cpp (horus::run), horus-robotics (its Python
                 horus.run; its wheel has no C++ API)
  mode           default: a plain Node at the rate
                 rt: horus with priority=80, core=1, run(rt=True) (SCHED_FIFO, mlockall, the
                 last 100 us before a due time polled instead of slept); horus-robotics with
                 run(rt=True) (it makes a rated node SCHED_FIFO 80 and pins it by itself)
  load           alone, or with a 30 Hz node doing 10 ms of NumPy work: in the same run in a
                 thread of its own (compute=True) for the Python rows, in a Python process of
                 its own beside the C++ rows

Rounds interleave every row (the VM is shared and noisy: compare rows of one round set,
as ratios). --quick: one short round for CI (keeps the harness working; no verdicts).

  .venv/bin/python bench/sched/jitter_bench.py [--quick] [--seconds S] [--rounds R] [--out PREFIX]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "bench" / "sched" / "_worker.py"
CPP = ROOT / "build" / "compare" / "sched_jitter"
PY_HORUS = ROOT / ".venv" / "bin" / "python"
PY_ROBOTICS = ROOT / ".venv-bench" / "bin" / "python"
GOALS_US = {"horus-cpp": 50.0, "horus-py": 200.0}


def rows(have_robotics: bool) -> list[dict]:
    out = []
    for rate in (1000.0, 100.0):
        for load in (False, True):
            for impl in ("horus-py", "horus-cpp", "horus-robotics"):
                if impl == "horus-robotics" and not have_robotics:
                    continue
                for mode in ("default", "rt"):
                    out.append({"impl": impl, "mode": mode, "rate": rate, "load": load})
    return out


def row_key(r: dict) -> str:
    return f"{r['impl']} {r['mode']} {r['rate']:g} Hz {'+ 30 Hz NumPy' if r['load'] else 'alone'}"


def jitter_of(starts: np.ndarray, period_ns: int) -> tuple[np.ndarray, int]:
    """(how late each tick started against its slot, slots missed).

    The schedulers' own due times are not visible to the benchmark, and any tick (the first
    too) may be late, so the grid of the node's period is placed where it fits the ticks best:
    each tick's phase is its start modulo the period, and the grid's phase is the one that
    makes the mean lateness ((phase - grid phase) mod period) smallest, which is the lower
    edge of the cluster of on-time ticks (a grid placed later would make the on-time ticks
    count as almost a period late). A tick is measured against the latest slot at or before
    it; slots that passed without a tick are missed."""
    if len(starts) < 2:
        return np.zeros(0, dtype=np.int64), 0
    rel = (starts - starts[0]).astype(np.int64)
    phase = rel % period_ns
    step = max(1, period_ns // 2000)
    candidates = np.arange(0, period_ns, step, dtype=np.int64)
    best, best_mean = 0, None
    for chunk in np.array_split(candidates, max(1, len(candidates) // 200)):
        late = (phase[None, :] - chunk[:, None]) % period_ns
        means = late.mean(axis=1)
        i = int(means.argmin())
        if best_mean is None or means[i] < best_mean:
            best, best_mean = int(chunk[i]), float(means[i])
    late = (phase - best) % period_ns
    slots = int((rel[-1] - best) // period_ns - (rel[0] - best) // period_ns) + 1
    return late, max(0, slots - len(starts))


def clean_namespace(ns: str, env: dict) -> None:
    subprocess.run([str(PY_HORUS), "-m", "horus", "clean", ns], env=env, capture_output=True, timeout=60)
    shutil.rmtree(f"/dev/shm/horus_{ns}", ignore_errors=True)  # horus-robotics' directory


def run_row(r: dict, seconds: float, tmp: Path) -> tuple[np.ndarray, str]:
    ns = f"jit_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, HORUS_NAMESPACE=ns, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    out = tmp / f"{ns}.bin"
    load = None
    try:
        if r["impl"] == "horus-cpp":
            if r["load"]:
                load = subprocess.Popen([str(PY_HORUS), str(WORKER), "load", str(seconds + 1.5)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # the load runs before and during the whole row
            rt = r["mode"] == "rt"
            cmd = [str(CPP), f"{r['rate']:g}", str(seconds), "1" if rt else "0", "80" if rt else "0",
                   "1" if rt else "-1", str(out)]
        else:
            py = PY_HORUS if r["impl"] == "horus-py" else PY_ROBOTICS
            impl = "horus" if r["impl"] == "horus-py" else "robotics"
            cmd = [str(py), str(WORKER), impl, f"{r['rate']:g}", str(seconds), r["mode"], "1" if r["load"] else "0",
                   str(out)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
        if p.returncode != 0:
            return np.zeros(0, dtype=np.int64), f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
        return np.fromfile(out, dtype=np.int64), ""
    finally:
        if load is not None:
            load.wait(timeout=60)
        clean_namespace(ns, env)
        out.unlink(missing_ok=True)


def summarize(samples: list[np.ndarray], missed: int, expected: int) -> dict:
    late = np.concatenate(samples) if samples else np.zeros(0)
    if late.size == 0:
        return {"ticks": 0}
    us = late / 1e3
    per_round = [float(np.percentile(x / 1e3, 99)) for x in samples if x.size]
    return {"ticks": int(late.size), "p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)),
            "max_us": float(us.max()), "missed_slots": int(missed), "expected_slots": int(expected),
            "p99_us_by_round": per_round}


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    return f"{platform.node()}, {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, Python {platform.python_version()}"


def report(results: dict, args: argparse.Namespace, have_robotics: bool) -> str:
    lines = [f"# Scheduler start-time jitter, {dt.date.today().isoformat()}", "",
             f"Machine: {machine()}. {args.rounds} interleaved round(s) of {args.seconds:g} s per row; "
             "jitter = how late each tick started against its slot (p50 / p99 / max, microseconds); "
             "missed = slots the scheduler skipped. Made by `bench/sched/jitter_bench.py`.", "",
             "| row | ticks | p50 µs | p99 µs | p99 by round | max µs | missed | horus-robotics p99 µs (same mode) | p99 ratio |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for key, s in results.items():
        if not s.get("ticks"):
            lines.append(f"| {key} | failed: {s.get('error', '?')} | | | | | | | |")
            continue
        impl, mode = key.split(" ")[:2]
        ref = key.replace(impl, "horus-robotics", 1)
        ref_s = results.get(ref, {})
        ratio = ""
        ref_p99 = ""
        if impl != "horus-robotics" and ref_s.get("ticks"):
            ref_p99 = f"{ref_s['p99_us']:.0f}"
            ratio = f"{s['p99_us'] / ref_s['p99_us']:.2f}×"
        rounds = " / ".join(f"{v:.0f}" for v in s.get("p99_us_by_round", []))
        lines.append(f"| {key} | {s['ticks']} | {s['p50_us']:.1f} | {s['p99_us']:.0f} | {rounds} | {s['max_us']:.0f} | "
                     f"{s['missed_slots']} | {ref_p99} | {ratio} |")
    lines += ["", "Goals: horus-cpp 1 kHz p99 ≤ 50 µs, horus-py 1 kHz p99 ≤ 200 µs, and a p99 below "
              "horus-robotics's on each row (ratio < 1)."]
    verdicts = []
    for key, s in results.items():
        impl = key.split(" ")[0]
        if not s.get("ticks") or impl == "horus-robotics":
            continue
        if " 1000 Hz" in key and impl in GOALS_US:
            ok = s["p99_us"] <= GOALS_US[impl]
            verdicts.append(f"- {key}: p99 {s['p99_us']:.0f} µs {'meets' if ok else 'misses'} the goal of "
                            f"{GOALS_US[impl]:g} µs")
    lines += [""] + verdicts
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one short round (CI)")
    ap.add_argument("--seconds", type=float, default=None, help="seconds per row and round (default 2, quick 0.4)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    ap.add_argument("--out", help="write PREFIX.md and PREFIX.json")
    args = ap.parse_args()
    args.seconds = args.seconds or (0.4 if args.quick else 2.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    if not CPP.exists():
        sys.exit(f"{CPP} is missing: run `make bench-compare-build` first")
    have_robotics = PY_ROBOTICS.exists() and subprocess.run(
        [str(PY_ROBOTICS), "-c", "import horus; horus.Node; horus.run"], capture_output=True).returncode == 0
    table = rows(have_robotics)
    samples: dict[str, list[np.ndarray]] = {row_key(r): [] for r in table}
    missed = {k: 0 for k in samples}
    expected = {k: 0 for k in samples}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for r in table:
                key = row_key(r)
                starts, err = run_row(r, args.seconds, Path(tmp))
                if err:
                    errors[key] = err
                    print(f"[round {rnd + 1}] {key}: {err}", flush=True)
                    continue
                late, miss = jitter_of(starts, round(1e9 / r["rate"]))
                samples[key].append(late)
                missed[key] += miss
                expected[key] += len(late) + miss
                p99 = np.percentile(late / 1e3, 99) if late.size else float("nan")
                print(f"[round {rnd + 1}] {key}: {late.size} ticks, p99 {p99:.0f} us, missed {miss}", flush=True)
    results = {}
    for k in samples:
        results[k] = summarize(samples[k], missed[k], expected[k])
        if not results[k].get("ticks") and k in errors:
            results[k]["error"] = errors[k]
    text = report(results, args, have_robotics)
    print(text)
    if args.quick:
        failed = [k for k, s in results.items() if not s.get("ticks")]
        if failed:
            print("rows that produced no ticks: " + ", ".join(failed), file=sys.stderr)
            return 1
    if args.out:
        Path(args.out + ".md").write_text(text)
        Path(args.out + ".json").write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": machine(),
                                                        "seconds": args.seconds, "rounds": args.rounds,
                                                        "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
