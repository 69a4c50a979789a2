"""Observing a topic the way `topic echo`, `hz` and `bw` do: as one more ordinary subscriber.

The topic must exist already (looked up in horus.topics(); a typo is an error with close
matches, never a new empty topic). It is opened untyped, Topic(None, name), so it takes
whatever the topic carries. A subscriber never slows a publisher: one that falls more than
the topic's capacity behind loses the oldest messages, counted in `dropped`.

A typed topic whose class is not declared in this process is made receivable by declaring
the class from its layout text (horus.cli._types.declare_seen), or from --type module:Class.
"""

from __future__ import annotations

from typing import Any

import horus

from horus.cli import _lookup, _types
from horus.cli._output import CliError

__all__ = ["Observer"]


class Observer:
    """A subscriber of an existing topic that can receive every kind of message on it."""

    def __init__(self, name: str, type_spec: str | None = None) -> None:
        self.info = _lookup.find_topic(name)
        if type_spec:
            _types.import_type(type_spec)
        self.name = name
        self.topic: Any = horus.Topic(None, name)
        self._hash_seen = -1

    def _prepare(self) -> None:
        h = self.topic.layout_hash
        if h != self._hash_seen:
            _types.declare_seen(h, self.topic.type_description)
            self._hash_seen = h

    def recv(self, timeout: float) -> Any:
        """The next message, or None after `timeout` seconds without one."""
        self._prepare()
        try:
            return self.topic.recv(timeout=timeout)
        except TypeError as e:
            # A topic nothing had typed when it was opened may be typed since: learn its type
            # from discovery, then read again.
            info = horus.topic_info(self.name)
            if info is None or not info.layout_hash or info.layout_hash == self._hash_seen:
                raise CliError(str(e)) from None
            _types.declare_seen(info.layout_hash, info.type_description)
            self._hash_seen = info.layout_hash
            try:
                return self.topic.recv(timeout=timeout)
            except TypeError as again:
                raise CliError(str(again)) from None

    @property
    def dropped(self) -> int:
        """Messages this observer lost because it fell more than the capacity behind."""
        return int(self.topic.dropped)
