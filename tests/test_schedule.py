"""horus._schedule (the scheduling policy of horus.run) against the shared table
tests/data/schedule_cases.json, which cpp/tests/test_schedule.cpp checks the C++
horus::schedule against too. No sleeping: runs use a virtual clock.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from horus import Node, _schedule

CASES = json.loads((Path(__file__).parent / "data" / "schedule_cases.json").read_text())


def num(v):
    """A table number; 'nan', 'inf' and '-inf' are strings in the JSON."""
    return float(v) if isinstance(v, str) else v


def cases(section):
    return pytest.mark.parametrize("c", CASES[section], ids=lambda c: c.get("case", json.dumps(c)))


def noop(node):
    pass


@cases("rate_in_range")
def test_rate_in_range(c):
    rate = num(c["rate_hz"])
    assert _schedule.rate_in_range(rate) is c["expect"]
    if c["expect"]:
        assert Node(name="n", tick=noop, rate=rate).rate == rate
    else:  # Node construction applies the same range and names the value and the range
        with pytest.raises(ValueError, match=r"rate = .* Hz is out of range; expected 1e-06 <= rate <= 1e\+06 Hz") as e:
            Node(name="n", tick=noop, rate=rate)
        assert repr(rate) in str(e.value)


@cases("period_ns")
def test_period_ns(c):
    assert _schedule.period_ns(num(c["rate_hz"])) == c["expect"]
    assert Node(name="n", tick=noop, rate=num(c["rate_hz"])).period_ns == c["expect"]


@cases("end_ns")
def test_end_ns(c):
    duration = None if c["duration_s"] is None else num(c["duration_s"])
    assert _schedule.end_ns(c["start_ns"], duration) == c["expect"]


@cases("tick_order")
def test_tick_order(c):
    assert _schedule.tick_order(c["orders"]) == c["expect"]


@cases("next_to_tick")
def test_next_to_tick(c):
    assert _schedule.next_to_tick(c["due_ns"], c["now_ns"], c["from"]) == c["expect"]


@cases("overran")
def test_overran(c):
    assert _schedule.overran(c["start_ns"], c["after_ns"], c["period_ns"]) is c["expect"]


@cases("next_due_ns")
def test_next_due_ns(c):
    assert _schedule.next_due_ns(c["due_ns"], c["period_ns"], c["after_ns"]) == c["expect"]


@cases("wake_ns")
def test_wake_ns(c):
    assert _schedule.wake_ns(c["due_ns"], c["end_ns"]) == c["expect"]


class VirtualTime:
    """run_rounds' environment on a virtual clock: time moves only when a tick takes
    time (tick_ns, the last duration repeating) or when the loop sleeps."""

    def __init__(self, nodes):
        self.nodes = nodes  # in tick order
        self.t = 0
        self.trace: list[str] = []
        self.count = [0] * len(nodes)
        self.overruns = {n["name"]: 0 for n in nodes}

    def now(self):
        return self.t

    def stopped(self):
        return len(self.trace) > 10_000  # a runaway loop fails the case instead of hanging

    def tick(self, i, due):
        node = self.nodes[i]
        self.trace.append(f"{node['name']}@{self.t}")
        durations = node["tick_ns"]
        self.t += durations[min(self.count[i], len(durations) - 1)]
        self.count[i] += 1
        return True

    def ticked(self, i, start, after, overrun):
        self.overruns[self.nodes[i]["name"]] += overrun

    def sleep_until(self, t):
        self.t = max(self.t, t)


@cases("runs")
def test_run(c):
    order = _schedule.tick_order([n["order"] for n in c["nodes"]])
    nodes = [c["nodes"][i] for i in order]
    env = VirtualTime(nodes)
    periods = [_schedule.period_ns(num(n["rate_hz"])) for n in nodes]
    _schedule.run_rounds(periods, num(c["duration_s"]), env)
    assert env.trace == c["ticks"]
    assert env.overruns == c["overruns"]

