"""The scheduling policy of horus.run, as pure functions of integer nanoseconds.

The C++ twin is cpp/include/horus/schedule.hpp, function for function; both are
checked against one table of cases, tests/data/schedule_cases.json
(tests/test_schedule.py, cpp/tests/test_schedule.cpp).

The policy:

* A node's rate must lie in [MIN_RATE_HZ, MAX_RATE_HZ]; its period is 1e9 / rate
  rounded to whole nanoseconds (1000 ns .. 1e15 ns, exact as an int and a double).
* Nodes tick in tick_order: by ``order``, ties in the order given.
* Every node is first due at the start. A round samples ``now`` once; the nodes
  with due <= now tick, in tick order.
* A tick that ran [start, after] is an overrun iff after - start > period.
* Its next due time is the first slot due + k * period (k >= 1) that is not
  before ``after``: slots already missed are skipped (no catch-up burst), a slot
  at exactly ``after`` is kept, and the grid of slots never drifts.
* Rounds start while now < end; a duration of FOREVER_S or more (or inf, or
  None) has no end.
"""

from __future__ import annotations

import math
from typing import Optional, Protocol, Sequence

MIN_RATE_HZ = 1e-6  # period 1e6 s (11.6 days)
MAX_RATE_HZ = 1e6  # period 1 us
FOREVER_S = 1e9  # about 31.7 years: durations this long never end


def rate_in_range(rate_hz: float) -> bool:
    """True when ``rate_hz`` is a rate a Node accepts (False for NaN and inf)."""
    return MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ


def period_ns(rate_hz: float) -> int:
    """The period of a node with ``rate_hz`` (in range), in whole nanoseconds."""
    return math.floor(1e9 / float(rate_hz) + 0.5)


def end_ns(start_ns: int, duration_s: Optional[float]) -> Optional[int]:
    """When a run started at ``start_ns`` that lasts ``duration_s`` (>= 0) ends; None: never."""
    if duration_s is None or duration_s >= FOREVER_S:
        return None
    return start_ns + math.floor(float(duration_s) * 1e9 + 0.5)


def tick_order(orders: Sequence[int]) -> list[int]:
    """The positions of the nodes with these ``orders``, in the order they tick."""
    return sorted(range(len(orders)), key=lambda i: (orders[i], i))


def next_to_tick(due_ns: Sequence[int], now_ns: int, start: int) -> Optional[int]:
    """The first node at or after position ``start`` that is due at ``now_ns``; None if none is."""
    for i in range(start, len(due_ns)):
        if due_ns[i] <= now_ns:
            return i
    return None


def overran(start_ns: int, after_ns: int, period: int) -> bool:
    """Whether a tick that ran from ``start_ns`` to ``after_ns`` outlasted its period."""
    return after_ns - start_ns > period


def next_due_ns(due_ns: int, period: int, after_ns: int) -> int:
    """The next due time of a node that was due at ``due_ns`` and finished its tick at ``after_ns``."""
    if after_ns <= due_ns + period:
        return due_ns + period  # on time: the next slot
    return due_ns + ((after_ns - due_ns - 1) // period + 1) * period  # late: skip the missed slots


def wake_ns(due_ns: Sequence[int], end: Optional[int]) -> int:
    """When the loop has something to do next: the earliest due time, or the end if sooner."""
    wake = min(due_ns)
    return wake if end is None else min(wake, end)


STOP, RAN, DROPPED = 0, 1, 2  # what Env.tick did (True is RAN, False is STOP)


class Env(Protocol):
    """What run_rounds needs from its caller: a clock, the nodes' ticks, a way to wait."""

    def now(self) -> int: ...  # the clock, in ns

    def stopped(self) -> bool: ...  # polled before each round and tick

    def tick(self, i: int, due: int) -> int: ...  # node i's slot due at ``due``: RAN, DROPPED or STOP

    def ticked(self, i: int, start: int, after: int, overrun: bool) -> None: ...  # after each RAN

    def sleep_until(self, t: int) -> None: ...  # may return early (the loop re-checks)


def run_rounds(periods: Sequence[int], duration_s: Optional[float], env: Env) -> None:
    """The loop of horus.run over an abstract clock, for nodes already in tick order
    with ``periods`` in ns (not empty). horus.run passes the monotonic clock; the
    tests pass a virtual one. A slot the node's policy drops (DROPPED) moves on to
    the next slot like a tick that took no time."""
    start = env.now()
    end = end_ns(start, duration_s)
    due = [start] * len(periods)
    while not env.stopped():
        now = env.now()
        if end is not None and now >= end:
            return
        i = next_to_tick(due, now, 0)
        while i is not None and not env.stopped():
            t0 = env.now()
            outcome = env.tick(i, due[i])
            if outcome == STOP:
                return
            after = env.now()
            if outcome == RAN:
                env.ticked(i, t0, after, overran(t0, after, periods[i]))
            due[i] = next_due_ns(due[i], periods[i], after)
            i = next_to_tick(due, now, i + 1)
        env.sleep_until(wake_ns(due, end))
