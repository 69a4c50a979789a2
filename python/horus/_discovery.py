"""Discovery: every topic and every running node of this namespace, read from shared memory.

``horus.topics()`` and ``horus.nodes()`` return the same facts ``horus topic list`` and
``horus node list`` print, as frozen dataclasses (``as_dict()`` gives JSON-ready dicts),
so tools and tests never scrape text. Any process of the namespace (HORUS_NAMESPACE) sees
them; entries of processes that died disappear at once (their shared-memory entries are
freed by the next reclamation).

Endpoints are listed per process and node: the Topic objects of one process (and node)
on a topic are one Endpoint with their number in ``topics``. It publishes once one of
them has sent and subscribes once one of them has received; a Node's declared
``pubs``/``subs`` count from its creation. Nodes are listed
while :func:`horus.run` runs them (C++ ``horus::run`` too).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from horus import _core

__all__ = ["Endpoint", "TopicInfo", "NodeInfo", "topics", "topic_info", "nodes", "valid_topic_name"]

#: A topic name horus accepts (the rule of the C++ core's validate_topic_name).
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def valid_topic_name(name: object) -> bool:
    """True for a name horus accepts (1-100 characters from A-Z a-z 0-9 _ . -), checked here
    without opening anything (tools check their arguments before they touch a file)."""
    return isinstance(name, str) and _TOPIC_NAME.fullmatch(name) is not None


#: The node name of a horus bridge's Topic objects (horus.bridge lists them under it).
BRIDGE_NODE = "horus.bridge"


@dataclass(frozen=True)
class Endpoint:
    """The Topic objects of one process (and node) on a topic: the process, the node's name
    ("" when no Node opened them) and how many Topic objects that is."""

    pid: int
    node: str = ""
    topics: int = 1


@dataclass(frozen=True)
class TopicInfo:
    """A topic as shared memory describes it (see the field comments)."""

    name: str
    #: "Image", "DepthImage", "PointCloud", "Tensor", "Record" (typed messages), "Data"
    #: (schemaless), or "" while nothing typed it yet.
    kind: str
    #: The typed message's name ("CmdVel") for Record topics and Tensor-of-records topics, else "".
    type_name: str
    #: Its layout hash (0 = none).
    layout_hash: int
    #: The same text as Topic.type_description ("CmdVel messages with layout ...", "Image messages").
    type_description: str
    capacity: int
    #: Messages sent on the topic so far.
    messages: int
    #: CLOCK_REALTIME nanoseconds of the latest send (about 4 ms resolution); 0 = never.
    last_send_ns: int
    #: Live processes that have the topic open.
    processes: int
    publishers: tuple[Endpoint, ...] = field(default=())
    subscribers: tuple[Endpoint, ...] = field(default=())
    #: False when the topic's lock was not available within 100 ms (a process holding it is
    #: stopped, or the object is corrupt): processes, publishers and subscribers are then unknown.
    complete: bool = True

    @property
    def bridged(self) -> str:
        """How a horus bridge (horus.bridge, listed under node "horus.bridge") carries this topic:
        "in" (it publishes messages from other hosts here), "out" (it sends this topic's messages
        to other hosts), "in+out", or "" (not bridged)."""
        inbound = any(e.node == BRIDGE_NODE for e in self.publishers)
        outbound = any(e.node == BRIDGE_NODE for e in self.subscribers)
        return "+".join(d for d, on in (("in", inbound), ("out", outbound)) if on)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (endpoints as lists of {"pid", "node"}), and "bridged"."""
        d = asdict(self)
        d["publishers"] = [asdict(e) for e in self.publishers]
        d["subscribers"] = [asdict(e) for e in self.subscribers]
        d["bridged"] = self.bridged
        return d


