"""run(*nodes, duration=None, tick_rate=None, rt=False, watchdog_ms=None): tick nodes at their rates.

Scheduling (the timing policy is horus._schedule, shared with the C++ horus::run;
budget, deadline, on_miss, failure_policy, the statistics and the watchdog check are
the C++ TickController through horus._core, so both languages share one
implementation; docs/scheduler.md): every node has its own period (1 / rate, in
whole ns). Nodes without a thread of their own tick in the calling thread; in each
round the ones that are due run in ``order`` (ties keep the order they were passed
in). A node with ``compute=True``, a ``priority`` or a ``core`` ticks in its own
thread. A tick that takes longer than its period counts as an overrun; the node's
schedule then skips the slots it missed instead of trying to catch up.

Stopping: when ``duration`` seconds have passed (None, inf or >= 1e9 s: never), on
SIGINT (Ctrl-C) or SIGTERM, when a node calls ``request_stop()``, or when on_miss
"stop" fires, run() calls every node's shutdown and returns normally. A failure that
is fatal under the node's failure_policy stops the run: shutdown still runs for every
node whose init ran, then a NodeError naming the node is raised, chained to the
original exception.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
import signal
import threading
import time
import warnings
from typing import Any, Optional

from horus import _core, _schedule
from horus._core import HorusError
from horus._node import Node, controller_for

# TickController results (tick_policy.hpp)
_G_RUN, _G_RESTART = 0, 1
_V_OK, _V_MISSED, _V_SAFE_MODE, _V_STOP = 0, 1, 2, 3
_F_FATAL, _F_RESTART, _F_DROPPED, _F_SUPPRESSED, _F_IGNORED, _F_EXHAUSTED = range(6)


class NodeError(HorusError):
    """A node's tick, init, safe_mode or shutdown raised (``phase`` says which), or with
    rt=True its real-time settings were refused (``phase`` "rt"); ``node`` names it,
    ``__cause__`` is the error."""

    def __init__(self, node: str, phase: str, error: BaseException, detail: str = "") -> None:
        if phase == "rt":
            text = f"node {node!r}: {describe(error)}"
        else:
            text = f"node {node!r} raised {type(error).__name__} in {phase}: {describe(error)}{detail}"
        super().__init__(text)
        self.node = node
        self.phase = phase


def describe(exc: BaseException) -> str:
    """str(exc), or a placeholder when the exception's own __str__ raises."""
    try:
        return str(exc)
    except Exception as inner:  # noqa: BLE001 (any failure of a user's __str__)
        return f"<str() of the {type(exc).__name__} raised {type(inner).__name__}>"


#: Runs claim their nodes under this lock (a Node ticks in one run at a time).
_CLAIM_LOCK = threading.Lock()
#: The runs in progress in this process (a stop signal during a nested run stops the outer ones too).
_ACTIVE: list["_Run"] = []


class _Terminated(BaseException):
    """Raised by run()'s SIGTERM handler while nodes tick (like KeyboardInterrupt for SIGINT)."""


class _WatchdogStop(BaseException):
    """Raised by the watchdog into a tick that outlived its watchdog with on_miss="stop"."""


def _check(nodes: tuple, duration: Optional[float], tick_rate: Optional[float], rt: bool,
           watchdog_ms: Optional[float]) -> list[Node]:
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
    if tick_rate is not None:
        if isinstance(tick_rate, bool) or not isinstance(tick_rate, (int, float)):
            raise TypeError(f"tick_rate must be None or a number of Hz; got {tick_rate!r}")
        if not _schedule.rate_in_range(tick_rate):
            raise ValueError(f"tick_rate = {tick_rate!r} Hz is out of range; expected "
                             f"{_schedule.MIN_RATE_HZ:g} <= tick_rate <= {_schedule.MAX_RATE_HZ:g} Hz")
        for n in nodes:
            if n.rate > tick_rate:
                raise ValueError(f"node {n.name!r}: rate = {n.rate:g} Hz is above the run's tick_rate = "
                                 f"{tick_rate:g} Hz; lower the node's rate or raise tick_rate")
    if not isinstance(rt, bool):
        raise TypeError(f"rt must be a bool; got {rt!r}")
    if watchdog_ms is not None:
        if isinstance(watchdog_ms, bool) or not isinstance(watchdog_ms, (int, float)):
            raise TypeError(f"watchdog_ms must be None or a number of milliseconds; got {watchdog_ms!r}")
        if not 0 <= watchdog_ms <= 1e9:
            raise ValueError(f"watchdog_ms = {watchdog_ms!r} is out of range; expected 0 (none) <= watchdog_ms <= 1e9")
    return [nodes[i] for i in _schedule.tick_order([n.order for n in nodes])]


