"""Progress of long-running commands (record, play): a live status line on a terminal, nothing
otherwise, and SIGINT/SIGTERM turned into a stop request.

The horus.bag functions call `progress(stats)` with their running statistics; `status_text`
reads the usual fields from whatever stats object they pass (elapsed time, messages, bytes,
drops) so the line does not depend on one class's exact attribute names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from rich.live import Live
from rich.text import Text

from horus.cli._output import console, fmt_bytes

__all__ = ["as_dict", "live_status", "status_text", "stdout_is_terminal", "stop_on_signals"]

_ELAPSED = ("elapsed_s", "elapsed", "duration_s", "seconds")
_MESSAGES = ("messages", "message_count", "messages_written", "messages_played", "count")
_BYTES = ("bytes", "bytes_written", "bytes_read", "size_bytes", "file_bytes")
_DROPS = ("dropped", "drops", "lost")


def as_dict(stats: Any) -> dict[str, Any]:
    """A stats object as a dict: its as_dict(), a dataclass's fields, a dict, or its attributes."""
    if stats is None:
        return {}
    if hasattr(stats, "as_dict"):
        return dict(stats.as_dict())
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    if isinstance(stats, dict):
        return dict(stats)
    return {k: v for k, v in vars(stats).items() if not k.startswith("_")}


def _pick(d: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if n in d and d[n] is not None:
            return d[n]
    return None


def status_text(verb: str, stats: Any) -> str:
    """`recording  12.3 s  1,204 messages  5.6 MiB  0 dropped` from a stats object."""
    d = as_dict(stats)
    parts = [verb]
    elapsed = _pick(d, _ELAPSED)
    if elapsed is not None:
        parts.append(f"{float(elapsed):.1f} s")
    messages = _pick(d, _MESSAGES)
    if messages is not None:
        parts.append(f"{int(messages):,} messages")
    size = _pick(d, _BYTES)
    if size is not None:
        parts.append(fmt_bytes(int(size)))
    drops = _pick(d, _DROPS)
    if drops is not None:
        parts.append(f"{int(drops):,} dropped")
    return "  ".join(parts)


@contextlib.contextmanager
def live_status(verb: str, enabled: bool) -> Iterator[Callable[[Any], None]]:
    """A progress callback: on a terminal (enabled) it redraws one status line, a few times a
    second at most; otherwise it does nothing."""
    if not enabled:
        yield lambda stats: None
        return
    with Live(Text(verb), console=console(), refresh_per_second=4, transient=False) as live:
        yield lambda stats: live.update(Text(status_text(verb, stats)))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An Event set by SIGINT (Ctrl-C) or SIGTERM while the block runs (main thread only), so a
    recording is closed properly instead of being cut off by KeyboardInterrupt."""
    stop = threading.Event()
    restore: list[tuple[signal.Signals, Any]] = []
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            restore.append((sig, signal.signal(sig, on_signal)))
    try:
        yield stop
    finally:
        for sig, previous in restore:
            signal.signal(sig, previous)


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
