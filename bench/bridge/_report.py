"""Numbers and output of the bridge benchmark: percentiles, the per-size summary (medians
over rounds, bridge/zenoh ratios, the issue's goals), the machine description, and the
markdown table and JSON document written to --out PREFIX.{md,json}.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any, Optional

__all__ = ["percentile", "summarize", "machine", "git_revision", "now_utc", "render_markdown", "write_outputs",
           "LATENCY_GOAL", "THROUGHPUT_GOAL", "HOPS"]

#: The issue's goals: bridge latency <= 1.2 x Zenoh's, bridge throughput >= 0.8 x Zenoh's.
LATENCY_GOAL = 1.20
#: The parts of the bridge path's latency (bridge_bench.Bench._hops), with their column titles.
HOPS = ("hop_to_bridge_ms", "hop_encode_ms", "hop_zenoh_ms", "hop_decode_publish_ms", "decode_ms", "hop_to_sub_ms")
_HOP_TITLES = ("horus pub → bridge", "encode()", "Zenoh (put → callback)", "decode + publish", "of which decode()",
               "publish → horus sub")
THROUGHPUT_GOAL = 0.80


def percentile(values: list[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, math.ceil(q / 100 * len(v)) - 1))
    return v[k]


def _median(values: list[Optional[float]]) -> Optional[float]:
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def summarize(trials: list[dict[str, Any]], sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per size: per path the medians over rounds, and the bridge/zenoh ratios."""
    out = []
    for s in sizes:
        entry: dict[str, Any] = {"size": s["label"], "bytes": s["bytes"], "message": s["message"]}
        for kind, fields in (("latency", ("p50_ms", "p99_ms", "transit_p50_ms", *HOPS)),
                             ("throughput", ("msgs_per_s", "mb_per_s", "offered_per_s", "load_p50_ms",
                                             "wire_mb_per_s"))):
            per_path = {}
            for path in ("zenoh", "bridge"):
                ts = [t for t in trials if t["size"] == s["label"] and t["kind"] == kind and t["path"] == path]
                per_path[path] = {f: _median([t.get(f) for t in ts]) for f in fields}
                per_path[path]["rounds"] = len(ts)
                per_path[path]["delivered_all_rounds"] = bool(ts) and all(t["delivered"] > 0 for t in ts)
            entry[kind] = per_path
        lz, lb = entry["latency"]["zenoh"], entry["latency"]["bridge"]
        tz, tb = entry["throughput"]["zenoh"], entry["throughput"]["bridge"]
        entry["ratio"] = {"latency_p50": _ratio(lb["p50_ms"], lz["p50_ms"]),
                          "latency_p99": _ratio(lb["p99_ms"], lz["p99_ms"]),
                          "throughput_msgs": _ratio(tb["msgs_per_s"], tz["msgs_per_s"]),
                          "throughput_mb": _ratio(tb["mb_per_s"], tz["mb_per_s"])}
        r = entry["ratio"]
        entry["goal"] = {"latency": None if r["latency_p50"] is None else r["latency_p50"] <= LATENCY_GOAL,
                         "throughput": None if r["throughput_msgs"] is None
                         else r["throughput_msgs"] >= THROUGHPUT_GOAL}
        out.append(entry)
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine() -> dict[str, Any]:
    u = platform.uname()
    return {"uname": f"{u.system} {u.node} {u.release} {u.version} {u.machine}", "nproc": os.cpu_count(),
            "cpu": _cpu_model(), "loadavg": list(os.getloadavg())}


def git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return f"{rev}{'+dirty' if dirty else ''}" if rev else "?"


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _f(v: Optional[float]) -> str:
    if v is None:
        return "–"
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"


def _x(v: Optional[float]) -> str:
    return "–" if v is None else f"{v:.2f}×"


