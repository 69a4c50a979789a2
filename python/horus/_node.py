"""Node: a named unit of robot software that ticks at a rate (see horus.run).

A node is a ``tick(node)`` callable plus scheduling facts (rate in Hz, order, and
the real-time options of docs/scheduler.md: budget, deadline, on_miss,
failure_policy, priority, core, watchdog, compute) and the names of the topics it
subscribes to and publishes on. Those topics are opened when the node is created,
so a subscriber receives everything sent after that moment; ``node.send(name, msg)``
and ``node.recv(name)`` use them, and a name that was not declared is opened on
first use.

The rules behind the options are implemented once, in C++ (horus._core._TickController,
cpp/include/horus/sched/tick_policy.hpp), for horus.run and horus::run alike.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Union

from horus import _core, _schedule
from horus._core import Topic

TickFn = Callable[["Node"], Any]

MISS_POLICIES = ("warn", "skip", "safe_mode", "stop")

#: Seconds in a microsecond and a millisecond: ``Node(budget=300 * us, deadline=1 * ms)``.
us = 1e-6
ms = 1e-3


class Miss:
    """The on_miss policies by name (``Node(on_miss=Miss.SKIP)`` is ``on_miss="skip"``)."""

    WARN = "warn"
    SKIP = "skip"
    SAFE_MODE = "safe_mode"
    STOP = "stop"

FAILURE_POLICIES = ("fatal", "restart", "skip", "ignore")
MAX_SECONDS = 1e6  # budget, deadline, watchdog, backoff, cooldown: up to 11.6 days
LOG_TOPIC = "horus.log"  # where log_* publish (C++ kLogTopic, node_log.hpp)
MAX_NAME_BYTES = 63  # the longest node name discovery keeps (node_registry.hpp)


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


def _seconds(value: Any, what: str) -> Optional[float]:
    """None, or a number of seconds in (0, 1e6]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be None or a number of seconds (e.g. 300e-6 for 300 us); got {value!r}")
    if not 0 < value <= MAX_SECONDS:  # NaN too
        raise ValueError(f"{what} = {value!r} s is out of range; expected 0 < {what.split(': ')[-1]} <= 1e6 s "
                         f"(seconds: 300e-6 is 300 us)")
    return float(value)


def _int_in(value: Any, what: str, lo: int, hi: int, meaning: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be None or an int ({meaning}); got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} = {value!r} is out of range; expected {lo} <= {what.split(': ')[-1]} <= {hi} "
                         f"({meaning})")
    return value


