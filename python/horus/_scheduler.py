"""run(*nodes, duration=None): tick nodes at their rates in the calling thread.

Scheduling (the policy is horus._schedule, shared with the C++ horus::run):
every node has its own period (1 / rate, in whole ns). In each round the nodes
that are due run in ``order`` (ties keep the order they were passed in). A tick
that takes longer than its period counts as an overrun; the node's schedule
then skips the slots it missed instead of trying to catch up, so one slow tick
never makes the schedule drift for good.

Stopping: when ``duration`` seconds have passed (None, inf or >= 1e9 s: never),
on SIGINT (Ctrl-C) or SIGTERM, run() calls every node's shutdown and returns
normally. An exception raised by a tick (or init) stops the run: shutdown still
runs for every node whose init ran, then a NodeError naming the node is raised,
chained to the original exception.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Optional

from horus import _schedule
from horus._core import HorusError, _NodeRegistration
from horus._node import Node


class NodeError(HorusError):
    """A node's tick, init or shutdown raised; ``node`` names it, ``__cause__`` is the error."""

    def __init__(self, node: str, phase: str, error: BaseException) -> None:
        super().__init__(f"node {node!r} raised {type(error).__name__} in {phase}: {error}")
        self.node = node
        self.phase = phase


class _Terminated(BaseException):
    """Raised by run()'s SIGTERM handler while nodes tick (like KeyboardInterrupt for SIGINT)."""


def _check(nodes: tuple, duration: Optional[float]) -> list[Node]:
    if not nodes:
        raise ValueError("run() needs at least one Node")
    seen: set[str] = set()
    for n in nodes:
        if not isinstance(n, Node):
            raise TypeError(f"run() takes horus.Node objects; got {n!r}")
        if n.name in seen:
            raise ValueError(f"duplicate node name {n.name!r}: node names in one run must be unique")
        seen.add(n.name)
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise TypeError(f"duration must be None or a number of seconds; got {duration!r}")
        if not duration >= 0:  # NaN too; no float() of a huge int
            raise ValueError(f"duration = {duration!r} is invalid; expected None (forever) or seconds >= 0")
    return [nodes[i] for i in _schedule.tick_order([n.order for n in nodes])]


def run(*nodes: Node, duration: Optional[float] = None) -> None:
    """Runs ``nodes`` until ``duration`` seconds pass (forever if None) or SIGINT/SIGTERM."""
    ordered = _check(nodes, duration)
    stop = threading.Event()
    previous_term = None
    in_main = threading.current_thread() is threading.main_thread()
    ticking = [False]

    def on_sigterm(signum, frame):
        stop.set()
        if ticking[0]:  # interrupt a tick that waits (e.g. in recv(timeout=...)), as Ctrl-C does
            ticking[0] = False
            raise _Terminated()

    if in_main:
        previous_term = signal.signal(signal.SIGTERM, on_sigterm)

    failure: Optional[NodeError] = None
    started: list[Node] = []
    try:
        for node in ordered:  # discovery lists the nodes while they run (horus.nodes())
            node._registration = _NodeRegistration(node.name, node.rate, node.order, node.subs, node.pubs)
        for node in ordered:
            if node.init is not None:
                try:
                    node.init(node)
                except Exception as exc:  # surfaced with the node's name
                    failure = NodeError(node.name, "init", exc)
                    failure.__cause__ = exc
                    break
            started.append(node)
        if failure is None:
            ticking[0] = True
            try:
                _loop(ordered, duration, stop)
            finally:
                ticking[0] = False
    except NodeError as exc:
        failure = exc
    except (KeyboardInterrupt, _Terminated):
        pass  # Ctrl-C or SIGTERM: a clean stop
    finally:
        for node in started:
            if node.shutdown is None:
                continue
            try:
                node.shutdown(node)
            except Exception as exc:
                if failure is None:
                    failure = NodeError(node.name, "shutdown", exc)
                    failure.__cause__ = exc
        for node in ordered:
            if node._registration is not None:
                node._registration.close()
                node._registration = None
        if in_main:
            signal.signal(signal.SIGTERM, previous_term)
    if failure is not None:
        raise failure


class _RealTime:
    """run_rounds' environment in real time: the monotonic clock, the nodes' ticks and stats."""

    def __init__(self, ordered: list[Node], stop: threading.Event) -> None:
        self.ordered = ordered
        self.stop = stop

    def now(self) -> int:
        return time.monotonic_ns()

    def stopped(self) -> bool:
        return self.stop.is_set()

    def tick(self, i: int) -> bool:
        node = self.ordered[i]
        try:
            node.tick(node)
        except Exception as exc:
            node.stats.errors += 1
            node._registration.errored()
            raise NodeError(node.name, "tick", exc) from exc
        return True

    def ticked(self, i: int, start: int, after: int, overrun: bool) -> None:
        st = self.ordered[i].stats
        elapsed = (after - start) / 1e9
        st.ticks += 1
        st.total_tick_s += elapsed
        st.max_tick_s = max(st.max_tick_s, elapsed)
        if overrun:
            st.overruns += 1
        self.ordered[i]._registration.ticked(after - start, overrun)

    def sleep_until(self, t: int) -> None:
        delay = (t - time.monotonic_ns()) / 1e9
        if delay > 0.002:
            self.stop.wait(delay)  # wakes at once on SIGTERM (stop is set)
        elif delay > 0:
            time.sleep(delay)


def _loop(ordered: list[Node], duration: Optional[float], stop: threading.Event) -> None:
    _schedule.run_rounds([n.period_ns for n in ordered], duration, _RealTime(ordered, stop))