def _goal(ok: Optional[bool]) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def render_markdown(doc: dict[str, Any]) -> str:
    m, v, run = doc["machine"], doc["versions"], doc["run"]
    lines = [f"# horus bridge vs plain Zenoh ({doc['date']})", "",
             f"- Machine: {m['cpu']}, {m['nproc']} CPUs; `{m['uname']}`; load average "
             f"{' '.join(f'{x:.2f}' for x in m['loadavg'])} at the start, "
             f"{' '.join(f'{x:.2f}' for x in run.get('loadavg_end', []))} at the end",
             f"- horus {v.get('horus', '?')} (git {v.get('git', '?')}), eclipse-zenoh {v.get('zenoh', '?')}, "
             f"Python {v.get('python', '?')}, NumPy {v.get('numpy', '?')}",
             f"- Link: {run['link']}; Zenoh shared memory {run.get('zenoh_shm', '?')}",
             f"- {run['rounds']} round(s) per size, paths interleaved; every figure is the median over rounds"
             f"{' (QUICK mode: few messages, indicative only)' if run['quick'] else ''}; "
             f"wall time {run.get('wall_s', 0):.0f} s", ""]
    lines += ["## Latency (one-way, ms)", "",
              "| size | message | Zenoh p50 | bridge p50 | ratio | Zenoh p99 | bridge p99 | ratio | "
              f"bridge↔bridge p50 | ≤ {LATENCY_GOAL:.2f}× |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for e in doc["summary"]:
        z, b, r = e["latency"]["zenoh"], e["latency"]["bridge"], e["ratio"]
        lines.append(f"| {e['size']} | {e['message']} | {_f(z['p50_ms'])} | {_f(b['p50_ms'])} | "
                     f"{_x(r['latency_p50'])} | {_f(z['p99_ms'])} | {_f(b['p99_ms'])} | {_x(r['latency_p99'])} | "
                     f"{_f(b['transit_p50_ms'])} | {_goal(e['goal']['latency'])} |")
    lines += ["", "## Where the bridge's latency goes (p50, ms)", "",
              "| size | Zenoh alone | bridge | " + " | ".join(_HOP_TITLES) + " |",
              "|---|---:|---:|" + "---:|" * len(_HOP_TITLES)]
    for e in doc["summary"]:
        z, b = e["latency"]["zenoh"], e["latency"]["bridge"]
        lines.append(f"| {e['size']} | {_f(z['p50_ms'])} | {_f(b['p50_ms'])} | "
                     + " | ".join(_f(b.get(h)) for h in HOPS) + " |")
    lines += ["", "## Throughput (delivered at the receiver, steady-state window)", "",
              "| size | Zenoh msg/s | bridge msg/s | ratio | Zenoh MB/s | bridge MB/s | offered msg/s Zenoh / horus | "
              f"latency under load p50 ms Zenoh / bridge | veth MB/s Zenoh / bridge | ≥ {THROUGHPUT_GOAL:.2f}× |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for e in doc["summary"]:
        z, b, r = e["throughput"]["zenoh"], e["throughput"]["bridge"], e["ratio"]
        lines.append(f"| {e['size']} | {_f(z['msgs_per_s'])} | {_f(b['msgs_per_s'])} | {_x(r['throughput_msgs'])} | "
                     f"{_f(z['mb_per_s'])} | {_f(b['mb_per_s'])} | {_f(z['offered_per_s'])} / "
                     f"{_f(b['offered_per_s'])} | {_f(z['load_p50_ms'])} / {_f(b['load_p50_ms'])} | "
                     f"{_f(z['wire_mb_per_s'])} / {_f(b['wire_mb_per_s'])} | "
                     f"{_goal(e['goal']['throughput'])} |")
    lines += ["", "## Method", "", doc["method"].strip(), ""]
    if doc.get("problems"):
        lines += ["## Problems", ""] + [f"- {p}" for p in doc["problems"]] + [""]
    return "\n".join(lines)


def write_outputs(prefix: str, doc: dict[str, Any]) -> tuple[Path, Path]:
    md, js = Path(f"{prefix}.md"), Path(f"{prefix}.json")
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(render_markdown(doc), encoding="utf-8")
    js.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return md, js