def run(*nodes: Node, duration: Optional[float] = None, tick_rate: Optional[float] = None, rt: bool = False,
        watchdog_ms: Optional[float] = None) -> None:
    """Runs ``nodes`` until ``duration`` seconds pass (forever if None), SIGINT/SIGTERM,
    ``request_stop()`` or an on_miss "stop".

    ``tick_rate`` (Hz) is the highest rate a node of this run may have (a faster one
    raises ValueError). ``rt=True`` locks the process's memory (mlockall) and makes a
    refused priority, core or memory lock a NodeError before any tick; without it a
    refusal is one RuntimeWarning and the run goes on. ``watchdog_ms`` is the watchdog
    of every node that sets none (0 or None: none).
    """
    ordered = _check(nodes, duration, tick_rate, rt, watchdog_ms)
    default_watchdog = watchdog_ms / 1e3 if watchdog_ms else None
    _Run(ordered, duration, rt, default_watchdog).run()


class _Run:
    """One call of run(): its nodes, threads, stop flag and first fatal failure."""

    def __init__(self, ordered: list[Node], duration: Optional[float], rt: bool,
                 default_watchdog: Optional[float]) -> None:
        self.ordered = ordered
        self.duration = duration
        self.rt = rt
        self.default_watchdog = default_watchdog
        self.stop = threading.Event()
        self.failure: Optional[NodeError] = None
        self.escaped: Optional[BaseException] = None  # a BaseException a tick raised in a node's own thread
        self.failure_lock = threading.Lock()
        self.threads: dict[str, int] = {}  # node name -> ident of the thread ticking it
        self.ticking = False  # the main thread is inside the rounds (SIGTERM then interrupts it)

    def request_stop(self) -> None:
        self.stop.set()

    def fail(self, error: NodeError) -> None:
        with self.failure_lock:
            if self.failure is None:
                self.failure = error
        self.stop.set()

    # ------------------------------------------------------------------ the whole run
    def run(self) -> None:
        in_main = threading.current_thread() is threading.main_thread()
        previous_term = None

        def on_sigterm(signum, frame):
            self.stop.set()
            if self.ticking:  # interrupt a tick that waits (e.g. in recv(timeout=...)), as Ctrl-C does
                self.ticking = False
                raise _Terminated()

        if in_main:
            previous_term = signal.signal(signal.SIGTERM, on_sigterm)
        old_slack = _core._timer_slack_ns()
        _core._set_timer_slack_ns(1000)
        started: list[Node] = []
        locked = False
        claimed: list[Node] = []
        _ACTIVE.append(self)
        try:
            with _CLAIM_LOCK:  # check and claim together: no node ticks in two runs at once
                for node in self.ordered:
                    if node._run is not None:
                        raise ValueError(f"node {node.name!r} is already running in another run()")
                for node in self.ordered:
                    node._run = self
                    claimed.append(node)
            for node in self.ordered:  # discovery lists the nodes while they run (horus.nodes())
                node._controller = controller_for(node, self.default_watchdog)
                node._controller.list(node.name, node.rate, node.order, node.subs, node.pubs, node.priority or 0,
                                      -1 if node.core is None else node.core, node.own_thread)
            if self.rt and not _core._memory_locked():  # the memory stays in RAM while the run runs
                why = _core._lock_memory()
                if why:
                    raise NodeError(self.ordered[0].name, "rt", PermissionError(f"run(rt=True): {why}"))
                locked = True  # (a program that locked its memory itself keeps its lock)
            for node in self.ordered:
                if node.init is not None:
                    try:
                        node.init(node)
                    except Exception as exc:  # surfaced with the node's name
                        self.fail(_node_error(node, "init", exc))
                        break
                started.append(node)
            if self.failure is None:
                self.ticking = True
                try:
                    self._run_threads()
                finally:
                    self.ticking = False
        except (KeyboardInterrupt, _Terminated, _WatchdogStop) as exc:
            self.stop.set()  # Ctrl-C, SIGTERM or a watchdog stop: a clean stop
            if not isinstance(exc, _WatchdogStop):
                for outer in _ACTIVE:  # a signal during a nested run stops the runs around it too
                    outer.stop.set()
            if getattr(self, "_ready", None) is not None:
                self._ready.abort()  # threads still waiting to start give up
            self._join_threads()
        finally:
            self._join_threads()  # (a second Ctrl-C must not let shutdown run beside a tick)
            previous_int = self._defer_sigint() if in_main else None
            for node in started:
                if node.shutdown is None:
                    continue
                try:
                    node.shutdown(node)
                except Exception as exc:
                    if self.failure is None:
                        self.failure = _node_error(node, "shutdown", exc)
                except (KeyboardInterrupt, _Terminated):
                    self.stop.set()  # already stopping: every other shutdown still runs
            if previous_int is not None:
                signal.signal(signal.SIGINT, previous_int)
            for node in claimed:
                if node._controller is not None:
                    node._controller.close()
                node._run = None
                node._close_event_loop()
            if locked:
                _core._unlock_memory()
            _core._set_timer_slack_ns(old_slack if old_slack > 0 else 50_000)
            if in_main:
                signal.signal(signal.SIGTERM, previous_term)
            _ACTIVE.remove(self)
        if self.failure is not None:
            raise self.failure
        if self.escaped is not None:
            raise self.escaped

    def _defer_sigint(self) -> Any:
        """While shutdowns run, a first Ctrl-C only says so (every shutdown still runs); a second
        one interrupts the shutdown as usual. Returns the handler to put back."""
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:
            return None  # the program handles Ctrl-C itself
        presses = [0]

        def on_sigint(signum, frame):
            presses[0] += 1
            if presses[0] > 1:
                raise KeyboardInterrupt
            sys.stderr.write("horus.run: shutting down the nodes (Ctrl-C again to interrupt)\n")

        signal.signal(signal.SIGINT, on_sigint)
        return previous

    # ------------------------------------------------------------------ threads
    def _run_threads(self) -> None:
        # An async node cannot run its loop in a thread whose event loop is running (run() called
        # from inside asyncio.run): it gets a thread of its own there.
        loop_here = _loop_running()
        own = [n for n in self.ordered if n.own_thread or (n.is_async and loop_here)]
        shared = [n for n in self.ordered if n not in own]
        self._workers: list[threading.Thread] = []
        ready = threading.Barrier(len(own) + 1) if own else None
        self._ready = ready
        self._done: list[threading.Event] = []
        for node in own:
            done = threading.Event()
            t = threading.Thread(target=self._own_thread, args=(node, ready, done), name=f"horus.node.{node.name}",
                                 daemon=True)
            self._workers.append(t)
            self._done.append(done)
            t.start()
        if ready is not None:
            ready.wait()  # every thread has applied (or been refused) its priority and core
        if self.stop.is_set():
            self._join_threads()
            return
        watchdog = None
        if any(n._controller.watchdog_ns > 0 for n in self.ordered):
            watchdog = threading.Thread(target=self._watch, name="horus.watchdog", daemon=True)
            watchdog.start()
        main_ident = threading.get_ident()
        for n in shared:
            self.threads[n.name] = main_ident
        try:
            if shared:
                _Group(self, shared).run()
            else:
                while not self.stop.is_set() and not all(d.is_set() for d in self._done):
                    self.stop.wait(0.05)
        finally:
            self.stop.set()  # the run is over for every thread
            self._join_threads()
            if watchdog is not None:
                while watchdog.is_alive():
                    try:
                        watchdog.join(0.05)
                    except (KeyboardInterrupt, _Terminated):
                        pass

    def _join_threads(self) -> None:
        """Waits for every node thread; a Ctrl-C or SIGTERM meanwhile only sets the stop again.
        (Each thread sets its own event last: an interrupted Thread.join can make is_alive()
        report a running thread as finished on CPython 3.11.)"""
        for done, t in zip(getattr(self, "_done", []), getattr(self, "_workers", [])):
            while not done.is_set():
                try:
                    done.wait(0.05)
                except (KeyboardInterrupt, _Terminated):
                    self.stop.set()
            try:
                t.join(1.0)  # done is its last act: the OS thread is gone right after
            except (KeyboardInterrupt, _Terminated):
                self.stop.set()

    def _own_thread(self, node: Node, ready: threading.Barrier, done: threading.Event) -> None:
        try:
            self._own_thread_body(node, ready)
        finally:
            done.set()

    def _own_thread_body(self, node: Node, ready: threading.Barrier) -> None:
        self.threads[node.name] = threading.get_ident()
        _core._set_timer_slack_ns(1000)
        try:
            self._apply_realtime(node)
        finally:
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return  # the run stopped before the first tick
        try:
            _Group(self, [node]).run()
        except (_WatchdogStop, KeyboardInterrupt, _Terminated):
            self.stop.set()  # a clean stop, as in the calling thread
        except BaseException as exc:  # SystemExit & co. from a tick: the run stops, run() re-raises it
            with self.failure_lock:
                if self.escaped is None:
                    self.escaped = exc
            self.stop.set()

    def _apply_realtime(self, node: Node) -> None:
        for what, value, call in (("priority", node.priority, _core._set_fifo_priority),
                                  ("core", node.core, _core._pin_to_core)):
            if value is None:
                continue
            why = call(value)
            if not why:
                continue
            if self.rt:
                self.fail(NodeError(node.name, "rt", PermissionError(f"{why} (run with rt=True)")))
            else:
                warnings.warn(f"node {node.name!r}: {why}; the node runs without it", RuntimeWarning, stacklevel=2)
                node.log_warning(f"{why}; the node runs without it")

    # ------------------------------------------------------------------ watchdog
    def _watch(self) -> None:
        smallest = min(n._controller.watchdog_ns for n in self.ordered if n._controller.watchdog_ns > 0)
        poll = min(max(smallest / 4e9, 0.001), 0.1)
        while not self.stop.wait(poll):
            now = time.monotonic_ns()
            for node in self.ordered:
                c = node._controller
                if not c.watchdog_check(now):
                    continue
                stop = node.on_miss == "stop"
                node.log_error(f"a tick has not returned after {(now - c.in_tick_since) / 1e6:.1f} ms "
                               f"(watchdog {c.watchdog_ns / 1e6:.1f} ms)"
                               + ("; on_miss = stop: stopping the run" if stop else ""))
                if stop:
                    self.stop.set()
                    self._interrupt(self.threads.get(node.name))

    @staticmethod
    def _interrupt(ident: Optional[int]) -> None:
        """Ends the tick running in thread ``ident``: the main thread as Ctrl-C does (that
        also cuts short a sleep or a wait), another thread with an exception raised at its
        next Python instruction (a call into C code returns first)."""
        if ident is None:
            return
        if ident == threading.main_thread().ident and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.pthread_kill(ident, signal.SIGINT)
        else:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(_WatchdogStop))


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def _node_error(node: Node, phase: str, exc: BaseException, detail: str = "") -> NodeError:
    err = NodeError(node.name, phase, exc, detail)
    err.__cause__ = exc
    return err


