"""What a bridge counts, per forwarded topic and in all: BridgeStats, BridgeTopicStats.

Each counter has one writer (the thread forwarding that topic, or the Zenoh callback of
that subscription); a snapshot copies them without a lock, so two counters of one snapshot
may be one message apart.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BridgeStats", "BridgeTopicStats", "LatencyWindow"]

#: Latencies kept per topic for the percentiles (the most recent ones).
LATENCY_WINDOW = 2048


class LatencyWindow:
    """The most recent latencies of a topic (ns): p50, p99 and max over them."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: deque[int] = deque(maxlen=LATENCY_WINDOW)

    def add(self, ns: int) -> None:
        self.values.append(ns)

    def summary(self) -> tuple[float, float, float]:
        """(p50, p99, max) in milliseconds; NaN while there is none."""
        v = sorted(self.values)
        if not v:
            return (float("nan"),) * 3
        n = len(v)
        return (v[n // 2] / 1e6, v[min(n - 1, (n * 99) // 100)] / 1e6, v[-1] / 1e6)


@dataclass
class BridgeTopicStats:
    """One forwarded topic, one direction.

    direction "out" (a local topic sent to the network) or "in" (a remote topic published
    here); topic the local name, key the Zenoh key expression. messages/bytes: forwarded
    (payload bytes as they travel). lost: messages missing from the sending bridge's sequence
    (in: gaps in the network, Zenoh's queues). unmatched: messages sent while no remote
    subscriber matched the key (out: nobody received them). dropped: messages the
    bridge's own local subscriber lost to ring overflow (out). rate_limited: skipped by the
    topic's rate. type_errors: samples refused because their type differs from the local
    topic's. errors: samples that could not be rebuilt or sent (last_error says why).
    latency_ms: now minus the message's timestamp_ns when it was published here (in; needs
    synchronised clocks; messages without a plausible timestamp are left out). transit_ms:
    from the sending bridge's put to the publish here. sources: sending bridges seen (in).
    waiting: True while an "out" topic does not exist yet.
    """

    direction: str
    topic: str
    key: str
    type: str = ""
    messages: int = 0
    bytes: int = 0
    lost: int = 0
    unmatched: int = 0
    dropped: int = 0
    rate_limited: int = 0
    type_errors: int = 0
    errors: int = 0
    last_error: str = ""
    latency_ms_p50: float = float("nan")
    latency_ms_p99: float = float("nan")
    latency_ms_max: float = float("nan")
    transit_ms_p50: float = float("nan")
    transit_ms_p99: float = float("nan")
    sources: int = 0
    waiting: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in asdict(self).items()}


@dataclass
class BridgeStats:
    """A snapshot of a bridge: its Zenoh id, mode, key prefix, the Zenoh peers and routers it
    is connected to now, and one BridgeTopicStats per forwarded topic and direction."""

    id: str
    mode: str
    prefix: str
    elapsed_s: float = 0.0
    peers: int = 0
    routers: int = 0
    topics: list[BridgeTopicStats] = field(default_factory=list)

    def topic(self, name: str, direction: str) -> BridgeTopicStats | None:
        """The stats of local topic `name` in `direction` ("in" or "out"), or None."""
        for t in self.topics:
            if t.topic == name and t.direction == direction:
                return t
        return None

    @property
    def messages(self) -> int:
        return sum(t.messages for t in self.topics)

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.topics)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["topics"] = [t.as_dict() for t in self.topics]
        return d
