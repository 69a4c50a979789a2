"""run(*nodes, duration=None): tick nodes at their rates in the calling thread.

Scheduling: every node has its own period (1 / rate). In each round the nodes
that are due run in ``order`` (ties keep the order they were passed in). A tick
that takes longer than its period counts as an overrun; the node's schedule
then skips the slots it missed instead of trying to catch up, so one slow tick
never makes the schedule drift for good.

Stopping: when ``duration`` seconds have passed, on SIGINT (Ctrl-C) or SIGTERM,
run() calls every node's shutdown and returns normally. An exception raised by
a tick (or init) stops the run: shutdown still runs for every node, then a
NodeError naming the node is raised, chained to the original exception.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from typing import Optional

from horus._core import HorusError
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
        if math.isnan(duration) or duration < 0:
            raise ValueError(f"duration = {duration!r} is invalid; expected None or seconds >= 0")
    index = {id(n): i for i, n in enumerate(nodes)}
    return sorted(nodes, key=lambda n: (n.order, index[id(n)]))


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
        if in_main:
            signal.signal(signal.SIGTERM, previous_term)
    if failure is not None:
        raise failure


def _loop(ordered: list[Node], duration: Optional[float], stop: threading.Event) -> None:
    clock = time.monotonic
    start = clock()
    end = math.inf if duration is None else start + duration
    due = {id(n): start for n in ordered}
    while not stop.is_set():
        now = clock()
        if now >= end:
            return
        for node in ordered:
            if due[id(node)] > now:
                continue
            t0 = time.perf_counter()
            try:
                node.tick(node)
            except Exception as exc:
                node.stats.errors += 1
                err = NodeError(node.name, "tick", exc)
                raise err from exc
            elapsed = time.perf_counter() - t0
            st = node.stats
            st.ticks += 1
            st.total_tick_s += elapsed
            st.max_tick_s = max(st.max_tick_s, elapsed)
            period = node.period
            nxt = due[id(node)] + period
            after = clock()
            if elapsed > period:
                st.overruns += 1
            if nxt <= after:  # late: skip the slots we missed rather than bursting to catch up
                nxt += math.ceil((after - nxt) / period) * period
                if nxt <= after:
                    nxt += period
            due[id(node)] = nxt
        wake = min(min(due.values()), end)
        delay = wake - clock()
        if delay > 0:
            stop.wait(delay) if delay > 0.002 else time.sleep(delay)
