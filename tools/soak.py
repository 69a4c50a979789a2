#!/usr/bin/env python3
"""Soak: 1 publisher x N subscribers (processes) at a fixed rate, image messages.

    tools/soak.py --seconds 600                 # by hand: 10 minutes, 1 kHz, 640x480x3, 8 subscribers
    tools/soak.py --seconds 10 --json           # CI (tests/test_soak.py)

Checks, in a private namespace:
  * accounting: for every subscriber, delivered + dropped == sent (nothing
    vanishes uncounted; each delivered message carries its frame number and is
    checked for order and content);
  * no growth in pool usage: blocks_in_use (sampled by the publisher each second)
    never exceeds the bound the design allows (ring capacity + 1 per subscriber
    + 2) and does not trend upwards;
  * no RSS growth: each process's RSS after warm-up grows by < --rss-slack-mb;
  * /dev/shm holds nothing of the namespace afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

CAPACITY = 16


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def publisher(args) -> None:
    import numpy as np

    import horus

    topic = horus.Topic(horus.Image, "soak", capacity=CAPACITY)
    ready_dir = Path(args.dir)
    deadline = time.monotonic() + 30
    while len(list(ready_dir.glob("ready.*"))) < args.subs and time.monotonic() < deadline:
        time.sleep(0.01)
    h, w = args.height, args.width
    period = 1.0 / args.rate
    sent = 0
    samples = []  # (t, blocks_in_use, rss_mb)
    t0 = time.perf_counter()
    next_sample = 0.0
    late = 0
    while True:
        now = time.perf_counter() - t0
        if now >= args.seconds:
            break
        img = horus.Image(h, w, "rgb8")
        a = img.to_numpy()
        a[0, 0, :] = sent & 0xFF
        a[-1, -1, :] = (sent >> 8) & 0xFF
        del a
        img.set_timestamp_ns(sent)
        topic.send(img)
        del img
        sent += 1
        if now >= next_sample:
            samples.append((round(now, 2), horus.pool_stats().blocks_in_use, round(rss_mb(), 1)))
            next_sample += 1.0
        target = sent * period
        slack = target - (time.perf_counter() - t0)
        if slack > 0.0002:
            time.sleep(slack - 0.0001)
        elif slack < -0.05:
            late += 1
    (ready_dir / "done").write_text(str(sent))
    print(json.dumps({"role": "pub", "sent": sent, "seconds": round(time.perf_counter() - t0, 2),
                      "samples": samples, "late": late}))


def subscriber(args) -> None:
    import horus

    topic = horus.Topic(horus.Image, "soak", capacity=CAPACITY)
    d = Path(args.dir)
    (d / f"ready.{args.index}").write_text("1")
    delivered = bad = 0
    last = -1
    rss = []
    t_next = time.monotonic() + 1.0
    while True:
        msg = topic.recv(timeout=0.1)
        got = msg is not None
        if got:
            n = msg.timestamp_ns
            a = msg.to_numpy()
            if n <= last or a[0, 0, 0] != (n & 0xFF) or a[-1, -1, 2] != ((n >> 8) & 0xFF):
                bad += 1
            del a, msg
            last = n
            delivered += 1
        if time.monotonic() >= t_next:
            rss.append(round(rss_mb(), 1))
            t_next += 1.0
        done = d / "done"
        if not got and done.exists():
            sent = int(done.read_text())
            if topic.published >= sent and topic.pending == 0:
                break
    print(json.dumps({"role": "sub", "index": args.index, "delivered": delivered, "dropped": topic.dropped,
                      "published": topic.published, "bad": bad, "rss": rss}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--subs", type=int, default=8)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--rss-slack-mb", type=float, default=8.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--role", choices=["pub", "sub"])
    ap.add_argument("--dir")
    ap.add_argument("--index", type=int, default=0)
    args = ap.parse_args()
    if args.role == "pub":
        publisher(args)
        return 0
    if args.role == "sub":
        subscriber(args)
        return 0

    import tempfile

    ns = f"soak_{os.getpid()}_{secrets.token_hex(3)}"
    env = dict(os.environ, HORUS_NAMESPACE=ns)
    tmp = tempfile.mkdtemp(prefix="horus_soak_")
    common = ["--dir", tmp, "--seconds", str(args.seconds), "--rate", str(args.rate), "--subs", str(args.subs),
              "--height", str(args.height), "--width", str(args.width)]
    subs = [subprocess.Popen([sys.executable, __file__, "--role", "sub", "--index", str(i)] + common,
                             env=env, stdout=subprocess.PIPE, text=True) for i in range(args.subs)]
    pub = subprocess.Popen([sys.executable, __file__, "--role", "pub"] + common, env=env,
                           stdout=subprocess.PIPE, text=True)
    p_out, _ = pub.communicate(timeout=args.seconds + 120)
    s_outs = [s.communicate(timeout=60)[0] for s in subs]
    p = json.loads(p_out.strip().splitlines()[-1])
    ss = [json.loads(o.strip().splitlines()[-1]) for o in s_outs]
    time.sleep(0.05)
    left = sorted(x.name for x in Path("/dev/shm").iterdir() if x.name.startswith(f"horus.{ns}."))

    blocks = [b for _, b, _ in p["samples"]]
    bound = CAPACITY + args.subs + 2
    warm = max(1, len(blocks) // 5)
    half = len(blocks) // 2
    pool_growth = (max(blocks[half:]) - max(blocks[warm:half] or blocks[:1])) if len(blocks) > 3 else 0
    rss_growth = {"pub": round(p["samples"][-1][2] - p["samples"][warm - 1][2], 1) if len(p["samples"]) > 1 else 0.0}
    for s in ss:
        r = s["rss"]
        rss_growth[f"sub{s['index']}"] = round(r[-1] - r[min(warm, len(r) - 1)], 1) if len(r) > 1 else 0.0
    accounting = {f"sub{s['index']}": (s["delivered"], s["dropped"]) for s in ss}
    result = {
        "namespace": ns, "seconds": p["seconds"], "rate_target_hz": args.rate, "subs": args.subs,
        "image": f"{args.width}x{args.height}x3", "sent": p["sent"],
        "achieved_hz": round(p["sent"] / p["seconds"], 1),
        "delivered_total": sum(s["delivered"] for s in ss), "dropped_total": sum(s["dropped"] for s in ss),
        "accounting_ok": all(s["delivered"] + s["dropped"] == p["sent"] for s in ss),
        "accounting": accounting, "bad_payloads": sum(s["bad"] for s in ss),
        "blocks_in_use_max": max(blocks), "blocks_in_use_bound": bound, "pool_growth_blocks": pool_growth,
        "blocks_samples": blocks, "rss_growth_mb": rss_growth, "shm_left": left,
    }
    ok = (result["accounting_ok"] and result["bad_payloads"] == 0 and max(blocks) <= bound and
          pool_growth <= 2 and all(v < args.rss_slack_mb for v in rss_growth.values()) and not left)
    result["ok"] = ok
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
