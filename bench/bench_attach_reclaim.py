"""Attach, detach and reclaim with a 1 GiB pool (issue 10, item 9).

A holder process fills the pool with 1 GiB of 1 MiB blocks (64 segments of 16 MiB) and keeps
them; a second one holds another 1 GiB and is killed with SIGKILL. Then a fresh process
measures, in one run:

  attach   its first call into horus (claims a slot, maps the pool control block, reclaims)
  reclaim  horus.reclaim() that clears the killed holder's 1 GiB (its bits in every block word)
  idle     horus.reclaim() with nobody dead (the namespace lock held, every topic locked)
  detach   leaving the namespace at exit (its own bits cleared, measured by an atexit hook)

Reclamation and detach read only the meta part of each segment (header, words, generations),
never its payload: the numbers stay in milliseconds, not in the seconds it would take to map
and populate 1 GiB in every process that leaves.

    .venv/bin/python bench/bench_attach_reclaim.py [--gib 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import textwrap
import time

HOLDER = """
    import sys, horus
    n = int(sys.argv[1])
    held = [horus.Tensor((1 << 20,), dtype="uint8") for _ in range(n)]
    print("ready", flush=True)
    sys.stdin.readline()
"""

MEASURE = """
    import atexit, json, sys, time
    t0 = time.perf_counter()
    import horus._core as core
    t_import = time.perf_counter()
    core.pool_stats()  # attach (and reclaim the killed holder if attach finds it)
    t_attach = time.perf_counter()
    stats = core.pool_stats()
    t1 = time.perf_counter()
    n = core.reclaim()
    t2 = time.perf_counter()
    core.reclaim()
    t3 = time.perf_counter()
    out = dict(attach_ms=(t_attach - t_import) * 1e3, reclaim_ms=(t2 - t1) * 1e3, reclaimed=n,
               idle_reclaim_ms=(t3 - t2) * 1e3, segments=stats.segments, blocks_in_use=stats.blocks_in_use)
    print(json.dumps(out), flush=True)
    def stamp():
        sys.stderr.write("exit %.9f\\n" % time.time())
    atexit.register(stamp)  # runs after horus's detach (atexit is LIFO, horus registered first)
    sys.stderr.write("leaving %.9f\\n" % time.time())
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=float, default=1.0, help="GiB held by each holder (default 1)")
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args()
    blocks = int(args.gib * 1024)
    env = dict(os.environ, HORUS_NAMESPACE=f"bench_attach_{os.getpid()}_{secrets.token_hex(3)}",
               HORUS_POOL_MAX_BYTES=f"{int(args.gib * 3 + 1)}G")
    py = sys.executable
    keep = subprocess.Popen([py, "-c", textwrap.dedent(HOLDER), str(blocks)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert keep.stdout.readline().strip() == "ready"
    victim = subprocess.Popen([py, "-c", textwrap.dedent(HOLDER), str(blocks)], env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert victim.stdout.readline().strip() == "ready"
    victim.kill()
    victim.wait()
    r = subprocess.run([py, "-c", textwrap.dedent(MEASURE)], env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    result = json.loads(r.stdout.strip().splitlines()[-1])
    stamps = dict(line.split() for line in r.stderr.splitlines() if line.startswith(("leaving", "exit")))
    result["detach_ms"] = (float(stamps["exit"]) - float(stamps["leaving"])) * 1e3
    result["pool_gib_held"] = args.gib * 2
    keep.stdin.write("\n")
    keep.stdin.flush()
    keep.wait(timeout=60)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
