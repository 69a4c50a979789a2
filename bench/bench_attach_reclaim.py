"""Attach, reclaim and detach with a 1 GiB pool (issue 10, item 9).

Two holder processes each fill the pool with 1 GiB of 1 MiB blocks (64 segments of
16 MiB each) and keep them. A measuring process then:

  attach   its first call into horus (claims a slot, maps the pool control block, and
           reclaims whatever dead processes left: nothing yet)
  reclaim  horus.reclaim() right after one holder was killed with SIGKILL (clearing its
           bits on 1,024 blocks in 64 segments it never mapped)
  idle     horus.reclaim() with nobody dead
  detach   leaving at exit: measured from the parent as the measuring process's exit
           time minus that of an identical process that never attached (both print a
           line just before they exit), median of 5 each

Reclamation and detach read only the meta part of each segment (header, words,
generations), never its payload. Run it on any checkout to compare cores:

    .venv/bin/python bench/bench_attach_reclaim.py [--gib 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
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
    import json, sys, time
    import horus._core as core
    t0 = time.perf_counter()
    core.pool_stats()
    t1 = time.perf_counter()
    print("attached", flush=True)
    sys.stdin.readline()  # the parent kills a holder now
    t2 = time.perf_counter()
    n = core.reclaim()
    t3 = time.perf_counter()
    core.reclaim()
    t4 = time.perf_counter()
    st = core.pool_stats()
    print(json.dumps(dict(attach_ms=(t1 - t0) * 1e3, reclaim_ms=(t3 - t2) * 1e3, reclaimed=n,
                          idle_reclaim_ms=(t4 - t3) * 1e3, segments=st.segments,
                          blocks_in_use_after=st.blocks_in_use)), flush=True)
    print("leaving", flush=True)
"""

EXIT_ATTACHED = "import horus._core as core; core.pool_stats(); print('leaving', flush=True)"
EXIT_PLAIN = "import horus._core as core; print('leaving', flush=True)"


def exit_ms(py: str, code: str, env: dict) -> float:
    p = subprocess.Popen([py, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "leaving"
    t = time.perf_counter()
    p.wait(timeout=60)
    return (time.perf_counter() - t) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=float, default=1.0, help="GiB held by each holder (default 1)")
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args()
    blocks = int(args.gib * 1024)
    env = dict(os.environ, HORUS_NAMESPACE=f"bench_attach_{os.getpid()}_{secrets.token_hex(3)}",
               HORUS_POOL_MAX_BYTES=f"{int(args.gib * 3 + 1)}G")
    py = sys.executable
    holders = []
    for _ in range(2):
        h = subprocess.Popen([py, "-c", textwrap.dedent(HOLDER), str(blocks)], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        assert h.stdout.readline().strip() == "ready"
        holders.append(h)
    m = subprocess.Popen([py, "-c", textwrap.dedent(MEASURE)], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert m.stdout.readline().strip() == "attached"
    holders[1].kill()
    holders[1].wait()
    m.stdin.write("\n")
    m.stdin.flush()
    result = json.loads(m.stdout.readline())
    assert m.stdout.readline().strip() == "leaving"
    m.wait(timeout=60)
    attached = [exit_ms(py, EXIT_ATTACHED, env) for _ in range(5)]
    plain = [exit_ms(py, EXIT_PLAIN, env) for _ in range(5)]
    result["detach_ms"] = statistics.median(attached) - statistics.median(plain)
    result["exit_attached_ms"] = statistics.median(attached)
    result["exit_plain_ms"] = statistics.median(plain)
    result["pool_gib"] = args.gib * 2
    holders[0].stdin.write("\n")
    holders[0].stdin.flush()
    holders[0].wait(timeout=60)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
