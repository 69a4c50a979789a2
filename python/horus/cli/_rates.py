"""`horus topic hz` and `horus topic bw`: a topic's message rate and bandwidth, reported every second.

Like `ros2 topic hz`: the arrival times of the latest --window messages (default 10000) give
the average rate (1 / mean period), the shortest and longest period and their standard
deviation; `bw` adds the messages' sizes. Times are taken when this subscriber receives a
message, so they include its own wake-up latency. A publisher faster than this process can
receive is not slowed: the messages it loses are reported as `dropped`, and the rate then
counts only what arrived.

With --duration S the command stops by itself after S seconds (a report every second, and
one at the end). With --json each report is one JSON object on a line of its own.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections import deque
from typing import Any

from horus.cli import _render
from horus.cli._observer import Observer
from horus.cli._output import fmt_bytes, json_line

__all__ = ["Window", "bw", "hz"]

#: Seconds between reports.
REPORT_EVERY = 1.0


class Window:
    """Arrival times (monotonic seconds) and sizes of the latest `size` messages."""

    def __init__(self, size: int) -> None:
        self.times: deque[float] = deque(maxlen=size)
        self.sizes: deque[int] = deque(maxlen=size)
        self.total = 0

    def add(self, t: float, size: int = 0) -> None:
        self.times.append(t)
        self.sizes.append(size)
        self.total += 1

    def periods(self) -> list[float]:
        ts = list(self.times)
        return [b - a for a, b in zip(ts, ts[1:])]

    def rate(self) -> dict[str, Any]:
        """rate_hz, min_s, max_s, std_dev_s over the window (None with fewer than 2 messages)."""
        p = self.periods()
        if not p:
            return {"rate_hz": None, "min_s": None, "max_s": None, "std_dev_s": None}
        mean = sum(p) / len(p)
        return {"rate_hz": 1.0 / mean if mean > 0 else math.inf, "min_s": min(p), "max_s": max(p),
                "std_dev_s": statistics.pstdev(p)}

    def bandwidth(self) -> dict[str, Any]:
        """bytes_per_s (the bytes after the window's first message over the time since it) and
        the sizes' mean/min/max (None while the window is empty)."""
        sizes = list(self.sizes)
        if not sizes:
            return {"bytes_per_s": None, "mean_bytes": None, "min_bytes": None, "max_bytes": None}
        span = self.times[-1] - self.times[0]
        return {"bytes_per_s": sum(sizes[1:]) / span if span > 0 else None,
                "mean_bytes": sum(sizes) / len(sizes), "min_bytes": min(sizes), "max_bytes": max(sizes)}


def _run(args: argparse.Namespace, report: Any, sized: bool) -> int:
    obs = Observer(args.name, args.type_spec)
    window = Window(args.window)
    start = time.monotonic()
    end = start + args.duration if args.duration else math.inf
    next_report = start + REPORT_EVERY
    reported_total = 0
    while True:
        now = time.monotonic()
        if now >= min(next_report, end):
            report(window, new=window.total - reported_total, elapsed=now - start, dropped=obs.dropped)
            reported_total = window.total
            while next_report <= now:
                next_report += REPORT_EVERY
            if now >= end:
                return 0
        msg = obs.recv(timeout=max(0.0, min(next_report, end) - time.monotonic()))
        if msg is None:
            continue
        arrived = time.monotonic()
        window.add(arrived, _render.payload_bytes(msg) if sized else 0)
        del msg


def _common(name: str, window: Window, elapsed: float, dropped: int) -> dict[str, Any]:
    return {"topic": name, "window": len(window.times), "messages": window.total, "dropped": dropped,
            "elapsed_s": round(elapsed, 3)}


def hz(args: argparse.Namespace) -> int:
    def report(window: Window, new: int, elapsed: float, dropped: int) -> None:
        r = window.rate()
        if args.json:
            json_line({**_common(args.name, window, elapsed, dropped), "new": new, **r})
            return
        if not new or r["rate_hz"] is None:
            print("no new messages", flush=True)
            return
        extra = f" dropped: {dropped}" if dropped else ""
        print(f"average rate: {r['rate_hz']:.3f}\n"
              f"\tmin: {r['min_s']:.3f}s max: {r['max_s']:.3f}s std dev: {r['std_dev_s']:.5f}s "
              f"window: {len(window.times)}{extra}", flush=True)

    return _run(args, report, sized=False)


def bw(args: argparse.Namespace) -> int:
    def report(window: Window, new: int, elapsed: float, dropped: int) -> None:
        b = window.bandwidth()
        if args.json:
            json_line({**_common(args.name, window, elapsed, dropped), "new": new, **b, **window.rate()})
            return
        if not new or b["bytes_per_s"] is None:
            print("no new messages", flush=True)
            return
        extra = f" dropped: {dropped}" if dropped else ""
        print(f"{fmt_bytes(b['bytes_per_s'])}/s from {len(window.times)} messages\n"
              f"\tmessage size mean: {fmt_bytes(b['mean_bytes'])} min: {fmt_bytes(b['min_bytes'])} "
              f"max: {fmt_bytes(b['max_bytes'])}{extra}", flush=True)

    return _run(args, report, sized=True)