class _Group:
    """run_rounds' environment for the nodes one thread ticks: the monotonic clock, the
    nodes' ticks through their TickControllers, a wait that a stop cuts short."""

    def __init__(self, run: _Run, nodes: list[Node]) -> None:
        self.run_state = run
        self.nodes = nodes
        self.stop = run.stop
        self.spin_ns = _core._rt_spin_ns() if run.rt else 0

    def run(self) -> None:
        _schedule.run_rounds([n.period_ns for n in self.nodes], self.run_state.duration, self)

    def now(self) -> int:
        return time.monotonic_ns()

    def stopped(self) -> bool:
        return self.stop.is_set()

    def ticked(self, i: int, start: int, after: int, overrun: bool) -> None:
        pass  # the TickController counted it

    def sleep_until(self, t: int) -> None:
        # With rt the last spin_ns before t poll the clock (a sleep wakes tens of us late).
        now = time.monotonic_ns()
        if self.spin_ns and t - now <= self.spin_ns:
            while now < t and not self.stop.is_set():
                now = time.monotonic_ns()
            return
        delay = (t - self.spin_ns - now) / 1e9
        if delay > 0.002:
            self.stop.wait(delay)  # wakes at once on a stop
        elif delay > 0:
            time.sleep(delay)

    def tick(self, i: int, due: int) -> int:
        node = self.nodes[i]
        c = node._controller
        g = c.gate(time.monotonic_ns())
        if g > _G_RESTART:
            return _schedule.DROPPED
        if g == _G_RESTART:
            try:
                if node.init is not None:
                    node.init(node)
            except Exception as exc:
                return self._failed(node, "init", exc)
            c.restarted()
            node.log_info(f"restarted: init ran again (restart {c.restarts} of {node.failure_policy.max_restarts})")
        start = time.monotonic_ns()
        c.started(due, start)
        try:
            node.tick(node)
        except Exception as exc:
            return self._failed(node, "tick", exc)
        end = time.monotonic_ns()
        v = c.finished(due, start, end)
        if v == _V_OK:
            return _schedule.RAN
        k = c.take_miss_report(end)
        if k:
            node.log_warning(f"{k} tick{'s' if k > 1 else ''} missed the deadline of {c.deadline_ns / 1e3:.1f} us "
                             f"(the latest ended {(end - due) / 1e3:.1f} us after it was due; on_miss = {node.on_miss})")
        if v == _V_SAFE_MODE:
            try:
                node.safe_mode(node)
            except Exception as exc:
                return self._failed(node, "safe_mode", exc)
        elif v == _V_STOP:
            node.log_error(f"a tick ended {(end - due) / 1e3:.1f} us after it was due, past the deadline of "
                           f"{c.deadline_ns / 1e3:.1f} us; on_miss = stop: stopping the run")
            self.stop.set()
            return _schedule.STOP
        return _schedule.RAN

    def _failed(self, node: Node, phase: str, exc: Exception) -> int:
        if node.on_error is not None:
            try:
                node.on_error(node, exc)
            except Exception as hook_exc:  # the hook's own failure is logged, the tick's is what counts
                node.log_error(f"on_error raised {type(hook_exc).__name__}: {describe(hook_exc)}")
        c = node._controller
        now = time.monotonic_ns()
        action = c.failed(now)
        fp = node.failure_policy
        if action == _F_FATAL:
            self.run_state.fail(_node_error(node, phase, exc))
            return _schedule.STOP
        if action == _F_EXHAUSTED:
            self.run_state.fail(_node_error(node, phase, exc,
                                            f" (failure_policy restart: all {fp.max_restarts} restarts used)"))
            return _schedule.STOP
        k = c.take_failure_report(now)
        if k:
            text = f"{phase} raised {type(exc).__name__}: {describe(exc)}"
            if k > 1:
                text += f" ({k} failures since the last report)"
            if action == _F_RESTART:
                text += (f"; restarting after {min(float(fp.backoff) * 2.0 ** min(c.restarts - 1, 60), 1e6):g} s "
                         f"(restart {c.restarts} of {fp.max_restarts})")
            elif action == _F_SUPPRESSED:
                text += f"; {fp.max_failures} failures in a row: not ticking for {fp.cooldown:g} s"
            else:
                text += f"; failure_policy = {fp.kind}: going on"
            node.log_error(text)
        return _schedule.DROPPED
