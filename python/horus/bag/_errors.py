"""BagError: what horus.bag raises for a file it cannot read or write (missing, truncated,
corrupt, not MCAP, unwritable), with the path and what is wrong in its text."""

from __future__ import annotations

import os

import horus

__all__ = ["BagError", "describe"]


class BagError(horus.HorusError):
    """A recording that cannot be read or written: the message names the file and the problem."""


def describe(e: BaseException) -> str:
    """A one-line account of an exception raised by the mcap, zstandard or lz4 packages."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e).strip() or "no details"
    name = type(e).__name__
    return text if name in ("McapError", "BagError") else f"{text} ({name})"


def display(path: str | os.PathLike[str]) -> str:
    return os.fspath(path)