@dataclass(frozen=True)
class FailurePolicy:
    """What a tick that raises leads to (``Node(failure_policy=...)``; a name gives the defaults).

    * ``fatal``: the run stops; horus.run raises NodeError (the default).
    * ``restart``: init runs again after ``backoff`` seconds, doubling per restart; after
      ``max_restarts`` restarts the next failure is fatal.
    * ``skip``: the failing tick is dropped; ``max_failures`` failures in a row suppress
      the node for ``cooldown`` seconds.
    * ``ignore``: the failure is logged and the node goes on ticking.
    """

    kind: str = "fatal"
    max_restarts: int = 5
    backoff: float = 0.1
    max_failures: int = 5
    cooldown: float = 30.0

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_POLICIES:
            raise ValueError(f"failure_policy = {self.kind!r} is not a failure policy; expected one of "
                             f"{', '.join(map(repr, FAILURE_POLICIES))}")
        for name, lo in (("max_restarts", 0), ("max_failures", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"FailurePolicy.{name} must be an int; got {v!r}")
            if not lo <= v <= 2**32 - 1:
                raise ValueError(f"FailurePolicy.{name} = {v!r} is out of range; expected {lo} <= {name} <= 4294967295")
        for name in ("backoff", "cooldown"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"FailurePolicy.{name} must be a number of seconds; got {v!r}")
            if not 0 <= v <= MAX_SECONDS:
                raise ValueError(f"FailurePolicy.{name} = {v!r} s is out of range; expected 0 <= {name} <= 1e6 s")

    @classmethod
    def fatal(cls) -> "FailurePolicy":
        return cls("fatal")

    @classmethod
    def restart(cls, max_restarts: int = 5, backoff: float = 0.1) -> "FailurePolicy":
        return cls("restart", max_restarts=max_restarts, backoff=backoff)

    @classmethod
    def skip(cls, max_failures: int = 5, cooldown: float = 30.0) -> "FailurePolicy":
        return cls("skip", max_failures=max_failures, cooldown=cooldown)

    @classmethod
    def ignore(cls) -> "FailurePolicy":
        return cls("ignore")


_ZERO_STATS = {
    "ticks": 0, "overruns": 0, "misses": 0, "budget_overruns": 0, "skipped": 0, "errors": 0, "restarts": 0,
    "safe_mode_entries": 0, "watchdog_expired": 0, "total_tick_s": 0.0, "max_tick_s": 0.0, "p99_tick_s": 0.0,
    "jitter_p50_s": 0.0, "jitter_p99_s": 0.0, "jitter_max_s": 0.0,
}


class NodeStats:
    """Tick statistics of all of a node's runs so far (live while it runs); durations in seconds.

    ticks, overruns (tick longer than the period), misses (ended later than due +
    deadline), budget_overruns (ran longer than the budget), skipped (due slots the
    policies dropped), errors (ticks or restart inits that raised), restarts,
    safe_mode_entries, watchdog_expired, total/max/mean/p99 tick time, and the start
    jitter (how late each tick started against its ideal time) p50/p99/max.
    Percentiles come from a log-linear histogram: at most 12.5 % above the true value.
    """

    __slots__ = ("_controller",)

    def __init__(self, controller: Any = None) -> None:
        self._controller = controller

    def as_dict(self) -> dict[str, float]:
        d = dict(_ZERO_STATS) if self._controller is None else self._controller.stats()
        d["mean_tick_s"] = d["total_tick_s"] / d["ticks"] if d["ticks"] else 0.0
        return d

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        d = self.as_dict()
        if name not in d:
            raise AttributeError(f"NodeStats has no field {name!r}; fields: {', '.join(d)}")
        return d[name]

    def __repr__(self) -> str:
        d = self.as_dict()
        return (f"NodeStats(ticks={d['ticks']}, overruns={d['overruns']}, misses={d['misses']}, "
                f"errors={d['errors']}, mean_tick_ms={d['mean_tick_s'] * 1e3:.3f}, "
                f"max_tick_ms={d['max_tick_s'] * 1e3:.3f}, jitter_p99_us={d['jitter_p99_s'] * 1e6:.1f})")


def _sync(fn: Optional[Callable], node: "Node") -> Optional[Callable]:
    """``fn`` itself, or for an ``async def`` a function that runs it to completion on the node's loop."""
    if fn is None or not inspect.iscoroutinefunction(fn):
        return fn

    def run_coroutine(n: "Node") -> Any:
        return node._event_loop().run_until_complete(fn(n))

    return run_coroutine


class Node:
    """A unit of work ticked by :func:`horus.run` at ``rate`` Hz, in ``order``.

    ``tick(node)``, ``init(node)``, ``shutdown(node)`` and ``safe_mode(node)`` receive
    the node; each may be an ``async def`` (run to completion on the node's own event
    loop). ``rate`` must lie in [1e-6, 1e6] Hz. Times are in seconds (``300e-6`` is
    300 us). The real-time options (docs/scheduler.md):

    * ``budget``: how long a tick should run; longer ones count as budget_overruns.
    * ``deadline``: how long after its due time a tick must have returned (default: the
      budget); a miss leads to ``on_miss``: "warn" (default), "skip" (drop the next
      slot), "safe_mode" (call ``safe_mode(node)`` after each missed tick until one
      meets its deadline) or "stop" (stop the run).
    * ``failure_policy``: "fatal" (default), "restart", "skip", "ignore", or a FailurePolicy.
    * ``on_error(node, exc)``: told about every exception a tick raises, before the policy.
    * ``priority`` (SCHED_FIFO 1-99, higher is more urgent) and ``core`` (a CPU index)
      apply to the node's own thread; ``compute=True`` gives it one without them.
    * ``watchdog``: a tick still running this long after it started is reported; with
      on_miss="stop" the run stops.

    A bad argument raises TypeError or ValueError naming the argument and the value.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        tick: Optional[TickFn] = None,
        rate: float = 30,
        order: int = 0,
        subs: Optional[Iterable[str]] = None,
        pubs: Optional[Iterable[str]] = None,
        init: Optional[TickFn] = None,
        shutdown: Optional[TickFn] = None,
        *,
        safe_mode: Optional[TickFn] = None,
        on_error: Optional[Callable[["Node", Exception], Any]] = None,
        budget: Optional[float] = None,
        deadline: Optional[float] = None,
        on_miss: Optional[str] = None,
        failure_policy: Union[str, FailurePolicy, None] = None,
        priority: Optional[int] = None,
        core: Optional[int] = None,
        watchdog: Optional[float] = None,
        compute: bool = False,
    ) -> None:
        if name is None:
            name = f"node_{uuid.uuid4().hex[:8]}"
        if not isinstance(name, str) or not name:
            raise ValueError(f"Node name must be a non-empty string; got {name!r}")
        try:
            name_bytes = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            raise ValueError(f"Node name must be valid text (UTF-8); got {name!r}") from None
        if name_bytes > MAX_NAME_BYTES or "\0" in name:
            raise ValueError(f"Node name {name!r} is {name_bytes} bytes long or holds a NUL; expected 1 to "
                             f"{MAX_NAME_BYTES} bytes of UTF-8 without NUL (discovery lists names that long)")
        _check_callable(tick, f"Node {name!r}: tick", allow_none=False)
        for what, fn in (("init", init), ("shutdown", shutdown), ("safe_mode", safe_mode), ("on_error", on_error)):
            _check_callable(fn, f"Node {name!r}: {what}", allow_none=True)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise TypeError(f"Node {name!r}: rate must be a number of Hz; got {rate!r}")
        if not _schedule.rate_in_range(rate):
            raise ValueError(f"Node {name!r}: rate = {rate!r} Hz is out of range; expected "
                             f"{_schedule.MIN_RATE_HZ:g} <= rate <= {_schedule.MAX_RATE_HZ:g} Hz")
        if isinstance(order, bool) or not isinstance(order, int):
            raise TypeError(f"Node {name!r}: order must be an int; got {order!r}")
        if not -2**31 <= order < 2**31:
            raise ValueError(f"Node {name!r}: order = {order!r} is out of range; expected "
                             f"-2147483648 <= order <= 2147483647 (the same as the C++ Node's int)")
        self.budget = _seconds(budget, f"Node {name!r}: budget")
        self.deadline = _seconds(deadline, f"Node {name!r}: deadline")
        self.watchdog = _seconds(watchdog, f"Node {name!r}: watchdog")
        if on_miss is None:
            on_miss = "warn"
        if not isinstance(on_miss, str) or on_miss not in MISS_POLICIES:
            raise ValueError(f"Node {name!r}: on_miss = {on_miss!r} is not a miss policy; expected one of "
                             f"{', '.join(map(repr, MISS_POLICIES))}")
        if on_miss == "safe_mode" and safe_mode is None:
            raise ValueError(f"Node {name!r}: on_miss = 'safe_mode' needs a safe_mode callback "
                             f"(Node(..., safe_mode=fn), called with the node after each missed tick)")
        if failure_policy is None:
            failure_policy = FailurePolicy()
        elif isinstance(failure_policy, str):
            if failure_policy not in FAILURE_POLICIES:
                raise ValueError(f"Node {name!r}: failure_policy = {failure_policy!r} is not a failure policy; "
                                 f"expected one of {', '.join(map(repr, FAILURE_POLICIES))} or a horus.FailurePolicy")
            failure_policy = FailurePolicy(failure_policy)
        elif not isinstance(failure_policy, FailurePolicy):
            raise TypeError(f"Node {name!r}: failure_policy must be a str or a horus.FailurePolicy; "
                            f"got {failure_policy!r}")
        self.priority = _int_in(priority, f"Node {name!r}: priority", 1, 99, "SCHED_FIFO, higher is more urgent")
        self.core = _int_in(core, f"Node {name!r}: core", 0, 1023, "a CPU index")
        if not isinstance(compute, bool):
            raise TypeError(f"Node {name!r}: compute must be a bool; got {compute!r}")
        self.name = name
        self.rate = float(rate)
        #: Nanoseconds between ticks: 1e9 / rate, rounded to whole ns (what run() schedules with).
        self.period_ns = _schedule.period_ns(self.rate)
        self.order = order
        self.subs = _topic_names(subs, f"Node {name!r}: subs")
        self.pubs = _topic_names(pubs, f"Node {name!r}: pubs")
        self.on_miss = on_miss
        self.failure_policy = failure_policy
        self.compute = compute
        self.on_error = on_error
        self.is_async = any(inspect.iscoroutinefunction(f) for f in (tick, init, shutdown, safe_mode))
        self.tick = _sync(tick, self)
        self.init = _sync(init, self)
        self.shutdown = _sync(shutdown, self)
        self.safe_mode = _sync(safe_mode, self)
        self._controller: Any = None  # _core._TickController, made by the first run (keeps the stats)
        self._run: Any = None  # the running run (horus._scheduler._Run) while one runs
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._logger = logging.getLogger(f"horus.node.{name}")
        self._topics: dict[str, Topic] = {}
        for what, names in (("subs", self.subs), ("pubs", self.pubs)):
            for topic_name in names:
                try:
                    self._topic(topic_name)
                except ValueError as exc:  # a bad topic name: say which argument held it
                    raise ValueError(f"Node {name!r}: {what}: {exc}") from exc

    # ------------------------------------------------------------------ facts
    @property
    def period(self) -> float:
        """Seconds between ticks (1 / rate, rounded to whole ns: period_ns / 1e9)."""
        return self.period_ns / 1e9

    @property
    def own_thread(self) -> bool:
        """Whether run() ticks this node in a thread of its own (compute, priority or core)."""
        return self.compute or self.priority is not None or self.core is not None

    @property
    def stats(self) -> NodeStats:
        """The statistics of all the node's runs so far (live while it runs)."""
        return NodeStats(self._controller)

    @property
    def in_safe_mode(self) -> bool:
        """True from a missed tick (on_miss="safe_mode") until a tick meets its deadline."""
        return bool(self._controller is not None and self._controller.in_safe_mode)

    # ------------------------------------------------------------------ topics
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

    def recv_all(self, topic_name: str) -> list[Any]:
        """Every message waiting on ``topic_name``, oldest first (empty if none). Never waits."""
        topic = self._topic(topic_name)
        out = []
        while topic.pending:
            msg = topic.try_recv()
            if msg is None:  # a message the topic skipped (see Topic.try_recv)
                if not topic.pending:
                    break
                continue
            out.append(msg)
        return out

    def has_msg(self, topic_name: str) -> bool:
        """Whether a message is waiting on ``topic_name``; consumes nothing."""
        return self._topic(topic_name).pending > 0

    # ------------------------------------------------------------------ control and logs
    def request_stop(self) -> None:
        """Asks the running run() to stop: every node's shutdown runs, run() returns normally.
        Outside a run it does nothing."""
        run = self._run
        if run is not None:
            run.request_stop()

    def _log(self, level: int, message: Any) -> None:
        text = message if isinstance(message, str) else str(message)
        self._logger.log(level, "%s", text)
        # A str that is not valid UTF-8 (surrogates from os.fsdecode) travels with '?' in their place.
        _core._publish_log(level, self.name, text.encode("utf-8", "replace").decode("utf-8"), False)

    def log_debug(self, message: str) -> None:
        """Logs on the topic "horus.log" (``horus log``) and to logging.getLogger("horus.node.<name>")."""
        self._log(logging.DEBUG, message)

    def log_info(self, message: str) -> None:
        """Logs on the topic "horus.log" (``horus log``) and to logging.getLogger("horus.node.<name>")."""
        self._log(logging.INFO, message)

    def log_warning(self, message: str) -> None:
        """Logs on the topic "horus.log" (``horus log``) and to logging.getLogger("horus.node.<name>")."""
        self._log(logging.WARNING, message)

    def log_error(self, message: str) -> None:
        """Logs on the topic "horus.log" (``horus log``) and to logging.getLogger("horus.node.<name>")."""
        self._log(logging.ERROR, message)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _close_event_loop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        self._loop = None

    def __repr__(self) -> str:
        extra = ""
        if self.budget is not None:
            extra += f", budget={self.budget:g}"
        if self.deadline is not None:
            extra += f", deadline={self.deadline:g}"
        if self.priority is not None:
            extra += f", priority={self.priority}"
        if self.core is not None:
            extra += f", core={self.core}"
        return (f"Node(name={self.name!r}, rate={self.rate:g}, order={self.order}, "
                f"subs={self.subs}, pubs={self.pubs}{extra})")


def controller_for(node: Node, default_watchdog: Optional[float]) -> Any:
    """The node's _core._TickController, set up for a new run: made by the first run and
    kept after it, so the statistics accumulate over the node's runs."""
    fp = node.failure_policy
    watchdog = node.watchdog if node.watchdog is not None else default_watchdog
    args = (node.budget, node.deadline, node.on_miss, fp.kind, fp.max_restarts, float(fp.backoff),
            fp.max_failures, float(fp.cooldown), watchdog)  # seconds: the core rounds them to ns
    if node._controller is None:
        return _core._TickController(node.period_ns, *args)
    node._controller.configure(*args)
    return node._controller
