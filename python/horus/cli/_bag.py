"""`horus record`, `horus play`, `horus bag info`: thin wiring to horus.bag (MCAP recordings).

The work is horus.bag's (record, play, info, BagError); this module turns the arguments
into its keyword arguments, shows a status line on a terminal while it runs, stops it
cleanly on Ctrl-C (the recording is finished, not cut off), and prints the statistics it
returns: tables, or one JSON document (their as_dict()) with --json. A BagError is an
error (exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

from horus.cli import _lookup
from horus.cli._output import CliError, console, fmt_bytes, fmt_duration, kv_table, print_json, table, warn
from horus.cli._progress import as_dict, live_status, stdout_is_terminal, stop_on_signals

__all__ = ["info", "play", "record"]


def _api(fn: str) -> Any:
    try:
        from horus import bag
    except ImportError as e:
        raise CliError(f"recordings need horus.bag, which cannot be imported here ({e})") from None
    if not callable(getattr(bag, fn, None)):
        raise CliError(f"this horus has no horus.bag.{fn}() (recordings are not available in this build)")
    return bag


@contextlib.contextmanager
def _bag_errors(bag: Any) -> Iterator[None]:
    bag_error = getattr(bag, "BagError", None)
    errors = (bag_error,) if isinstance(bag_error, type) else ()
    try:
        yield
    except errors as e:  # type: ignore[misc]
        raise CliError(str(e)) from None


def _size(n: Any) -> str:
    return f"{n:,} B ({fmt_bytes(n)})" if isinstance(n, int) and n >= 1024 else f"{n} B"


def _seconds(s: Any) -> str:
    return "-" if s is None else fmt_duration(float(s))


def _time(ns: Any) -> str:
    if not ns:
        return "-"
    return datetime.datetime.fromtimestamp(ns / 1e9).astimezone().isoformat(timespec="milliseconds")


def _show_record(d: dict[str, Any]) -> None:
    kv_table([("file", d.get("path", "-")), ("compression", d.get("compression") or "none"),
              ("elapsed", _seconds(d.get("elapsed_s"))), ("messages", d.get("messages")),
              ("bytes", _size(d.get("bytes", 0))), ("drops", d.get("drops")), ("errors", d.get("errors"))],
             title="recorded")
    topics = d.get("topics") or {}
    if topics:
        console().print()
        table(["TOPIC", "TYPE", "MESSAGES", "BYTES", "DROPS", "ERRORS", "LAST ERROR"],
              ([name, t.get("type") or "-", t.get("messages"), t.get("bytes"), t.get("drops"), t.get("errors"),
                t.get("last_error") or ""] for name, t in topics.items()), numeric={2, 3, 4, 5})


def _show_play(d: dict[str, Any]) -> None:
    kv_table([("file", d.get("path", "-")), ("recording lasts", _seconds(d.get("duration_s"))),
              ("reached", _seconds(d.get("position_s"))), ("elapsed", _seconds(d.get("elapsed_s"))),
              ("messages", d.get("messages")), ("bytes", _size(d.get("bytes", 0))), ("loops", d.get("loops"))],
             title="played")
    topics = d.get("topics") or {}
    if topics:
        console().print()
        table(["TOPIC", "MESSAGES"], sorted(topics.items()), numeric={1})
    skipped = d.get("skipped") or {}
    if skipped:
        console().print()
        table(["SKIPPED TOPIC", "WHY"], sorted(skipped.items()))


def _drops(text: str) -> str:
    """The horus.recording "drops" value for people: the messages the recorder lost in all, then
    per topic ("4 (camera=3, lidar=1)"); "0" for the "" of a recording that lost none. Text that
    is not "topic=count,..." is shown as it is."""
    if not text:
        return "0"
    per = [part.rpartition("=") for part in text.split(",")]
    if not all(name and sep and count.isascii() and count.isdigit() for name, sep, count in per):
        return text
    return f"{sum(int(n) for _, _, n in per):,} ({', '.join(f'{name}={int(n):,}' for name, _, n in per)})"


def _show_info(d: dict[str, Any]) -> None:
    recording = d.get("recording") or {}
    kv_table([("file", d.get("path", "-")), ("size", _size(d.get("size_bytes", 0))), ("messages", d.get("messages")),
              ("start", _time(d.get("start_ns"))), ("end", _time(d.get("end_ns"))),
              ("duration", _seconds(d.get("duration_s"))), ("compression", d.get("compression") or "none"),
              ("chunks", d.get("chunks")), ("written by", d.get("library") or "-")]
             + [(f"recording {k}", _drops(v) if k == "drops" else (v or "-"))
                for k, v in sorted(recording.items())])
    topics = d.get("topics") or []
    console().print()
    if topics:
        table(["TOPIC", "TYPE", "SCHEMA", "ENCODING", "MESSAGES"],
              ([t.get("name"), t.get("horus_type") or "-", t.get("schema_name") or "-", t.get("message_encoding"),
                t.get("messages")] for t in topics), numeric={4})
    else:
        console().print("no topics", markup=False)


def record(args: argparse.Namespace) -> int:
    if not args.topics and not args.all_topics:
        raise CliError("horus record: name the topics to record, or pass --all", code=2)
    if args.topics and args.all_topics:
        raise CliError("horus record: name topics or pass --all, not both", code=2)
    bag = _api("record")
    for w in _lookup.missing_topics(args.topics):
        warn(w)
    if not args.json:
        what = "every topic" if args.all_topics else ", ".join(args.topics)
        until = f"for {args.duration:g} s" if args.duration else "until Ctrl-C"
        console().print(f"recording {what} to {args.output} {until}", markup=False)
    with stop_on_signals() as stop, _bag_errors(bag):
        with live_status("recording", stdout_is_terminal() and not args.json) as progress:
            stats = bag.record(args.output, args.topics or None, all_topics=args.all_topics,
                               duration=args.duration, compression=args.compression, stop=stop, progress=progress)
    d = as_dict(stats)
    print_json(d) if args.json else _show_record(d)
    return 0


def play(args: argparse.Namespace) -> int:
    bag = _api("play")
    if not args.json:
        console().print(f"playing {args.path} at {args.rate:g}x{' in a loop' if args.loop else ''}", markup=False)
    with stop_on_signals() as stop, _bag_errors(bag):
        with live_status("playing", stdout_is_terminal() and not args.json) as progress:
            stats = bag.play(args.path, rate=args.rate, loop=args.loop, topics=args.topics, start=args.start,
                             stop=stop, progress=progress)
    d = as_dict(stats)
    print_json(d) if args.json else _show_play(d)
    return 0


def info(args: argparse.Namespace) -> int:
    bag = _api("info")
    with _bag_errors(bag):
        d = as_dict(bag.info(args.path))
    print_json(d) if args.json else _show_info(d)
    return 0
