"""`horus log`: follow the node log lines of the namespace (the topic "horus.log").

Nodes' log_debug/info/warning/error (Python and C++) publish horus.msg.Log messages on
"horus.log"; this is one more subscriber of that topic, so it shows the lines logged
after it starts (a subscriber never slows a node; one that falls behind by more than the
topic's capacity loses the oldest lines, and says so on stderr).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

import horus
from horus._node import LOG_TOPIC

from horus.cli._output import CliError, console, json_line

__all__ = ["follow", "LEVELS"]

#: Level names and their numbers (Python's logging numbers, the Log message's `level`).
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_STYLE = {10: "dim", 20: "", 30: "yellow", 40: "bold red"}


def level_name(level: int) -> str:
    return logging.getLevelName(level)  # "WARNING"; "Level 35" for a number logging does not name


def _open() -> Any:
    try:
        return horus.Topic(horus.msg.Log, LOG_TOPIC)
    except TypeError as e:  # a "horus.log" of another type
        raise CliError(f"the topic {LOG_TOPIC!r} does not carry horus.msg.Log messages: {e}") from None


def _stamp(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs)) + f".{frac // 1_000_000:03d}"


def follow(args: argparse.Namespace) -> int:
    topic = _open()
    least = LEVELS[args.level]
    nodes = set(args.node or ())
    shown = 0
    dropped = topic.dropped
    out = console()
    while args.count is None or shown < args.count:
        line = topic.recv(timeout=0.25)
        if line is None:
            if topic.dropped != dropped:
                sys.stderr.write(f"# {topic.dropped - dropped} log lines dropped (this terminal is slower than "
                                 "the nodes; the nodes are not slowed)\n")
                dropped = topic.dropped
            continue
        if line.level < least or (nodes and line.name not in nodes):
            continue
        shown += 1
        if args.json:
            json_line({"time_ns": line.timestamp_ns, "level": level_name(line.level).lower(), "node": line.name,
                       "pid": line.pid, "message": line.message})
            continue
        text = f"{_stamp(line.timestamp_ns)} {level_name(line.level):<7} {line.name}[{line.pid}]: {line.message}"
        if out.is_terminal:
            out.print(text, style=_STYLE.get(line.level, ""), markup=False, highlight=False)
        else:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    return 0