@dataclass(frozen=True)
class NodeInfo:
    """A node that horus.run() (or C++ horus::run) is running, with its tick statistics."""

    name: str
    pid: int
    #: "python" or "c++".
    language: str
    rate_hz: float
    order: int
    subs: tuple[str, ...]
    pubs: tuple[str, ...]
    ticks: int
    #: Ticks that took longer than the period.
    overruns: int
    #: Ticks that raised.
    errors: int
    mean_tick_s: float
    max_tick_s: float
    #: CLOCK_REALTIME nanoseconds at the end of the latest tick (about 4 ms resolution); 0 = none yet.
    last_tick_ns: int
    #: CLOCK_REALTIME nanoseconds when the run started it.
    started_ns: int
    #: Ticks that ended later than due + deadline.
    misses: int = 0
    #: Ticks that ran longer than the budget.
    budget_overruns: int = 0
    #: Due slots the policies dropped (on_miss "skip", failure_policy skip or restart backoff).
    skipped: int = 0
    #: Inits re-run by failure_policy "restart".
    restarts: int = 0
    #: Ticks still running after the watchdog time.
    watchdog_expired: int = 0
    #: Times the node went into safe mode, and whether it is in it now.
    safe_mode_entries: int = 0
    in_safe_mode: bool = False
    #: 99th percentile of the tick time (log-linear histogram: at most 12.5 % above).
    p99_tick_s: float = 0.0
    #: How late ticks started against their ideal time: p50, p99, max.
    jitter_p50_s: float = 0.0
    jitter_p99_s: float = 0.0
    jitter_max_s: float = 0.0
    #: The node's settings: seconds (None: not set), policy names, SCHED_FIFO priority and CPU (None: not set).
    budget_s: Optional[float] = None
    deadline_s: Optional[float] = None
    watchdog_s: Optional[float] = None
    on_miss: str = "warn"
    failure_policy: str = "fatal"
    priority: Optional[int] = None
    core: Optional[int] = None
    #: Whether it ticks in a thread of its own.
    own_thread: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        d = asdict(self)
        d["subs"] = list(self.subs)
        d["pubs"] = list(self.pubs)
        return d


def _topic(d: dict[str, Any]) -> TopicInfo:
    endpoints = d.pop("endpoints")
    pubs = tuple(Endpoint(pid, node, n) for pid, node, publishes, _, n in endpoints if publishes)
    subs = tuple(Endpoint(pid, node, n) for pid, node, _, subscribes, n in endpoints if subscribes)
    return TopicInfo(publishers=pubs, subscribers=subs, **d)


def topics() -> list[TopicInfo]:
    """Every topic of this namespace, sorted by name."""
    return [_topic(d) for d in _core._topics()]


def topic_info(name: str) -> Optional[TopicInfo]:
    """The topic ``name`` of this namespace, or None if it does not exist (ValueError for a bad name)."""
    if not isinstance(name, str):
        raise TypeError(f"topic name must be a str; got {name!r}")
    d = _core._topic(name)
    return None if d is None else _topic(d)


def nodes() -> list[NodeInfo]:
    """Every running node of this namespace, sorted by name, then pid."""
    out = []
    for d in _core._nodes():
        ticks = d["ticks"]
        out.append(NodeInfo(
            name=d["name"], pid=d["pid"], language=d["language"], rate_hz=d["rate_hz"], order=d["order"],
            subs=tuple(d["subs"]), pubs=tuple(d["pubs"]), ticks=ticks, overruns=d["overruns"],
            errors=d["errors"], mean_tick_s=d["tick_ns_total"] / ticks / 1e9 if ticks else 0.0,
            max_tick_s=d["tick_ns_max"] / 1e9, last_tick_ns=d["last_tick_ns"], started_ns=d["started_ns"],
            misses=d["misses"], budget_overruns=d["budget_overruns"], skipped=d["skipped"], restarts=d["restarts"],
            watchdog_expired=d["watchdog_expired"], safe_mode_entries=d["safe_mode_entries"],
            in_safe_mode=d["in_safe_mode"], p99_tick_s=d["tick_ns_p99"] / 1e9, jitter_p50_s=d["jitter_ns_p50"] / 1e9,
            jitter_p99_s=d["jitter_ns_p99"] / 1e9, jitter_max_s=d["jitter_ns_max"] / 1e9,
            budget_s=d["budget_ns"] / 1e9 if d["budget_ns"] else None,
            deadline_s=d["deadline_ns"] / 1e9 if d["deadline_ns"] else None,
            watchdog_s=d["watchdog_ns"] / 1e9 if d["watchdog_ns"] else None, on_miss=d["on_miss"],
            failure_policy=d["failure_policy"], priority=d["priority"] or None,
            core=d["core"] if d["core"] >= 0 else None, own_thread=d["own_thread"]))
    return out
