#!/usr/bin/env python3
"""callgrind_guard.py — instruction-count regression guard for horus hot paths (issue 5).

    python bench/callgrind_guard.py            # compare with bench/callgrind_baseline.json, exit 1 on > 10 % growth
    python bench/callgrind_guard.py --update   # rewrite the baseline

Workloads (single process, deterministic):
  cpp_send_recv_image   C++ Topic<Image>::send + try_recv of a 640x480 rgb8 descriptor
                        (bench/compare/cpp/guard_cpp.cpp, built into build/compare)
  py_send_recv_image    Python topic.send(img) + topic.try_recv() (new Image each time)
  py_to_numpy           Python msg.to_numpy() of a received Image

Each is run under `valgrind --tool=callgrind` for two iteration counts N1 < N2;
instructions per iteration = (Ir(N2) - Ir(N1)) / (N2 - N1), so interpreter start-up,
imports and setup cancel. Instruction counts do not depend on machine load (unlike
timings), but they do depend on the compiler, Python and NumPy builds: refresh the
baseline (--update) when the toolchain changes, and say so in the commit.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BASELINE = os.path.join(ROOT, "bench", "callgrind_baseline.json")
BUILD = os.path.join(ROOT, "build", "compare")
PY = os.path.join(ROOT, ".venv", "bin", "python")
THRESHOLD = 0.10
REPEAT = 2

PY_WORKLOAD = r"""
import sys, horus
n, what = int(sys.argv[1]), sys.argv[2]
t = horus.Topic(horus.Image, "guard.py.image", capacity=64)
if what == "send_recv":
    for _ in range(n):
        t.send(horus.Image(height=480, width=640, encoding="rgb8"))
        m = t.try_recv()
else:
    t.send(horus.Image(height=480, width=640, encoding="rgb8"))
    m = t.try_recv()
    for _ in range(n):
        a = m.to_numpy()
"""

WORKLOADS = {
    "cpp_send_recv_image": (lambda n: [os.path.join(BUILD, "guard_cpp"), str(n)], 200, 1200),
    "py_send_recv_image": (lambda n: [PY, "-c", PY_WORKLOAD, str(n), "send_recv"], 200, 1200),
    "py_to_numpy": (lambda n: [PY, "-c", PY_WORKLOAD, str(n), "to_numpy"], 200, 2200),
}


def build_cpp():
    cmake = os.path.join(ROOT, ".venv", "bin", "cmake")
    ninja = os.path.join(ROOT, ".venv", "bin", "ninja")
    gen = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if os.path.exists(ninja) else []
    cmake = cmake if os.path.exists(cmake) else "cmake"
    subprocess.run([cmake, "-S", os.path.join(ROOT, "bench", "compare", "cpp"), "-B", BUILD, *gen,
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cmake, "--build", BUILD, "--target", "guard_cpp"], check=True)


def instructions(cmd):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        # one BLAS/OpenMP thread: OpenBLAS worker threads busy-wait, and their
        # instruction counts depend on timing (that made py_to_numpy vary 10x)
        env = dict(os.environ, HORUS_NAMESPACE=f"guard{os.getpid()}", PYTHONHASHSEED="0",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed under callgrind:\n{r.stderr[-2000:]}")
        for line in open(out):
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(2))
    raise RuntimeError("no instruction total in callgrind output")


def measure(names):
    res = {}
    for name in names:
        mk, n1, n2 = WORKLOADS[name]
        # minimum of REPEAT runs per length: a run can only gain instructions from
        # incidental work (interpreter GC, allocator growth), never lose them
        a = min(instructions(mk(n1)) for _ in range(REPEAT))
        b = min(instructions(mk(n2)) for _ in range(REPEAT))
        res[name] = round((b - a) / (n2 - n1))
        print(f"  {name:24s} {res[name]:>10,d} instructions / iteration", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="rewrite the baseline with this run")
    ap.add_argument("--only", help="comma list of workloads")
    a = ap.parse_args()
    if subprocess.run(["which", "valgrind"], capture_output=True).returncode != 0:
        print("callgrind_guard: valgrind not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    build_cpp()
    names = a.only.split(",") if a.only else list(WORKLOADS)
    print("callgrind_guard: measuring (valgrind --tool=callgrind) ...", flush=True)
    cur = measure(names)
    if a.update or not os.path.exists(BASELINE):
        base = json.load(open(BASELINE)) if os.path.exists(BASELINE) else {}
        base.setdefault("counts", {}).update(cur)
        base["note"] = ("instructions per iteration (callgrind Ir difference of two run lengths); "
                        "regenerate with `python bench/callgrind_guard.py --update` when the toolchain changes")
        base["threshold"] = THRESHOLD
        with open(BASELINE, "w") as f:
            json.dump(base, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"callgrind_guard: baseline written to {os.path.relpath(BASELINE, ROOT)}")
        return 0
    base = json.load(open(BASELINE))["counts"]
    bad = 0
    for k, v in cur.items():
        if k not in base:
            print(f"  {k}: no baseline (run --update)")
            continue
        g = v / base[k] - 1
        status = "FAIL" if g > THRESHOLD else "ok"
        bad += g > THRESHOLD
        print(f"  {status:4s} {k:24s} {v:>10,d} vs baseline {base[k]:>10,d} ({g:+.1%})")
    if bad:
        print(f"callgrind_guard: {bad} workload(s) grew by more than {THRESHOLD:.0%}", file=sys.stderr)
        return 1
    print("callgrind_guard: all within +10 % of the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
