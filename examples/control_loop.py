"""A robot's loops in one horus.run: a 1 kHz controller with a budget and a deadline in a
SCHED_FIFO thread of its own (priority 80; without the right to it, one warning and it runs
as a normal thread), a 30 Hz detector doing 10 ms of NumPy work in a thread of its own, and a
flaky sensor driver that the scheduler restarts. Half-way through, the controller is made slow for a moment on purpose:
it misses its deadline, goes into safe mode (publishes zero commands) and comes back.

    python examples/control_loop.py [--seconds 4]

It prints each node's statistics (ticks, misses, start jitter p50/p99) and the log lines the
nodes and the scheduler wrote to the topic "horus.log" (what `horus log` shows).
docs/scheduler.md explains the options.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

import horus
from horus import FailurePolicy, Node, ms, us


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=4.0)
    args = ap.parse_args()
    logging.basicConfig(format="[python logging] %(levelname)s %(name)s: %(message)s")

    logs = horus.Topic(horus.msg.Log, "horus.log")  # subscribe before the nodes log
    t_start = time.monotonic()
    slow_window = (args.seconds * 0.5, args.seconds * 0.5 + 0.05)

    def control(node):
        pose = node.recv_all("control.pose")  # every pose since the last tick
        speed = 0.5 if not pose else 0.5 - 0.01 * pose[-1].x
        node.send("control.cmd", horus.CmdVel(linear=speed, angular=0.0))
        t = time.monotonic() - t_start
        if slow_window[0] <= t < slow_window[1]:
            time.sleep(0.004)  # a hiccup: well past the 900 us deadline

    safe_calls = [0]

    def safe(node):  # after each missed tick, until one meets its deadline again
        safe_calls[0] += 1
        node.send("control.cmd", horus.CmdVel(linear=0.0, angular=0.0))

    rng = np.random.default_rng(0)
    image = rng.random((480, 640), dtype=np.float32)

    def detect(node):
        t = time.perf_counter()
        while time.perf_counter() - t < 0.010:  # about 10 ms of NumPy work
            np.sort(image, axis=1)

    reads = [0]

    def sensor(node):
        reads[0] += 1
        if reads[0] % 50 == 0:
            raise OSError("serial read timed out")
        node.send("control.pose", horus.Pose2D(x=float(reads[0] % 10), y=0.0, theta=0.0))

    nodes = [
        Node(name="controller", tick=control, rate=1000, budget=300 * us, deadline=900 * us, on_miss="safe_mode",
             safe_mode=safe, subs=["control.pose"], pubs=["control.cmd"], watchdog=50 * ms, priority=80),
        Node(name="detector", tick=detect, rate=30, compute=True),
        Node(name="sensor", tick=sensor, rate=100, pubs=["control.pose"], init=lambda n: n.log_info("port opened"),
             failure_policy=FailurePolicy.restart(max_restarts=10, backoff=0.02)),
    ]
    horus.run(*nodes, duration=args.seconds)

    print(f"{'node':<11} {'rate':>7} {'ticks':>6} {'misses':>6} {'errors':>6} {'restarts':>8} "
          f"{'jitter p50':>10} {'jitter p99':>10}  thread")
    for n in nodes:
        s = n.stats
        print(f"{n.name:<11} {n.rate:>5g}Hz {s.ticks:>6} {s.misses:>6} {s.errors:>6} {s.restarts:>8} "
              f"{s.jitter_p50_s * 1e6:>8.0f}us {s.jitter_p99_s * 1e6:>8.0f}us  {'own' if n.own_thread else 'main'}")
    print(f"safe mode: entered {nodes[0].stats.safe_mode_entries} time(s), {safe_calls[0]} zero commands published")
    print("log lines on horus.log:")
    while (line := logs.try_recv()) is not None:
        level = logging.getLevelName(line.level)
        print(f"  {level:<7} {line.name}: {line.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
