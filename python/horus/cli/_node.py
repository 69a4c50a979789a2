"""`horus node list | info`: the nodes horus.run() (or C++ horus::run) is running in the namespace."""

from __future__ import annotations

import argparse
import time
from typing import Any

import horus

from horus.cli import _lookup
from horus.cli._output import console, fmt_age, fmt_duration, kv_table, print_json, table

__all__ = ["info", "list_nodes"]


def _rate(n: Any) -> str:
    return f"{n.rate_hz:g} Hz" if n.rate_hz else "-"


def list_nodes(args: argparse.Namespace) -> int:
    infos = _lookup.nodes()
    if args.json:
        print_json({"namespace": horus.namespace(), "nodes": [n.as_dict() for n in infos]})
        return 0
    if not infos:
        console().print(f"no running nodes in namespace {horus.namespace()!r}", markup=False)
        return 0
    table(["NODE", "PID", "LANGUAGE", "RATE", "ORDER", "TICKS", "OVERRUNS", "MISSES", "ERRORS", "MEAN TICK",
           "MAX TICK", "JITTER P99"],
          ([n.name, n.pid, n.language, _rate(n), n.order, n.ticks, n.overruns, n.misses, n.errors,
            fmt_duration(n.mean_tick_s) if n.ticks else "-", fmt_duration(n.max_tick_s) if n.ticks else "-",
            fmt_duration(n.jitter_p99_s) if n.ticks else "-"]
           for n in infos),
          numeric={1, 3, 4, 5, 6, 7, 8, 9, 10, 11})
    return 0


def info(args: argparse.Namespace) -> int:
    found = _lookup.find_nodes(args.name)
    if args.json:
        print_json({"namespace": horus.namespace(), "nodes": [n.as_dict() for n in found]})
        return 0
    now = time.time_ns()
    for i, n in enumerate(found):
        if i:
            console().print()
        kv_table([
            ("node", n.name),
            ("pid", n.pid),
            ("language", n.language),
            ("rate", _rate(n)),
            ("order", n.order),
            ("subscribes", ", ".join(n.subs) or "-"),
            ("publishes", ", ".join(n.pubs) or "-"),
            ("ticks", n.ticks),
            ("overruns", n.overruns),
            ("errors", n.errors),
            ("mean tick", fmt_duration(n.mean_tick_s) if n.ticks else "-"),
            ("max tick", fmt_duration(n.max_tick_s) if n.ticks else "-"),
            ("p99 tick", fmt_duration(n.p99_tick_s) if n.ticks else "-"),
            ("start jitter", (f"p50 {fmt_duration(n.jitter_p50_s)}, p99 {fmt_duration(n.jitter_p99_s)}, "
                              f"max {fmt_duration(n.jitter_max_s)}") if n.ticks else "-"),
            ("budget", fmt_duration(n.budget_s) if n.budget_s else "-"),
            ("deadline", fmt_duration(n.deadline_s) if n.deadline_s else "-"),
            ("misses", f"{n.misses} (on_miss {n.on_miss})"),
            ("budget overruns", n.budget_overruns),
            ("safe mode", f"{'on' if n.in_safe_mode else 'off'} ({n.safe_mode_entries} entries)"),
            ("failure policy", f"{n.failure_policy} ({n.restarts} restarts, {n.skipped} slots skipped)"),
            ("watchdog", (f"{fmt_duration(n.watchdog_s)} ({n.watchdog_expired} expired)") if n.watchdog_s else "-"),
            ("thread", ("own" + (f", SCHED_FIFO {n.priority}" if n.priority else "")
                        + (f", CPU {n.core}" if n.core is not None else "")) if n.own_thread else "the run's"),
            ("last tick", fmt_age(n.last_tick_ns, now)),
            ("running for", fmt_duration(max(0, now - n.started_ns) / 1e9) if n.started_ns else "-"),
        ])
    return 0
