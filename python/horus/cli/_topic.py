"""`horus topic list | info | echo | pub`: what topics exist, what one is, what it carries, and
publishing typed messages from the command line. (`topic hz` and `topic bw` are in _rates.)"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import horus

from horus.cli import _lookup, _render, _types
from horus.cli._observer import Observer
from horus.cli._output import CliError, console, fmt_age, json_line, kv_table, print_json, table

__all__ = ["echo", "info", "list_topics", "pub", "type_label"]


def type_label(info: Any) -> str:
    """What a topic carries, in a word: CmdVel, Tensor[Detection2D], Image, schemaless, or - (nothing yet)."""
    if info.kind == "Record":
        return info.type_name or "Record"
    if info.kind == "Tensor" and info.type_name:
        return f"Tensor[{info.type_name}]"
    if info.kind == "Data":
        return "schemaless"
    return info.kind or "-"


def list_topics(args: argparse.Namespace) -> int:
    infos = _lookup.topics()
    if args.json:
        print_json({"namespace": horus.namespace(), "topics": [t.as_dict() for t in infos]})
        return 0
    if not infos:
        console().print(f"no topics in namespace {horus.namespace()!r}", markup=False)
        return 0
    now = time.time_ns()
    table(["TOPIC", "TYPE", "PUBS", "SUBS", "MESSAGES", "CAPACITY", "LAST MESSAGE"],
          ([t.name, type_label(t), len(t.publishers), len(t.subscribers), t.messages, t.capacity,
            fmt_age(t.last_send_ns, now)] for t in infos),
          numeric={2, 3, 4, 5})
    return 0


def _endpoint_rows(endpoints: Any) -> list[list[Any]]:
    return [[e.pid, e.node or "-", e.topics] for e in endpoints]


def info(args: argparse.Namespace) -> int:
    t = _lookup.find_topic(args.name)
    if args.json:
        print_json({"namespace": horus.namespace(), **t.as_dict()})
        return 0
    now = time.time_ns()
    kv_table([
        ("topic", t.name),
        ("type", type_label(t)),
        ("kind", t.kind or "- (no typed message yet)"),
        ("layout hash", f"0x{t.layout_hash:016x}" if t.layout_hash else "-"),
        ("description", t.type_description or "-"),
        ("capacity", t.capacity),
        ("messages", t.messages),
        ("last message", fmt_age(t.last_send_ns, now)),
        ("processes", t.processes if t.complete else "? (the topic's lock is held: a process holding it is stopped?)"),
        ("bridged", _BRIDGED[t.bridged]),
    ])
    for title, endpoints in (("publishers", t.publishers), ("subscribers", t.subscribers)):
        console().print()
        if endpoints:
            table(["PID", "NODE", "TOPICS"], _endpoint_rows(endpoints), numeric={0, 2},
                  title=f"{title} ({len(endpoints)})")
        else:
            console().print(f"{title}: none", markup=False)
    return 0


_BRIDGED = {
    "": "no",
    "in": "in: a horus bridge publishes it from other hosts",
    "out": "out: a horus bridge sends it to other hosts",
    "in+out": "in+out: a horus bridge sends it to other hosts and publishes theirs here",
}


def echo(args: argparse.Namespace) -> int:
    count = 1 if args.once else args.count
    obs = Observer(args.name, args.type_spec)
    shown = 0
    dropped = obs.dropped
    while count is None or shown < count:
        msg = obs.recv(timeout=0.25)
        if msg is None:
            continue
        shown += 1
        if args.json:
            json_line(_render.record(args.name, msg))
        else:
            meta, data = _render.describe(msg)
            sys.stdout.write("\n".join(_render.lines(meta, data)) + "\n---\n")
            sys.stdout.flush()
            if obs.dropped != dropped:
                sys.stderr.write(f"# {obs.dropped - dropped} messages dropped (this terminal is slower than the "
                                 "publisher; the publisher is not slowed)\n")
                dropped = obs.dropped
        del msg
    return 0


def _json_float(text: str) -> float:
    """json.loads' parse_float: a number too big for a float64 (1e999) is refused, not turned
    into an infinity (the spelled-out Infinity and NaN stay allowed)."""
    v = float(text)
    if math.isinf(v):
        raise CliError(f"the JSON number {text} is out of range: a float (float64, the widest float field) holds "
                       f"at most {sys.float_info.max:.17g} in magnitude; write Infinity or -Infinity for an infinity")
    return v


def _message(cls: Any, text: str) -> Any:
    name = "data" if cls is _types.DATA else cls.__name__
    try:
        values = json.loads(text, parse_float=_json_float)
    except json.JSONDecodeError as e:
        where = f"{e.msg} at line {e.lineno} column {e.colno}"
        raise CliError(f"the JSON for {name} is not valid ({where}): {text!r}") from None
    except RecursionError:
        raise CliError(f"the JSON for {name} is nested too deeply (Python's json reads about "
                       f"{sys.getrecursionlimit()} levels at most)") from None
    if cls is _types.DATA:
        return values
    try:
        return cls.from_dict(values)
    except (TypeError, ValueError, AttributeError) as e:
        raise CliError(f"{name} from {text!r}: {e}") from None


def pub(args: argparse.Namespace) -> int:
    cls = _types.resolve(args.type_spec)
    msg = _message(cls, args.values)
    try:
        topic = horus.Topic(args.name) if cls is _types.DATA else horus.Topic(cls, args.name)
    except TypeError as e:  # the topic carries another type
        raise CliError(str(e)) from None
    count = args.count if args.count is not None else (None if args.rate else 1)
    rate = args.rate if args.rate else (1.0 if count != 1 else None)
    type_text = "data" if cls is _types.DATA else cls.__name__
    shown = json.dumps(msg) if cls is _types.DATA else repr(msg)
    sent = 0
    period = 1.0 / rate if rate else 0.0
    try:  # from the first line on, Ctrl-C (or SIGTERM) ends with the summary
        if not args.json:
            how = f" at {rate:g} Hz" if rate and count != 1 else ""
            print(f"publishing {shown} on {args.name!r}{how}", flush=True)
        next_t = time.monotonic()
        while count is None or sent < count:
            try:
                topic.send(msg)
            except TypeError as e:  # schemaless: a value MessagePack cannot carry
                raise CliError(str(e)) from None
            sent += 1
            if count is not None and sent >= count:
                break
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:  # fell behind (a stall): carry on from now, no burst
                next_t = time.monotonic()
    except KeyboardInterrupt:
        pass
    if args.json:
        _, data = _render.describe(msg)
        print_json({"topic": args.name, "type": type_text, "published": sent, "message": data})
    else:
        print(f"published {sent} message{'s' if sent != 1 else ''}", flush=True)
    return 0
