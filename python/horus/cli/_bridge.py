"""`horus bridge`: runs a horus.Bridge until Ctrl-C or SIGTERM, reporting its statistics.

On a terminal it redraws a table of the forwarded topics every --interval seconds (messages,
lost, type errors, latency); with --json it prints one JSON line per report: {"event":
"started"}, {"event": "stats", ...} and, when it stops, {"event": "stopped", ...}. Errors
of single samples are logged to stderr (logger horus.bridge) and counted, never fatal.
"""

from __future__ import annotations

import argparse
import logging
import math
from typing import Any

from horus.cli._output import CliError, console, json_line, table
from horus.cli._progress import stdout_is_terminal, stop_on_signals

__all__ = ["bridge"]


def _ms(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def _rows(stats: Any) -> list[list[Any]]:
    return [[t.direction, t.topic, t.key, t.type or "-", t.messages, t.lost, t.type_errors, t.errors,
             _ms(t.latency_ms_p50), _ms(t.latency_ms_p99),
             "waiting for the topic" if t.waiting else (t.last_error[:60] or "")] for t in stats.topics]


def _print(stats: Any, title: str) -> None:
    table(["DIR", "TOPIC", "KEY", "TYPE", "MESSAGES", "LOST", "TYPE ERR", "ERRORS", "P50 MS", "P99 MS", "NOTE"],
          _rows(stats), numeric={4, 5, 6, 7, 8, 9}, title=title)


def bridge(args: argparse.Namespace) -> int:
    from horus.bridge import Bridge, BridgeError

    logging.basicConfig(level=logging.WARNING, format="horus bridge: %(levelname)s: %(message)s")
    logging.getLogger("horus.bridge").setLevel(logging.INFO)
    title = lambda s: (f"bridge {s.id[:8]} ({s.mode}, prefix {s.prefix}): {s.peers} peers, {s.routers} routers, "  # noqa: E731
                       f"{s.elapsed_s:.0f} s")
    # The signal handlers go in first: a Ctrl-C or SIGTERM while Zenoh starts only asks for a
    # stop, which comes once start() returned (with the final statistics, as at any other time).
    with stop_on_signals() as stop:
        try:
            b = Bridge(pub=args.pub, sub=args.sub, connect=args.connect, listen=args.listen, mode=args.mode,
                       prefix=args.prefix, scouting=False if args.no_scouting else None, config=args.config)
            b.start()
        except BridgeError as e:
            raise CliError(str(e)) from None
        try:
            s = b.stats
            if args.json:
                json_line({"event": "started", "id": s.id, "mode": s.mode, "prefix": s.prefix,
                           "out": [t.key for t in s.topics if t.direction == "out"],
                           "in": [t.key for t in s.topics if t.direction == "in"]})
            else:
                console().print(f"bridge {s.id} running ({s.mode}, prefix {s.prefix}); Ctrl-C to stop", markup=False)
            while not stop.wait(args.interval):
                s = b.stats
                if args.json:
                    json_line({"event": "stats", **s.as_dict()})
                elif stdout_is_terminal():
                    _print(s, title(s))
        finally:
            final = b.stop()
    if args.json:
        json_line({"event": "stopped", **final.as_dict()})
    else:
        _print(final, "stopped: " + title(final))
    return 0
