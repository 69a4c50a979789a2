"""hop_breakdown.py — where the time of one Python hop goes, per transport (bench/compare).

The ping-pong in run.py measures a whole hop: the sender's make() (allocate or loan,
NumPy view, write the sequence number) and send(), the receiver's recv(), its NumPy
view u8() and the page touch. From Python much of that is NumPy work every transport
pays alike, which caps how far apart two fast transports can be in that table. This
script splits a hop into those phases, in ONE process with publisher and subscriber
side by side (no second core, no wake-up), using the very adapters of transports.py:

    make   tr.make(seq)           transport allocation/loan + NumPy view + 8-byte write
    send   tr.send(msg)
    recv   tr.recv(1.0)           the message is already there (same process)
    u8     tr.u8(msg)             flat uint8 NumPy view of the received payload
    touch  u8[::4096].sum()       one byte per 4 KB page, as the ping-pong does

Each phase is timed with perf_counter_ns around it; the timer's own cost (measured
the same way around nothing) is subtracted. Medians over --n hops after warm-up.

    python bench/compare/hop_breakdown.py                 # horus (.venv) + iceoryx2 (.venv-bench), recorded
    python bench/compare/hop_breakdown.py --transport X   # one transport, prints JSON (used by the driver)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import transports as T  # noqa: E402

PHASES = ["make", "send", "recv", "u8", "touch"]
PAYLOADS = ["64B", "vga", "1080p", "8MiB"]
# transport -> interpreter; horus-robotics would clash with horus in one venv, so each runs in its own
VENV_OF = {"horus": ".venv", "iceoryx2": ".venv-bench", "horus-robotics": ".venv-bench"}


def measure(tname: str, key: str, n: int) -> dict:
    cls = T.BY_NAME[tname]
    p = T.PAYLOAD_BY_KEY[key]
    tag = f"hb{os.getpid()}"
    a = cls("a", p, None, tag)
    b = cls("b", p, None, tag)
    clock = time.perf_counter_ns
    samples = {ph: [] for ph in PHASES}
    timer = []
    try:
        for i in range(n + 500):
            t0 = clock()
            t1 = clock()
            m = a.make(i)
            t2 = clock()
            a.send(m)
            t3 = clock()
            r = b.recv(1.0)
            t4 = clock()
            if r is None:
                raise RuntimeError(f"{tname}: message {i} not received in one process")
            u8 = b.u8(r)
            t5 = clock()
            int(u8[::4096].sum())
            t6 = clock()
            del m, r, u8
            if i >= 500:
                timer.append(t1 - t0)
                for ph, (x, y) in zip(PHASES, [(t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6)]):
                    samples[ph].append(y - x)
    finally:
        a.close()
        b.close()
    overhead = statistics.median(timer)
    out = {ph: max(0.0, statistics.median(v) - overhead) for ph, v in samples.items()}
    out["total"] = sum(out[ph] for ph in PHASES)
    out["timer_ns"] = overhead
    return out


def run_one(tname: str, n: int) -> dict:
    return {key: measure(tname, key, n) for key in PAYLOADS}


def fmt(ns: float) -> str:
    return f"{ns / 1000:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transport", help="measure one transport in this interpreter and print JSON")
    ap.add_argument("--n", type=int, default=5000, help="hops per payload (default 5000)")
    ap.add_argument("--out", help="output stem (default bench/results/<date>-<host>-hop-breakdown)")
    args = ap.parse_args()
    if args.transport:
        print(json.dumps(run_one(args.transport, args.n)))
        return 0

    import run as compare_run  # the comparison's clean-up of what workers leave in /dev/shm

    results, errors = {}, {}
    for tname, venv in VENV_OF.items():
        py = os.path.join(ROOT, venv, "bin", "python")
        ns = f"hopbd{os.getpid()}"
        env = dict(os.environ, HORUS_NAMESPACE=ns)
        before = compare_run.dev_shm_entries()
        try:
            r = subprocess.run([py, __file__, "--transport", tname, "--n", str(args.n)],
                               capture_output=True, text=True, env=env, timeout=600)
        finally:
            compare_run.clean_namespace(ns, before)
        if r.returncode == 0:
            results[tname] = json.loads(r.stdout.strip().splitlines()[-1])
        else:
            errors[tname] = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["failed"]
        print(f"[hop-breakdown] {tname}: " + ("ok" if tname in results else f"FAILED {errors[tname]}"),
              flush=True)
    if not results:
        return 1

    date = datetime.date.today().isoformat()
    host = os.environ.get("HORUS_BENCH_HOST", "vm")
    stem = args.out or os.path.join(ROOT, "bench", "results", f"{date}-{host}-hop-breakdown")
    L = [f"# One Python hop, phase by phase — {host}, {date}", "",
         "Generated by `bench/compare/hop_breakdown.py`: publisher and subscriber in ONE process",
         "(no second core, no wake-up), the adapters of bench/compare/transports.py, medians of",
         f"{args.n} hops, µs. make = the transport's allocation or loan plus the sender's NumPy view",
         "and 8-byte write; send and recv are the transport; u8 + touch are the receiver's NumPy work",
         "(the same for every zero-copy transport). Timer overhead is subtracted.", ""]
    for key in PAYLOADS:
        L += [f"### {T.PAYLOAD_BY_KEY[key][1]}", "",
              "| transport | make | send | recv | u8 | touch | total |", "|---|---|---|---|---|---|---|"]
        for tname, res in results.items():
            d = res[key]
            L.append(f"| {tname} | " + " | ".join(fmt(d[ph]) for ph in PHASES) + f" | **{fmt(d['total'])}** |")
        L.append("")
    for tname, err in errors.items():
        L.append(f"- {tname}: could not run: {' '.join(err)}")
    L += ["", f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, kernel {platform.release()}, "
          f"Python {platform.python_version()}, host {socket.gethostname()}, "
          f"{datetime.datetime.now().isoformat(timespec='seconds')}"]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(L) + "\n")
    with open(stem + ".json", "w") as f:
        json.dump({"n": args.n, "results": results, "errors": errors}, f, indent=1)
    print(f"[hop-breakdown] wrote {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
