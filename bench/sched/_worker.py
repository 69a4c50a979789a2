"""One row of bench/sched/jitter_bench.py in a process of its own.

  _worker.py IMPL RATE SECONDS MODE LOAD OUT
    IMPL   horus | robotics   (horus: this project, from .venv; robotics: horus-robotics, from .venv-bench;
                               both import as `horus`)
    MODE   default | rt       default: a plain Node at RATE; rt: priority 80 on CPU 1 (horus) and
                              run(rt=True) for both (horus-robotics makes a rated node real-time itself)
    LOAD   0 | 1              1: a 30 Hz node doing 10 ms of NumPy work in the same run, in a thread of
                              its own in both (compute=True)
    OUT    where the tick start times go (raw int64, CLOCK_MONOTONIC ns)
  _worker.py load SECONDS     the 30 Hz NumPy node alone (the load beside the C++ rows)

The measured tick only stores time.monotonic_ns(): what is measured is the scheduler.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the NumPy load stays one thread
import numpy as np  # noqa: E402

WORK_S = 0.010  # NumPy work per tick of the load node
LOAD_RATE = 30.0


def calibrated_work():
    """A function doing about WORK_S of NumPy work (sorts and element-wise math)."""
    rng = np.random.default_rng(1)
    n = 20_000

    def work(size):
        a = rng.random(size)
        a.sort()
        np.sqrt(a, out=a)
        return float(a.sum())

    while True:
        t = time.perf_counter()
        work(n)
        took = time.perf_counter() - t
        if took > WORK_S / 4 or n > 5_000_000:
            break
        n *= 2
    size = max(1000, int(n * WORK_S / max(took, 1e-6)))
    return lambda node: work(size)


def main() -> int:
    if sys.argv[1] == "load":
        import horus

        horus.run(horus.Node(name="load.numpy", tick=calibrated_work(), rate=LOAD_RATE), duration=float(sys.argv[2]))
        return 0
    impl, rate, seconds, mode, load, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], \
        sys.argv[5] == "1", sys.argv[6]
    import horus

    starts = []
    stamp = starts.append
    now = time.monotonic_ns

    def tick(node):
        stamp(now())

    nodes = []
    if impl == "horus":
        kw = {"priority": 80, "core": 1} if mode == "rt" else {}
        nodes.append(horus.Node(name="jitter.py", tick=tick, rate=rate, **kw))
    else:
        nodes.append(horus.Node(name="jitter_py", tick=tick, rate=rate, order=0))
    if load:
        nodes.append(horus.Node(name="load_numpy", tick=calibrated_work(), rate=LOAD_RATE, order=1, compute=True))
    horus.run(*nodes, duration=seconds, **({"rt": True} if mode == "rt" else {}))
    np.asarray(starts, dtype=np.int64).tofile(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
