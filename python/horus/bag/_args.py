"""Checks of the arguments record(), Recorder, play() and read() share (topic lists, the stop
event, the progress callback), each a TypeError naming the argument and the value given, raised
before any file is opened."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["check_progress", "check_stop", "topic_list"]


def topic_list(topics: Any) -> list[str] | None:
    """`topics` as a list of str without repeats (None stays None)."""
    if topics is None:
        return None
    if isinstance(topics, (str, bytes)):
        raise TypeError(f"topics must be a list of topic names; got the string {topics!r} (write [{topics!r}])")
    if not isinstance(topics, Iterable):
        raise TypeError(f"topics must be a list of topic names; got {topics!r}")
    names = list(topics)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"topics must be a list of topic names (str); got {bad[0]!r} in {topics!r}")
    return list(dict.fromkeys(names))


def check_stop(stop: Any) -> None:
    """stop: None or a threading.Event (anything with is_set() and wait(timeout))."""
    if stop is None:
        return
    if not (callable(getattr(stop, "is_set", None)) and callable(getattr(stop, "wait", None))):
        raise TypeError(f"stop must be a threading.Event (or None); got {stop!r}")


def check_progress(progress: Any, what: str) -> Callable[[Any], None] | None:
    """progress: None or a callable taking the stats (`what`: their class name)."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable taking {what} (or None); got {progress!r}")
    return progress
