"""`horus view [TOPIC ...]`: thin wiring to horus.view.serve, the live Foxglove WebSocket view.

It prints where to connect (ws://host:port) once the server listens, serves until Ctrl-C
(exit status 0), then prints what each topic received, sent and dropped. With --json these
are two JSON lines: {"event": "listening", ...} and {"event": "stopped", ...}.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from horus.cli import _lookup
from horus.cli._output import CliError, console, json_line, table, warn
from horus.cli._progress import as_dict, stop_on_signals

__all__ = ["view"]


def _url(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host
    return f"ws://{shown}:{port}"


def view(args: argparse.Namespace) -> int:
    try:
        from horus import view as live
    except ImportError as e:
        raise CliError(f"the live view needs horus.view, which cannot be imported here ({e})") from None
    serve: Any = getattr(live, "serve", None)
    if not callable(serve):
        raise CliError("this horus has no horus.view.serve() (the live view is not available in this build)")
    if not args.host:
        raise CliError("--host '' is empty: give the address to listen on, e.g. 127.0.0.1 (this machine) or "
                       "0.0.0.0 (every interface)")
    for w in _lookup.missing_topics(args.topics):
        warn(w)

    def ready(port: int) -> None:
        url = _url(args.host, port)
        if args.json:
            json_line({"event": "listening", "url": url, "host": args.host, "port": port,
                       "topics": args.topics or None})
        else:
            what = ", ".join(args.topics) if args.topics else "every topic"
            console().print(f"serving {what} on {url}: in Foxglove, Open connection > Foxglove WebSocket > {url}"
                            " (Ctrl-C to stop)", markup=False)

    kwargs: dict[str, Any] = {"port": args.port, "host": args.host}
    takes = inspect.signature(serve).parameters
    with stop_on_signals() as stop:
        if "stop" in takes:
            kwargs["stop"] = stop
        if "ready" in takes:
            kwargs["ready"] = ready
        else:
            ready(args.port)
        stats = serve(args.topics or None, **kwargs)
    d = as_dict(stats)
    if args.json:
        json_line({"event": "stopped", **d})
        return 0
    topics = d.get("topics") or {}
    if isinstance(topics, dict) and topics:
        rows = [[name, t.get("schema_name") or "-", t.get("received", 0), t.get("sent", 0), t.get("bytes_sent", 0),
                 t.get("dropped", 0), t.get("error") or ""] for name, t in topics.items()]
        table(["TOPIC", "SCHEMA", "RECEIVED", "SENT", "BYTES SENT", "DROPPED", "ERROR"], rows, numeric={2, 3, 4, 5})
    else:
        console().print("stopped; no topic was served", markup=False)
    return 0
