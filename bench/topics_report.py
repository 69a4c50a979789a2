"""The Topic section of bench/run_all.py (issue 4, section 6).

Runs, `repeats` times each (3 for a full run, 1 with --quick):

* C++: build/bench/cpp/bench/bench_topic_latency --json (cross-process ping-pong
  blocking + busy-poll, raw pipe / atomic / memcpy+pipe baselines, throughput,
  wake latency; see the header of cpp/bench/bench_topic_latency.cpp)
* Python: bench/bench_topic_python.py --json, in a subprocess of its own (own
  HORUS_NAMESPACE; see its docstring for transports and the data touch)

Every ratio is computed inside one run (side by side), then the median over the
repeats is reported. A latency cell is the *minimum over repeats of each run's
median* (the least-disturbed repeat, as bench_memory_types.py does: on a
2-core machine shared with other work a busy-poll run that lost a core is
off by 1000x) and the median over repeats of each run's p99; throughput is
the best repeat. Every run's raw numbers are kept in the JSON.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CPP_BENCH = ROOT / "build" / "bench" / "cpp" / "bench" / "bench_topic_latency"
PY_BENCH = HERE / "bench_topic_python.py"

GOAL_CPP_NS = 300.0
GOAL_PY_US = 10.0
GOAL_FLAT = 1.2
GOAL_VS_QUEUE = 100.0
GOAL_WAKE_US = 20.0
IMAGE = "640x480x3 Image"


def _min(xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def _best_throughput(runs: list[dict]) -> list[dict]:
    """Per payload, the run with the highest delivered rate, all three numbers from that run
    (maxima taken from different runs made rows whose fraction did not match their rates)."""
    out = []
    for i, t in enumerate(runs[0]["throughput"]):
        best = max((run["throughput"][i] for run in runs), key=lambda r: r["delivered_rate"])
        out.append({"payload": t["payload"], "send_rate": best["send_rate"],
                    "delivered_rate": best["delivered_rate"],
                    "delivered_fraction": best["delivered"] / best["sent"] if best["sent"] else 0.0})
    return out


def _cell(vals_median, vals_p99):
    return {"median_ns": _min(vals_median), "p99_ns": _med(vals_p99),
            "median_ns_per_run": list(vals_median)}


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def run_cpp(quick: bool, repeats: int) -> list[dict] | None:
    if not CPP_BENCH.exists():
        print(f"note: {CPP_BENCH.relative_to(ROOT)} not built (make bench-build); skipping C++ topic bench",
              file=sys.stderr)
        return None
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "cpp.json"
            cmd = [str(CPP_BENCH), "--json", str(out)] + (["--quick"] if quick else [])
            print(f"[topics] C++ run {r + 1}/{repeats}: {' '.join(cmd[:1] + cmd[3:])}", file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True, stdout=sys.stderr)
            runs.append(json.loads(out.read_text()))
    return runs


def run_python(quick: bool, repeats: int) -> list[dict]:
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "py.json"
            cmd = [sys.executable, str(PY_BENCH), "--json", str(out)] + (["--quick"] if quick else [])
            print(f"[topics] Python run {r + 1}/{repeats}", file=sys.stderr, flush=True)
            env = dict(os.environ)
            env.pop("HORUS_NAMESPACE", None)  # the script picks a private one
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
            runs.append(json.loads(out.read_text()))
    return runs


# ------------------------------------------------------------------ aggregation
def cpp_summary(runs: list[dict]) -> dict:
    payloads = [(r["payload"], r["bytes"], r["type"]) for r in runs[0]["latency"]]
    rows = []
    for i, (label, nbytes, typ) in enumerate(payloads):
        row = {"payload": label, "bytes": nbytes, "type": typ}
        for k in ("horus_block", "horus_spin", "shm_memcpy"):
            row[k] = _cell([run["latency"][i][k]["median_ns"] for run in runs],
                           [run["latency"][i][k]["p99_ns"] for run in runs])
            row[k]["n"] = min(run["latency"][i][k]["n"] for run in runs)
        row["memcpy_over_block"] = _med([run["latency"][i]["shm_memcpy"]["median_ns"] /
                                         run["latency"][i]["horus_block"]["median_ns"] for run in runs])
        row["memcpy_over_spin"] = _med([run["latency"][i]["shm_memcpy"]["median_ns"] /
                                        run["latency"][i]["horus_spin"]["median_ns"] for run in runs])
        row["block_over_pipe"] = _med([run["latency"][i]["horus_block"]["median_ns"] /
                                       run["baselines"]["pipe_1byte"]["median_ns"] for run in runs])
        row["spin_over_atomic"] = _med([run["latency"][i]["horus_spin"]["median_ns"] /
                                        run["baselines"]["atomic_spin"]["median_ns"] for run in runs])
        rows.append(row)
    base = {k: _cell([run["baselines"][k]["median_ns"] for run in runs],
                     [run["baselines"][k]["p99_ns"] for run in runs])
            for k in ("pipe_1byte", "atomic_spin")}
    tput = _best_throughput(runs)
    wake = _cell([run["wake"]["median_ns"] for run in runs], [run["wake"]["p99_ns"] for run in runs])
    flat = {k: rows[-1][k]["median_ns"] / rows[0][k]["median_ns"] for k in ("horus_block", "horus_spin")}
    return {"repeats": len(runs), "samples": runs[0]["samples"], "latency": rows, "baselines": base,
            "throughput": tput, "wake": wake, "flat_8MiB_over_64B": flat}


def py_summary(runs: list[dict]) -> dict:
    transports = list(runs[0]["latency"].keys())
    n_pay = len(runs[0]["latency"]["horus"])
    rows = []
    for i in range(n_pay):
        row = {"payload": runs[0]["latency"]["horus"][i]["payload"], "bytes": runs[0]["latency"]["horus"][i]["bytes"]}
        for t in transports:
            row[t] = _cell([run["latency"][t][i]["median_ns"] for run in runs],
                           [run["latency"][t][i]["p99_ns"] for run in runs])
            row[t]["n"] = min(run["latency"][t][i]["n"] for run in runs)
        for base in ("mp_queue", "shm_memcpy"):
            row[f"{base}_over_horus"] = _med([run["latency"][base][i]["median_ns"] /
                                              run["latency"]["horus"][i]["median_ns"] for run in runs])
        rows.append(row)
    wake = _cell([run["wake"]["median_ns"] for run in runs], [run["wake"]["p99_ns"] for run in runs])
    tput = _best_throughput(runs)
    flat = {t: rows[-1][t]["median_ns"] / rows[0][t]["median_ns"] for t in ("horus", "horus_spin", "horus_notouch")}
    return {"repeats": len(runs), "samples": runs[0]["samples"], "budget_s": runs[0]["budget_s"],
            "transports": transports, "latency": rows, "wake": wake, "wake_gap_ms": runs[0]["wake"]["gap_ms"],
            "throughput": tput, "throughput_s": runs[0].get("throughput_s"), "flat_8MiB_over_64B": flat}


# ------------------------------------------------------------------ markdown
def _ns(x):
    return "—" if x is None else (f"{x:,.0f} ns" if x < 1e5 else f"{x / 1e3:,.0f} µs")


def _us(x):
    return "—" if x is None else (f"{x / 1e3:.1f}" if x < 1e7 else f"{x / 1e3:,.0f}")


def goals(cpp: dict | None, py: dict | None) -> list[tuple[str, str, bool | None]]:
    g = []
    if cpp:
        img = next(r for r in cpp["latency"] if r["payload"] == IMAGE)
        sp, bl = img["horus_spin"]["median_ns"], img["horus_block"]["median_ns"]
        g.append((f"C++ one-way median <= {GOAL_CPP_NS:.0f} ns, {IMAGE}",
                  f"busy-poll {sp:.0f} ns; blocking recv (poll, then futex) {bl:,.0f} ns", sp <= GOAL_CPP_NS))
        for k, what in (("horus_spin", "busy-poll"), ("horus_block", "blocking")):
            f = cpp["flat_8MiB_over_64B"][k]
            g.append((f"C++ flat in size ({what}): 8 MiB / 64 B <= {GOAL_FLAT}", f"{f:.2f}x", f <= GOAL_FLAT))
        w = cpp["wake"]["median_ns"]
        g.append((f"C++ blocking recv wakes within {GOAL_WAKE_US:.0f} µs (median)", f"{w / 1e3:.1f} µs",
                  w <= GOAL_WAKE_US * 1e3))
    if py:
        img = next(r for r in py["latency"] if r["payload"] == IMAGE)
        h = img["horus"]["median_ns"]
        g.append((f"Python send→recv <= {GOAL_PY_US:.0f} µs, {IMAGE} (blocking recv, data touched)",
                  f"{h / 1e3:.1f} µs (no touch: {img['horus_notouch']['median_ns'] / 1e3:.1f} µs)",
                  h <= GOAL_PY_US * 1e3))
        q = img["mp_queue_over_horus"]
        g.append((f">= {GOAL_VS_QUEUE:.0f}x faster than multiprocessing.Queue at {IMAGE}", f"{q:,.0f}x",
                  q >= GOAL_VS_QUEUE))
        for t, what in (("horus_notouch", "transport only"), ("horus", "with the page touch")):
            f = py["flat_8MiB_over_64B"][t]
            g.append((f"Python flat in size ({what}): 8 MiB / 64 B <= {GOAL_FLAT}", f"{f:.2f}x", f <= GOAL_FLAT))
        w = py["wake"]["median_ns"]
        g.append((f"Python blocking recv(timeout=1) wakes within {GOAL_WAKE_US:.0f} µs (median)",
                  f"{w / 1e3:.1f} µs (p99 {py['wake']['p99_ns'] / 1e3:.1f} µs)", w <= GOAL_WAKE_US * 1e3))
    return g


def markdown(cpp: dict | None, py: dict | None) -> str:
    md = ["## Goals (issue 4, section 6)", "", "| goal | measured | |", "|---|---|---|"]
    for name, val, ok in goals(cpp, py):
        md.append(f"| {name} | {val} | **{'met' if ok else 'missed'}** |")
    md.append("")
    if cpp:
        md += [f"## C++: cross-process one-way latency (RTT/2; best of {cpp['repeats']} runs' medians, "
               f"{cpp['samples']:,} samples per run after warm-up)", "",
               "horus_block: both sides in `Topic::recv(timeout)` (polls up to HORUS_RECV_SPIN_US, then futex sleep); horus_spin: both sides "
               "busy-poll `try_recv()`; the child echoes the received message (zero-copy, payload not "
               "touched). shm_memcpy: memcpy into a shared mapping + 1-byte pipe notify, the child memcpys "
               "it into its reply region (the hand-rolled approach). The message is allocated and filled "
               "once per size and re-sent, so allocation is not timed.", "",
               "Ratios (per run, median over runs): memcpy / block = shm_memcpy over horus_block (both "
               "block in a receive call; horus polls up to HORUS_RECV_SPIN_US before it sleeps, the pipe "
               "sleeps at once); block / pipe = horus_block over the 1-byte pipe.", "",
               "| payload | horus_block median / p99 | horus_spin median / p99 | shm_memcpy median / p99 | "
               "memcpy / block | block / pipe |",
               "|---|---:|---:|---:|---:|---:|"]
        for r in cpp["latency"]:
            md.append(f"| {r['payload']} | {_ns(r['horus_block']['median_ns'])} / {_ns(r['horus_block']['p99_ns'])} | "
                      f"{_ns(r['horus_spin']['median_ns'])} / {_ns(r['horus_spin']['p99_ns'])} | "
                      f"{_ns(r['shm_memcpy']['median_ns'])} / {_ns(r['shm_memcpy']['p99_ns'])} | "
                      f"{r['memcpy_over_block']:.1f}x | {r['block_over_pipe']:.2f}x |")
        b = cpp["baselines"]
        md += ["", f"Raw baselines, same runs: 1-byte pipe ping-pong (kernel round trip) "
                   f"{_ns(b['pipe_1byte']['median_ns'])} / {_ns(b['pipe_1byte']['p99_ns'])} one-way; two processes "
                   f"bouncing one shared cache line (busy-poll floor) {_ns(b['atomic_spin']['median_ns'])} / "
                   f"{_ns(b['atomic_spin']['p99_ns'])}. shm_memcpy samples are capped for big payloads "
                   f"(min n shown in the JSON).", "",
               f"Blocking recv wake latency (receiver asleep in recv(1 s), one send per ms): median "
               f"{cpp['wake']['median_ns'] / 1e3:.1f} µs, p99 {cpp['wake']['p99_ns'] / 1e3:.1f} µs.", "",
               "Throughput, one-way (publisher re-sends one message back to back; one subscriber polls "
               "try_recv(); ring capacity 64 — a publisher never waits, so what the subscriber cannot "
               "take in is dropped):", "",
               "| payload | send rate | delivered rate | delivered / sent |", "|---|---:|---:|---:|"]
        for t in cpp["throughput"]:
            md.append(f"| {t['payload']} | {t['send_rate']:,.0f} msg/s | {t['delivered_rate']:,.0f} msg/s | "
                      f"{t['delivered_fraction'] * 100:.0f}% |")
        md.append("")
    if py:
        tr = py["transports"]
        md += [f"## Python: cross-process one-way latency, µs (best of {py['repeats']} runs' medians / median of their p99s)", "",
               "Separate processes (multiprocessing, spawn). RTT/2 of a ping-pong; on both sides the receiver "
               "touches one byte per 4 KiB page (`a.reshape(-1)[::4096].sum()`, for horus after `to_numpy()`), "
               "the same for every transport; horus_notouch skips it (transport only). horus / horus_notouch: "
               "blocking `recv(timeout=5)`; horus_spin: `try_recv()` polling. Image for the image sizes, uint8 "
               "Tensor otherwise; mp_queue / shm_memcpy send the equivalent NumPy array.", "",
               "| payload | " + " | ".join(tr) + " | mp_queue / horus | shm_memcpy / horus |",
               "|---|" + "---:|" * (len(tr) + 2)]
        for r in py["latency"]:
            md.append(f"| {r['payload']} | " +
                      " | ".join(f"{_us(r[t]['median_ns'])} / {_us(r[t]['p99_ns'])}" for t in tr) +
                      f" | {r['mp_queue_over_horus']:,.1f}x | {r['shm_memcpy_over_horus']:.1f}x |")
        md += ["", f"Samples per cell: up to {py['samples']:,} after warm-up, time-capped at {py['budget_s']} s "
                   "per cell (so the slow baselines at large sizes have fewer; min " +
               ", ".join(f"{t} {min(r[t]['n'] for r in py['latency'])}" for t in tr) + ").", "",
               f"Blocking `recv(timeout=1)` wake latency (receiver asleep; one send every "
               f"{py['wake_gap_ms']:.0f} ms; stamp = `time.monotonic_ns()` set on the message): median "
               f"{py['wake']['median_ns'] / 1e3:.1f} µs, p99 {py['wake']['p99_ns'] / 1e3:.1f} µs.", "",
               f"Throughput, one-way horus in Python ({py['throughput_s']} s of back-to-back sends of one "
               "message; the subscriber polls try_recv()):", "",
               "| payload | send rate | delivered rate | delivered / sent |", "|---|---:|---:|---:|"]
        for t in py["throughput"]:
            md.append(f"| {t['payload']} | {t['send_rate']:,.0f} msg/s | {t['delivered_rate']:,.0f} msg/s | "
                      f"{t['delivered_fraction'] * 100:.0f}% |")
        md.append("")
    return "\n".join(md)


def run_and_write(stem: Path, quick: bool, header: list[str], info: dict, repeats: int | None = None,
                  recorded: dict | None = None) -> str:
    """Runs the benchmarks (or, with `recorded`, re-renders the raw runs of an earlier JSON) and
    writes stem.md / stem.json."""
    repeats = repeats or (1 if quick else 3)
    if recorded is not None:
        cpp_runs, py_runs = recorded["cpp"]["runs"], recorded["python"]["runs"]
        repeats = recorded["repeats"]
    else:
        cpp_runs = run_cpp(quick, repeats)
        py_runs = run_python(quick, repeats)
    cpp = cpp_summary(cpp_runs) if cpp_runs else None
    py = py_summary(py_runs)
    if recorded is None:
        try:
            info = dict(info, loadavg=" ".join(Path("/proc/loadavg").read_text().split()[:3]))
        except OSError:
            pass
    text = "\n".join(header + [f"- load average after the run: {info.get('loadavg', '?')} "
                               "(other work shares the machine; see the p99 columns)", "",
                               markdown(cpp, py)])
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps({
        "machine": info, "quick": quick, "repeats": repeats,
        "goals": [{"goal": n, "measured": v, "met": ok} for n, v, ok in goals(cpp, py)],
        "cpp": {"summary": cpp, "runs": cpp_runs}, "python": {"summary": py, "runs": py_runs},
    }, indent=2))
    return text
