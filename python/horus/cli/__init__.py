"""The `horus` command (console script `horus`, or `python -m horus`): see `horus --help`.

main(argv) parses the arguments, sets the namespace (--namespace, before anything opens
shared memory), runs the command's handler and turns expected failures into one line on
stderr and an exit status: 0 ok, 1 error, 2 usage. Expected failures are CliError (the
handlers turn a TypeError from what the user typed, such as a wrong field, into one),
horus.HorusError, OSError and ValueError; anything else is a bug and keeps its traceback.
Ctrl-C ends a streaming command (echo, hz, bw, pub, record, play, view) with status 0, any
other with 130; SIGTERM (kill, systemd, docker stop) stops a streaming command the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["main"]


def _use_namespace(ns: str) -> None:
    """Makes `ns` this process's namespace, or a CliError if the process already uses another
    (the namespace is fixed the first time horus touches shared memory)."""
    from horus import _core
    from horus.cli._output import CliError

    _core._validate_namespace(ns)
    previous = os.environ.get("HORUS_NAMESPACE")
    os.environ["HORUS_NAMESPACE"] = ns
    current = _core.namespace()
    if current != ns:
        if previous is None:
            del os.environ["HORUS_NAMESPACE"]
        else:
            os.environ["HORUS_NAMESPACE"] = previous
        raise CliError(f"--namespace {ns}: this process already uses the namespace {current!r}, and a process "
                       "cannot change it; run the command in a new process")


def _quiet_broken_pipe() -> None:
    """stdout's reader went away (`horus topic echo x | head`): stop writing, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@contextlib.contextmanager
def _sigterm_as_ctrl_c(enabled: bool) -> Iterator[None]:
    """While the block runs, SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does:
    a streaming command stops cleanly (its summary printed, its shared memory released).
    record, play and view put their own stop handler over it while they run (_progress)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Runs the horus command with `argv` (default sys.argv[1:]); returns the exit status."""
    from horus.cli._args import STREAMING, build_parser
    from horus.cli._output import CliError, error

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: usage error (2) or --help (0)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except CliError as e:  # a topic or namespace name horus refuses (_args): an error, not a usage error
        error(str(e))
        return e.code
    command: str = args.command
    args.json = bool(getattr(args, "json", False))
    args.namespace = getattr(args, "namespace", None)
    handler: Any = args.handler
    try:
        if args.namespace is not None and command not in ("list", "clean"):
            _use_namespace(args.namespace)
        with _sigterm_as_ctrl_c(command in STREAMING):
            result = handler(args)
        sys.stdout.flush()
        return int(result or 0)
    except KeyboardInterrupt:
        try:
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            _quiet_broken_pipe()
        return 0 if command in STREAMING else 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except CliError as e:
        error(str(e))
        return e.code
    except (OSError, ValueError) as e:  # ShmError is an OSError, ReadOnlyError a ValueError
        error(str(e) or type(e).__name__)
        return 1
    except Exception as e:
        import horus

        if isinstance(e, horus.HorusError):
            error(str(e) or type(e).__name__)
            return 1
        raise
