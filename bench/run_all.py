#!/usr/bin/env python3
"""Runs every horus benchmark and records the results.

* C++: build/bench/cpp/bench/bench_pool (Google Benchmark, --benchmark_format=json;
  build it with `make bench-build`)
* Python: bench/bench_memory_types.py
* Topics (issue 4): build/bench/cpp/bench/bench_topic_latency and
  bench/bench_topic_python.py, via bench/topics_report.py

Writes bench/results/<YYYY-MM-DD>-<hostname>-memory-types.md and .json and
bench/results/<YYYY-MM-DD>-<hostname>-topics.md and .json (the machine, the
date, every number) and prints the tables.

    python bench/run_all.py            # full run, recorded in bench/results/
    python bench/run_all.py --quick    # a few seconds; written to a temp dir
    python bench/run_all.py --quick --out /tmp/x   # -> /tmp/x.md/.json, /tmp/x-topics.md/.json
    python bench/run_all.py --only topics          # just one section
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CPP_BENCH = ROOT / "build" / "bench" / "cpp" / "bench" / "bench_pool"
POOL_GOAL_NS = 100.0

sys.path.insert(0, str(HERE))
import bench_memory_types  # noqa: E402
import topics_report  # noqa: E402


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    for mod in ("numpy", "torch", "jax", "horus"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - absent extra
            info[mod] = "not installed"
    try:
        git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "cpp", "python"],
                               capture_output=True, text=True).stdout.strip()
        info["git"] = git + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        info["git"] = "unknown"
    return info


def run_cpp(quick: bool) -> dict | None:
    if not CPP_BENCH.exists():
        print(f"note: {CPP_BENCH.relative_to(ROOT)} not built (make bench-build); skipping C++ benches",
              file=sys.stderr)
        return None
    cmd = [str(CPP_BENCH), "--benchmark_format=json"]
    # libbenchmark 1.7 takes a plain number of seconds (newer ones also "0.05s").
    cmd.append("--benchmark_min_time=0.02" if quick else "--benchmark_min_time=0.5")
    if not quick:
        cmd += ["--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cpp_rows(data: dict) -> list[dict]:
    """One row per benchmark: the median over repetitions (or the single run)."""
    rows = {}
    for b in data["benchmarks"]:
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        name = b.get("run_name", b["name"])
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        rows[name] = b["real_time"] * scale
    return [{"name": k, "ns": v} for k, v in rows.items()]


def cpp_markdown(rows: list[dict]) -> tuple[str, dict]:
    by = {r["name"]: r["ns"] for r in rows}
    sizes = sorted({int(n.split("/")[1]) for n in by if n.startswith("BM_PoolAllocRelease/")})
    lines = ["| block size | horus Pool allocate+release | malloc/free (1 byte touched) | new/delete | horus / malloc |",
             "|---:|---:|---:|---:|---:|"]
    pool = []
    for s in sizes:
        p, m, n = by.get(f"BM_PoolAllocRelease/{s}"), by.get(f"BM_Malloc/{s}"), by.get(f"BM_NewDelete/{s}")
        pool.append(p)
        lines.append(f"| {s:,} B | {p:.1f} ns | {m:.1f} ns | {n:.1f} ns | {p / m:.2f}x |")
    summary = {
        "pool_ns_max": max(pool) if pool else None,
        "pool_ns_min": min(pool) if pool else None,
        "pool_goal_ns": POOL_GOAL_NS,
    }
    if pool:
        summary["pool_met"] = summary["pool_ns_max"] <= POOL_GOAL_NS
        summary["pool_spread"] = summary["pool_ns_max"] / summary["pool_ns_min"]
        lines.append("")
        lines.append(f"Pool allocate+release: {summary['pool_ns_min']:.1f}–{summary['pool_ns_max']:.1f} ns over "
                     f"{len(pool)} sizes (max/min {summary['pool_spread']:.2f}); goal <= {POOL_GOAL_NS:.0f} ns and "
                     f"flat in size: **{'met' if summary['pool_met'] else 'missed'}**.")
    other = [r for r in rows if not r["name"].startswith(("BM_PoolAllocRelease", "BM_Malloc", "BM_NewDelete"))]
    if other:
        lines += ["", "| C++ operation | time |", "|---|---:|"]
        lines += [f"| {r['name']} | {r['ns']:.1f} ns |" for r in other]
    return "\n".join(lines), summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run the horus benchmarks and record the results.")
    ap.add_argument("--quick", action="store_true", help="a few seconds; not recorded unless --out")
    ap.add_argument("--out", metavar="STEM", help="write STEM.md and STEM.json (default: bench/results/...)")
    ap.add_argument("--only", choices=("all", "memory-types", "topics"), default="all",
                    help="run one section only (default: all)")
    ap.add_argument("--rerender-topics", metavar="JSON",
                    help="rewrite a recorded topics .md/.json from the raw runs in JSON (no benchmark runs)")
    args = ap.parse_args(argv)

    if args.rerender_topics:
        path = Path(args.rerender_topics)
        data = json.loads(path.read_text())
        info = data["machine"]
        text = topics_report.run_and_write(path.with_suffix(""), data["quick"],
                                           header("horus topic benchmarks", info, data["quick"]), info,
                                           recorded=data)
        print(text)
        return 0

    info = machine()
    if args.out:
        stem = Path(args.out)
    elif args.quick:
        stem = Path(tempfile.mkdtemp(prefix="horus-bench-")) / "memory-types-quick"
    else:
        stem = HERE / "results" / f"{datetime.date.today().isoformat()}-{info['hostname']}-memory-types"
    if stem.suffix in (".md", ".json"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)

    if args.only != "topics":
        run_memory_types(args, info, stem)
    if args.only != "memory-types":
        run_topics(args, info, stem)
    return 0


def header(title: str, info: dict, quick: bool) -> list[str]:
    return [f"# {title}{' (quick)' if quick else ''}", "",
            f"- date: {info['date']}", f"- host: {info['hostname']} (git {info['git']})",
            f"- CPU: {info['cpu']}, {info['cores']} logical cores; kernel {info['kernel']}",
            f"- Python {info['python']}, numpy {info['numpy']}, torch {info['torch']}, jax {info['jax']}, "
            f"horus {info['horus']}"]


def run_topics(args, info: dict, stem: Path) -> None:
    if args.out:
        tstem = stem.with_name(stem.name + "-topics")
    elif args.quick:
        tstem = stem.with_name("topics-quick")
    else:
        tstem = HERE / "results" / f"{datetime.date.today().isoformat()}-{info['hostname']}-topics"
    text = topics_report.run_and_write(tstem, args.quick, header("horus topic benchmarks", info, args.quick), info)
    print(text)
    print(f"\nwrote {tstem.with_suffix('.md')} and {tstem.with_suffix('.json')}")


def run_memory_types(args, info: dict, stem: Path) -> None:
    cpp = run_cpp(args.quick)
    cases = bench_memory_types.run(args.quick)

    md = [f"# horus memory-type benchmarks{' (quick)' if args.quick else ''}", "",
          f"- date: {info['date']}", f"- host: {info['hostname']} (git {info['git']})",
          f"- CPU: {info['cpu']}, {info['cores']} logical cores; kernel {info['kernel']}",
          f"- Python {info['python']}, numpy {info['numpy']}, torch {info['torch']}, jax {info['jax']}, "
          f"horus {info['horus']}", ""]
    md += ["## Python: horus vs baseline (same run, repeats interleaved)", "",
           "Ratios use the minimum over repeats (least disturbed); medians shown for spread. "
           "Time ratio = horus / baseline (lower is better); bandwidth ratio = horus GB/s / baseline GB/s.", "",
           bench_memory_types.markdown(cases), ""]
    cpp_summary = None
    if cpp is not None:
        rows = cpp_rows(cpp)
        table, cpp_summary = cpp_markdown(rows)
        md += ["## C++: pool allocate+release vs the system allocator (Google Benchmark, median of repetitions)", "",
               table, ""]
        ctx = cpp.get("context", {})
        if ctx.get("library_build_type") == "debug":
            md += ["Note: Debian's libbenchmark reports itself as a debug build; it only runs the timing "
                   "loop, the code under test is built -O3 (CMAKE_BUILD_TYPE=Release).", ""]
    text = "\n".join(md)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps({
        "machine": info, "quick": args.quick,
        "python": bench_memory_types.to_json(cases),
        "cpp": {"summary": cpp_summary, "google_benchmark": cpp},
    }, indent=2))
    print(text)
    print(f"\nwrote {stem.with_suffix('.md')} and {stem.with_suffix('.json')}")


if __name__ == "__main__":
    sys.exit(main())
