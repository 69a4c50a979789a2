"""The horus command line: every command, its arguments, and the handler that runs it.

Every command takes --json and --namespace NS, before or after the command's name
(`horus --json topic list` = `horus topic list --json`). Argument errors are usage errors:
argparse prints the usage and the process exits with status 2. Topic and namespace names are
checked while parsing too, but a bad one is an error (CliError: one line, exit status 1), the
same as a name horus itself refuses.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from horus._discovery import valid_topic_name
from horus.cli._output import CliError

__all__ = ["build_parser", "STREAMING"]

DESCRIPTION = """\
horus: inspect a running horus system and its shared memory.

  horus topic list | info NAME | echo NAME | hz NAME | bw NAME | pub NAME TYPE JSON
  horus node list | info NAME
  horus log [--node N] [--level L]  follow the nodes' log lines (the topic horus.log)
  horus pool                      pool statistics of the namespace (also: horus stats)
  horus list                      every horus namespace in /dev/shm, its size and live processes
  horus clean [NS ...]            remove namespaces no live process uses
  horus record -o run.mcap TOPIC ... | --all      record topics into an MCAP file
  horus play run.mcap             publish a recording again
  horus bag info run.mcap         what a recording holds
  horus view [TOPIC ...]          live view in Foxglove (WebSocket)
  horus bridge --pub T --sub T    carry topics to and from other hosts over Zenoh

Every command takes --json (machine-readable output) and --namespace NS (default: the
HORUS_NAMESPACE environment variable, else u<uid>). Exit status: 0 ok, 1 error, 2 usage.
"""

#: Commands that run until stopped: Ctrl-C ends them with exit status 0.
STREAMING = frozenset({"topic echo", "topic hz", "topic bw", "topic pub", "record", "play", "view", "bridge",
                       "log"})


#: The range of `topic pub --rate`: the rates a horus.Node accepts.
MIN_RATE_HZ, MAX_RATE_HZ = 1e-6, 1e6

#: The largest --window of `topic hz` / `topic bw`.
MAX_WINDOW = 1_000_000


def printable(text: str) -> str:
    """`text` itself, or for an argument that is not UTF-8 (argparse gets its bytes as surrogate
    escapes) those bytes written as \\xff: never a string stderr or horus's C++ cannot take."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")


def _topic_name(text: str) -> str:
    if not valid_topic_name(text):
        raise CliError(f"topic name '{printable(text)}' is invalid: use 1-100 characters from A-Z a-z 0-9 _ . -")
    return text


def _namespace(text: str) -> str:
    from horus import _core

    try:  # a name that is not UTF-8 is checked as printable() writes it: refused, with its bytes shown
        _core._validate_namespace(printable(text))
    except ValueError as e:
        raise CliError(str(e)) from None
    return text


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return v


def _non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= 1")
    return v


def _window(text: str) -> int:
    v = _positive_int(text)
    if v < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: a window needs at least 2 messages (one period)")
    if v > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"{text!r} is too big: a window holds 2 to {MAX_WINDOW:,} messages")
    return v


def _rate_hz(text: str) -> float:
    v = _positive_float(text)
    if not MIN_RATE_HZ <= v <= MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: a rate lies in [{MIN_RATE_HZ:g}, "
                                         f"{MAX_RATE_HZ:g}] Hz")
    return v


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return v


