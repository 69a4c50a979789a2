"""Output of the horus command: rich tables for people, JSON for programs, errors on stderr.

Human output goes through rich (aligned tables, a progress line on a terminal). JSON is
written straight to stdout, never through rich (which would wrap and colour it): one
document per command (`print_json`), or one object per line for streaming commands
(`json_line`, flushed at once so a pipe sees each report when it happens). Values that JSON
cannot hold (NaN, infinities, NumPy scalars, tuples, bytes) are converted by `jsonable`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "CliError",
    "console",
    "error",
    "fmt_age",
    "fmt_bytes",
    "fmt_duration",
    "jsonable",
    "json_line",
    "kv_table",
    "print_json",
    "table",
    "warn",
]

#: Width of the console when stdout is not a terminal: wide enough that no table wraps.
_PIPE_WIDTH = 10_000


class CliError(Exception):
    """An expected failure (bad input, unknown name): one line on stderr and exit status `code`,
    never a traceback. code 2 is a usage error, like argparse's."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def console(stderr: bool = False) -> Console:
    """A rich console on the current sys.stdout (or stderr). On a terminal it has the terminal's
    width and colours; in a pipe or a file it is plain text and wide enough never to wrap."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Console(file=stream, width=None if tty else _PIPE_WIDTH, highlight=False, soft_wrap=not tty,
                   emoji=False)


def error(message: str) -> None:
    """`horus: error: <message>` on stderr (red on a terminal)."""
    console(stderr=True).print(Text(f"horus: error: {message}", style="red"))


def warn(message: str) -> None:
    """`horus: warning: <message>` on stderr (yellow on a terminal)."""
    console(stderr=True).print(Text(f"horus: warning: {message}", style="yellow"))


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Iterable[int] = (),
          title: str | None = None) -> None:
    """An aligned table: a header of `columns`, one line per row, no borders. Columns whose
    index is in `numeric` are right-aligned. Cells are printed as text (no rich markup)."""
    right = set(numeric)
    t = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0),
              title=title, title_justify="left", title_style="bold")
    for i, c in enumerate(columns):
        t.add_column(c, justify="right" if i in right else "left", no_wrap=True)
    for row in rows:
        t.add_row(*(Text(_cell(v)) for v in row))
    _emit(t)


def kv_table(items: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    """A two-column table of `key  value` lines (the keys left-aligned)."""
    t = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0), title=title,
              title_justify="left", title_style="bold")
    t.add_column(style="bold", no_wrap=True)
    t.add_column(no_wrap=True)
    for k, v in items:
        t.add_row(Text(k), Text(_cell(v)))
    _emit(t)


def _emit(renderable: Any) -> None:
    """Prints a rich renderable; in a pipe or a file without the spaces that pad the last column."""
    c = console()
    if c.is_terminal:
        c.print(renderable)
        return
    with c.capture() as captured:
        c.print(renderable)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def jsonable(v: Any) -> Any:
    """`v` as a value json.dumps can write as standard JSON: NumPy scalars and arrays become Python
    values and lists, tuples lists, non-finite floats the strings "NaN", "Infinity", "-Infinity",
    bytes {"bytes": n, "hex": the first 64 in hex}, dict keys strings."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, np.generic):
        return jsonable(v.item())
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        return {"bytes": len(b), "hex": b[:64].hex()}
    return str(v)


def print_json(doc: Any) -> None:
    """One JSON document (indented) on stdout."""
    sys.stdout.write(json.dumps(jsonable(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def json_line(obj: Any) -> None:
    """One JSON object on a line of its own, flushed (streaming commands)."""
    sys.stdout.write(json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def fmt_bytes(n: float) -> str:
    """1023 B, 1.5 KiB, 12.0 MiB (binary units)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # unreachable


def fmt_duration(seconds: float) -> str:
    """A short duration: 850 ns, 12.3 us, 4.56 ms, 1.20 s, 3 min 5 s."""
    s = abs(seconds)
    if s < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if s < 1:
        return f"{seconds * 1e3:.2f} ms"
    if s < 120:
        return f"{seconds:.2f} s"
    if s < 7200:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds / 3600:.1f} h"


def fmt_age(ns: int, now_ns: int) -> str:
    """How long ago a CLOCK_REALTIME time in ns was ("never" for 0)."""
    if not ns:
        return "never"
    return f"{fmt_duration(max(0, now_ns - ns) / 1e9)} ago"
