"""Node: a named unit of robot software that ticks at a rate (see horus.run).

A node is a ``tick(node)`` callable plus scheduling facts (rate in Hz, order)
and the names of the topics it subscribes to and publishes on. Those topics are
opened when the node is created, so a subscriber receives everything sent after
that moment; ``node.send(name, msg)`` and ``node.recv(name)`` use them, and a
name that was not declared is opened on first use.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from horus import _schedule
from horus._core import Topic

TickFn = Callable[["Node"], Any]


def _check_callable(value: Any, what: str, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not callable(value):
        raise TypeError(f"{what} must be callable (a function taking the node){' or None' if allow_none else ''}; "
                        f"got {value!r}")


def _topic_names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{what} must be a topic name or an iterable of topic names; got {value!r}") from None
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"{what} must be topic names (str); got {n!r}")
    return names


class NodeStats:
    """Tick statistics of one node: counts and durations in seconds."""

    __slots__ = ("ticks", "overruns", "total_tick_s", "max_tick_s", "errors")

    def __init__(self) -> None:
        self.ticks = 0
        self.overruns = 0
        self.total_tick_s = 0.0
        self.max_tick_s = 0.0
        self.errors = 0

    @property
    def mean_tick_s(self) -> float:
        """Mean tick duration in seconds (0.0 before the first tick)."""
        return self.total_tick_s / self.ticks if self.ticks else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "ticks": self.ticks,
            "overruns": self.overruns,
            "mean_tick_s": self.mean_tick_s,
            "max_tick_s": self.max_tick_s,
            "errors": self.errors,
        }

    def __repr__(self) -> str:
        return (f"NodeStats(ticks={self.ticks}, overruns={self.overruns}, "
                f"mean_tick_ms={self.mean_tick_s * 1e3:.3f}, max_tick_ms={self.max_tick_s * 1e3:.3f})")


class Node:
    """A unit of work ticked by :func:`horus.run` at ``rate`` Hz, in ``order``.

    ``tick(node)``, ``init(node)`` and ``shutdown(node)`` receive the node.
    ``rate`` must lie in [1e-6, 1e6] Hz (the same range as the C++ horus::Node).
    A bad argument raises TypeError or ValueError naming the argument and the value.
    """

    def __init__(
        self,
        name: str,
        tick: TickFn,
        rate: float = 30,
        order: int = 0,
        subs: Optional[Iterable[str]] = None,
        pubs: Optional[Iterable[str]] = None,
        init: Optional[TickFn] = None,
        shutdown: Optional[TickFn] = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Node name must be a non-empty string; got {name!r}")
        _check_callable(tick, f"Node {name!r}: tick", allow_none=False)
        _check_callable(init, f"Node {name!r}: init", allow_none=True)
        _check_callable(shutdown, f"Node {name!r}: shutdown", allow_none=True)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise TypeError(f"Node {name!r}: rate must be a number of Hz; got {rate!r}")
        if not _schedule.rate_in_range(rate):
            raise ValueError(f"Node {name!r}: rate = {rate!r} Hz is out of range; expected "
                             f"{_schedule.MIN_RATE_HZ:g} <= rate <= {_schedule.MAX_RATE_HZ:g} Hz")
        if isinstance(order, bool) or not isinstance(order, int):
            raise TypeError(f"Node {name!r}: order must be an int; got {order!r}")
        self.name = name
        self.tick = tick
        self.rate = float(rate)
        #: Nanoseconds between ticks: 1e9 / rate, rounded to whole ns (what run() schedules with).
        self.period_ns = _schedule.period_ns(self.rate)
        self.order = order
        self.subs = _topic_names(subs, f"Node {name!r}: subs")
        self.pubs = _topic_names(pubs, f"Node {name!r}: pubs")
        self.init = init
        self.shutdown = shutdown
        self.stats = NodeStats()
        self._topics: dict[str, Topic] = {}
        self._registration: Any = None  # _core._NodeRegistration while run() runs it (discovery)
        for what, names in (("subs", self.subs), ("pubs", self.pubs)):
            for topic_name in names:
                try:
                    self._topic(topic_name)
                except ValueError as exc:  # a bad topic name: say which argument held it
                    raise ValueError(f"Node {name!r}: {what}: {exc}") from exc

    @property
    def period(self) -> float:
        """Seconds between ticks (1 / rate, rounded to whole ns: period_ns / 1e9)."""
        return self.period_ns / 1e9

    def _topic(self, topic_name: str) -> Topic:
        topic = self._topics.get(topic_name)
        if topic is None:
            if not isinstance(topic_name, str):
                raise TypeError(f"topic name must be a str; got {topic_name!r}")
            topic = Topic(None, topic_name)
            # Discovery lists it under this node, with the roles the node declared for it.
            roles = (2 if topic_name in self.subs else 0) | (1 if topic_name in self.pubs else 0)
            topic._list_as(self.name, roles)
            self._topics[topic_name] = topic
        return topic

    def send(self, topic_name: str, msg: Any) -> None:
        """Publishes ``msg`` on ``topic_name`` (opened on first use if not in pubs)."""
        self._topic(topic_name).send(msg)

    def recv(self, topic_name: str, timeout: Optional[float] = None) -> Any:
        """The next message on ``topic_name``, or None (see Topic.recv)."""
        return self._topic(topic_name).recv(timeout)

    def try_recv(self, topic_name: str) -> Any:
        """The next message on ``topic_name`` or None, never waiting."""
        return self._topic(topic_name).try_recv()

    def __repr__(self) -> str:
        return (f"Node(name={self.name!r}, rate={self.rate:g}, order={self.order}, "
                f"subs={self.subs}, pubs={self.pubs})")