def _common(suppress: bool) -> argparse.ArgumentParser:
    """--json and --namespace; SUPPRESS defaults so that the top level's value is not overwritten
    by a subcommand's default."""
    p = argparse.ArgumentParser(add_help=False)
    default = argparse.SUPPRESS if suppress else None
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="machine-readable output: one JSON document (JSON lines for streaming commands)")
    p.add_argument("--namespace", metavar="NS", default=default, type=_namespace,
                   help="the horus namespace to look at (default: $HORUS_NAMESPACE, else u<uid>)")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command; each leaf sets `command` (e.g. "topic echo")."""
    from horus.cli import _bag, _bridge, _log, _node, _pool, _rates, _shm, _topic, _view

    common = _common(suppress=True)
    ap = argparse.ArgumentParser(prog="horus", description=DESCRIPTION, parents=[_common(suppress=False)],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="group", required=True, metavar="COMMAND")

    def leaf(parent: Any, name: str, command: str, handler: Any, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(command=command, handler=handler)
        return p

    # horus topic ...
    topic = sub.add_parser("topic", help="topics: list, info, echo, hz, bw, pub")
    tsub = topic.add_subparsers(dest="action", required=True, metavar="ACTION")
    leaf(tsub, "list", "topic list", _topic.list_topics, "every topic of the namespace")
    p = leaf(tsub, "info", "topic info", _topic.info, "one topic: type, capacity, publishers, subscribers")
    p.add_argument("name", metavar="NAME", type=_topic_name)
    p = leaf(tsub, "echo", "topic echo", _topic.echo, "print the messages of a topic as they arrive")
    p.add_argument("name", metavar="NAME", type=_topic_name)
    p.add_argument("-n", "--count", type=_positive_int, metavar="N", help="stop after N messages")
    p.add_argument("--once", action="store_true", help="print one message and stop (-n 1)")
    p.add_argument("--type", metavar="MODULE:CLASS", dest="type_spec",
                   help="import the message class of a typed topic (needed only for nested types of your own)")
    for name, command, fn, what in (("hz", "topic hz", _rates.hz, "the message rate of a topic"),
                                    ("bw", "topic bw", _rates.bw, "the bandwidth of a topic")):
        p = leaf(tsub, name, command, fn, what + " (a report every second)")
        p.add_argument("name", metavar="NAME", type=_topic_name)
        p.add_argument("--window", type=_window, default=10000, metavar="N",
                       help=f"statistics over the latest N messages (2 to {MAX_WINDOW:,}; default 10000)")
        p.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")
        p.add_argument("--type", metavar="MODULE:CLASS", dest="type_spec",
                       help="import the message class of a typed topic (needed only for nested types of your own)")
    p = leaf(tsub, "pub", "topic pub", _topic.pub, "publish typed messages given as JSON")
    p.add_argument("name", metavar="NAME", type=_topic_name)
    p.add_argument("type_spec", metavar="TYPE",
                   help="CmdVel / horus.msg.CmdVel (standard), module:Class (yours), or data (schemaless)")
    p.add_argument("values", metavar="JSON", help='the message\'s fields, e.g. \'{"linear": 0.5, "angular": 0.1}\'')
    p.add_argument("--rate", type=_rate_hz, metavar="R",
                   help=f"messages per second, {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} (default: one message; "
                        "with --count, 1 Hz)")
    p.add_argument("--count", type=_positive_int, metavar="N",
                   help="stop after N messages (default: 1 without --rate, unlimited with it)")

    # horus node ...
    node = sub.add_parser("node", help="nodes: list, info")
    nsub = node.add_subparsers(dest="action", required=True, metavar="ACTION")
    leaf(nsub, "list", "node list", _node.list_nodes, "every running node of the namespace")
    p = leaf(nsub, "info", "node info", _node.info, "one node: rate, topics, tick statistics")
    p.add_argument("name", metavar="NAME")

    # horus log
    p = leaf(sub, "log", "log", _log.follow, "follow the nodes' log lines (node.log_info & co., the topic horus.log)")
    p.add_argument("--node", action="append", metavar="NAME", help="only this node's lines (repeatable)")
    p.add_argument("--level", choices=list(_log.LEVELS), default="debug",
                   help="only lines at this level or above (default: debug, every line)")
    p.add_argument("-n", "--count", type=_positive_int, metavar="N", help="stop after N lines")

    # pool statistics, shared memory
    leaf(sub, "pool", "pool", _pool.pool, "pool statistics of the namespace")
    leaf(sub, "stats", "pool", _pool.pool, "the same as `horus pool`")
    leaf(sub, "list", "list", _shm.list_namespaces, "every horus namespace in /dev/shm, its size and live processes")
    p = leaf(sub, "clean", "clean", _shm.clean, "remove shared memory of namespaces no live process uses")
    p.add_argument("namespaces", nargs="*", metavar="NS", type=_namespace,
                   help="namespaces to clean (default: every one not in use)")
    p.add_argument("--force", action="store_true", help="also remove namespaces with live processes (they will fail)")
    p.add_argument("--dry-run", action="store_true", help="only show what would be removed")

    # recordings
    p = leaf(sub, "record", "record", _bag.record, "record topics into an MCAP file")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the MCAP file to write")
    p.add_argument("topics", nargs="*", metavar="TOPIC", type=_topic_name, help="topics to record")
    p.add_argument("--all", action="store_true", dest="all_topics",
                   help="record every topic (also those that appear later)")
    p.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds (default: Ctrl-C)")
    p.add_argument("--compression", choices=("zstd", "lz4", "none"), default="zstd",
                   help="chunk compression (default zstd)")
    p = leaf(sub, "play", "play", _bag.play, "publish the messages of an MCAP file again")
    p.add_argument("path", metavar="FILE")
    p.add_argument("--rate", type=_positive_float, default=1.0, metavar="R", help="speed factor (default 1.0)")
    p.add_argument("--loop", action="store_true", help="start again at the end (until Ctrl-C)")
    p.add_argument("--topics", nargs="+", metavar="T", help="play only these topics")
    p.add_argument("--start", type=_non_negative_float, default=0.0, metavar="S",
                   help="skip the first S seconds of the recording")
    bag = sub.add_parser("bag", help="recordings: info")
    bsub = bag.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(bsub, "info", "bag info", _bag.info, "what an MCAP recording holds")
    p.add_argument("path", metavar="FILE")

    # live view
    p = leaf(sub, "view", "view", _view.view, "serve topics to Foxglove over a WebSocket")
    p.add_argument("topics", nargs="*", metavar="TOPIC", type=_topic_name,
                   help="topics to serve (default: every topic)")
    p.add_argument("--port", type=_port, default=8765, help="WebSocket port (default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")

    # the bridge between hosts
    p = leaf(sub, "bridge", "bridge", _bridge.bridge,
             "carry topics to and from other hosts over Zenoh (see docs/bridge.md)")
    p.add_argument("--pub", nargs="+", action="extend", default=[], metavar="TOPIC", type=_topic_name,
                   help="local topics to send to the other hosts")
    p.add_argument("--sub", nargs="+", action="extend", default=[], metavar="TOPIC", type=_topic_name,
                   help="remote topics to publish here")
    p.add_argument("--connect", nargs="+", action="extend", default=[], metavar="ENDPOINT",
                   help="Zenoh endpoints to dial, e.g. tcp/10.0.0.2:7447 (retried until they answer)")
    p.add_argument("--listen", nargs="+", action="extend", default=[], metavar="ENDPOINT",
                   help="Zenoh endpoints to accept on, e.g. tcp/0.0.0.0:7447")
    p.add_argument("--config", metavar="FILE", help="a YAML or JSON5 bridge config (topics, renames, rates)")
    p.add_argument("--mode", choices=("peer", "client", "router"), default=None,
                   help="Zenoh mode (default peer; client goes through a router; router is one)")
    p.add_argument("--prefix", metavar="P", help="key prefix of the topics sent: horus/P/TOPIC (default: the namespace)")
    p.add_argument("--no-scouting", action="store_true",
                   help="do not look for peers by multicast; connect only to --connect endpoints")
    p.add_argument("--interval", type=_positive_float, default=2.0, metavar="S",
                   help="seconds between statistics reports (default 2)")
    return ap
