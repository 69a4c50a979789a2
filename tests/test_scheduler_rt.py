"""horus.Node's real-time options and methods under horus.run: budget and deadline misses and
each on_miss, failure policies (restart counts and backoff, skip, ignore, fatal, on_error),
priority and core (granted as root; refused without CAP_SYS_NICE: one warning, or NodeError
with rt=True), the watchdog (report, and a stop that interrupts a stuck tick), own threads,
async ticks, request_stop, node logs (the "horus.log" topic, Python logging, `horus log`),
has_msg and recv_all, tick_rate, and the statistics in discovery (`horus node info`).

Misses and failures are provoked on purpose with sleeping or raising ticks. The margins are
tens of milliseconds: this shared 2-core VM sometimes wakes a sleeper milliseconds late.
The rules themselves are checked on integer time in cpp/tests/test_tick_policy.cpp (the
same C++ code Python calls).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import horus
from horus import FailurePolicy, Node, NodeError

from conftest import SESSION_NAMESPACE

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"rt_{tag}_{os.getpid()}_{next(_counter)}"


def noop(node):
    pass


# ----------------------------------------------------------------- arguments
@pytest.mark.parametrize("kw, match", [
    ({"budget": 0}, r"budget = 0 s is out of range; expected 0 < budget <= 1e6 s"),
    ({"budget": -1e-3}, r"budget = -0.001 s is out of range"),
    ({"deadline": float("nan")}, r"deadline = nan s is out of range"),
    ({"deadline": 2e6}, r"deadline = 2000000.0 s is out of range"),
    ({"watchdog": float("inf")}, r"watchdog = inf s is out of range"),
    ({"on_miss": "explode"}, r"on_miss = 'explode' is not a miss policy; expected one of 'warn', 'skip', "),
    ({"on_miss": "safe_mode"}, r"on_miss = 'safe_mode' needs a safe_mode callback"),
    ({"failure_policy": "retry"}, r"failure_policy = 'retry' is not a failure policy"),
    ({"priority": 0}, r"priority = 0 is out of range; expected 1 <= priority <= 99"),
    ({"priority": 100}, r"priority = 100 is out of range"),
    ({"core": -1}, r"core = -1 is out of range; expected 0 <= core <= 1023"),
    ({"core": 1024}, r"core = 1024 is out of range"),
])
def test_bad_values_name_the_argument_the_value_and_the_range(kw, match):
    with pytest.raises(ValueError, match=match):
        Node(name="n", tick=noop, **kw)


@pytest.mark.parametrize("kw", [{"budget": "1ms"}, {"deadline": True}, {"watchdog": [1]}, {"priority": 5.0},
                                {"core": "0"}, {"on_miss": 3}, {"failure_policy": 2}, {"compute": 1},
                                {"safe_mode": 5}, {"on_error": "x"}])
def test_bad_types_are_type_errors(kw):
    with pytest.raises((TypeError, ValueError)) as exc:
        Node(name="n", tick=noop, **kw)
    assert repr(next(iter(kw.values()))) in str(exc.value)


@pytest.mark.parametrize("kw, match", [
    ({"kind": "x"}, "failure_policy = 'x'"), ({"max_restarts": -1}, "max_restarts = -1"),
    ({"max_failures": 0}, "max_failures = 0"), ({"backoff": -0.1}, "backoff = -0.1 s"),
    ({"cooldown": float("nan")}, "cooldown = nan s"), ({"max_restarts": 1.5}, "max_restarts must be an int"),
])
def test_failure_policy_objects_are_checked(kw, match):
    with pytest.raises((TypeError, ValueError), match=match):
        FailurePolicy(**kw)


def test_run_checks_tick_rate_rt_and_watchdog_ms():
    fast = Node(name=unique("fast"), tick=noop, rate=2000)
    with pytest.raises(ValueError, match=r"rate = 2000 Hz is above the run's tick_rate = 1000 Hz"):
        horus.run(fast, duration=0.1, tick_rate=1000)
    with pytest.raises(ValueError, match=r"tick_rate = 0 Hz is out of range"):
        horus.run(fast, duration=0.1, tick_rate=0)
    with pytest.raises(TypeError, match="rt must be a bool"):
        horus.run(fast, duration=0.1, rt="yes")
    with pytest.raises(ValueError, match=r"watchdog_ms = -5 is out of range"):
        horus.run(fast, duration=0.1, watchdog_ms=-5)
    horus.run(fast, duration=0.05, tick_rate=2000)  # at the limit is fine


def test_the_reference_spellings_are_accepted():
    # Ported code: from horus import us, ms, Miss; budget=300 * us; run(..., tick_rate=1000, rt=False)
    n = Node(tick=noop, rate=100, order=0, budget=300 * horus.us, deadline=9 * horus.ms, on_miss=horus.Miss.SKIP,
             failure_policy="restart", watchdog=0.5)
    assert n.budget == pytest.approx(300e-6) and n.deadline == pytest.approx(9e-3) and n.on_miss == "skip"
    assert n.failure_policy == FailurePolicy.restart()
    horus.run(n, duration=0.05, tick_rate=1000, rt=False)
    assert n.stats.ticks >= 1


# ----------------------------------------------------------------- deadlines and on_miss
def test_deadline_misses_and_budget_overruns_are_counted_and_warned(caplog):
    ticks = [0]

    def tick(node):
        ticks[0] += 1
        if ticks[0] % 2 == 0:
            time.sleep(0.04)

    n = Node(name=unique("late"), tick=tick, rate=10, budget=0.02)
    with caplog.at_level(logging.WARNING, logger="horus.node"):
        horus.run(n, duration=1.0)
    s = n.stats
    assert ticks[0] >= 8
    assert ticks[0] // 2 <= s.misses <= ticks[0] // 2 + 1
    assert s.budget_overruns == ticks[0] // 2
    assert s.max_tick_s >= 0.04 and s.p99_tick_s >= 0.04
    warned = [r for r in caplog.records if r.name == f"horus.node.{n.name}"]
    assert warned and "missed the deadline of 20000.0 us" in warned[0].getMessage()
    assert len(warned) <= 2  # at most one report a second


def test_on_miss_skip_drops_the_next_slot():
    ticks = [0]

    def tick(node):
        ticks[0] += 1
        if ticks[0] == 3:
            time.sleep(0.04)

    n = Node(name=unique("skip"), tick=tick, rate=20, deadline=0.02, on_miss="skip")
    horus.run(n, duration=0.5)
    assert n.stats.misses == 1 and n.stats.skipped == 1


def test_on_miss_safe_mode_calls_the_callback_until_a_tick_meets_its_deadline():
    ticks, calls, seen = [0], [0], []

    def tick(node):
        ticks[0] += 1
        if 3 <= ticks[0] <= 5:
            time.sleep(0.04)
        seen.append(node.in_safe_mode)

    def safe(node):
        calls[0] += 1
        assert node.in_safe_mode

    n = Node(name=unique("safe"), tick=tick, rate=10, deadline=0.02, on_miss="safe_mode", safe_mode=safe)
    horus.run(n, duration=0.75)
    assert calls[0] == 3
    assert n.stats.safe_mode_entries == 1
    # in safe mode from the first missed tick (3rd) until the 6th met its deadline
    assert seen[:6] == [False, False, False, True, True, True] and not seen[6]
    assert not n.in_safe_mode


def test_on_miss_stop_stops_the_run_cleanly():
    ticks, shut = [0], []

    def tick(node):
        ticks[0] += 1
        if ticks[0] == 4:
            time.sleep(0.06)

    n = Node(name=unique("stop"), tick=tick, rate=10, deadline=0.03, on_miss="stop",
             shutdown=lambda node: shut.append(1))
    t0 = time.monotonic()
    horus.run(n, duration=10)
    assert time.monotonic() - t0 < 3 and ticks[0] == 4 and shut == [1]


# ----------------------------------------------------------------- failure policies
def test_restart_reruns_init_with_doubling_backoff_and_is_fatal_past_the_limit():
    inits, ticks, errors = [], [0], []

    def tick(node):
        ticks[0] += 1
        raise RuntimeError("encoder timeout")

    n = Node(name=unique("flaky"), tick=tick, rate=1000, init=lambda node: inits.append(time.monotonic()),
             failure_policy=FailurePolicy.restart(max_restarts=3, backoff=0.02),
             on_error=lambda node, exc: errors.append(str(exc)))
    with pytest.raises(NodeError, match=r"encoder timeout \(failure_policy restart: all 3 restarts used\)") as e:
        horus.run(n, duration=10)
    assert e.value.node == n.name and isinstance(e.value.__cause__, RuntimeError)
    assert len(inits) == 4 and ticks[0] == 4 and errors == ["encoder timeout"] * 4
    assert n.stats.restarts == 3 and n.stats.errors == 4
    gaps = [b - a for a, b in zip(inits, inits[1:])]
    assert gaps[0] >= 0.02 and gaps[1] >= 0.04 and gaps[2] >= 0.08


def test_a_restart_whose_init_raises_counts_as_the_next_failure():
    state = {"inits": 0}

    def init(node):
        state["inits"] += 1
        if state["inits"] >= 2:
            raise OSError("device busy")

    n = Node(name=unique("reinit"), tick=lambda node: 1 / 0, rate=1000, init=init,
             failure_policy=FailurePolicy.restart(max_restarts=2, backoff=0.0))
    with pytest.raises(NodeError, match="device busy") as e:
        horus.run(n, duration=10)
    assert e.value.phase == "init" and state["inits"] == 3


def test_skip_drops_failing_ticks_and_suppresses_after_max_failures():
    a, b = [0], [0]

    def odd(node):
        a[0] += 1
        if a[0] % 2:
            raise ValueError("odd")

    def always(node):
        b[0] += 1
        raise ValueError("always")

    s1 = Node(name=unique("odd"), tick=odd, rate=200, failure_policy="skip")
    s2 = Node(name=unique("broken"), tick=always, rate=1000, failure_policy=FailurePolicy.skip(5, cooldown=10))
    horus.run(s1, s2, duration=0.4)
    assert a[0] >= 30 and s1.stats.errors == (a[0] + 1) // 2 and s1.stats.ticks == a[0] // 2
    assert b[0] == 5 and s2.stats.skipped >= 100  # suppressed for 10 s after 5 failures in a row


def test_ignore_logs_and_goes_on(caplog):
    b = [0]

    def always(node):
        b[0] += 1
        raise KeyError("gone")

    n = Node(name=unique("ign"), tick=always, rate=200, failure_policy="ignore")
    with caplog.at_level(logging.ERROR, logger="horus.node"):
        horus.run(n, duration=0.3)
    assert b[0] >= 30 and n.stats.errors == b[0]
    logs = [r.getMessage() for r in caplog.records if r.name == f"horus.node.{n.name}"]
    assert logs and "tick raised KeyError" in logs[0] and "failure_policy = ignore: going on" in logs[0]
    assert len(logs) <= 2  # at most one report a second, with the count


def test_fatal_is_the_default():
    n = Node(name=unique("fatal"), tick=lambda node: [][1], rate=100)
    with pytest.raises(NodeError, match="raised IndexError in tick"):
        horus.run(n, duration=5)


# ----------------------------------------------------------------- threads, priority, core
def test_priority_and_core_apply_to_the_nodes_own_thread():
    seen = {}

    def tick(node):
        seen["thread"] = threading.get_ident()
        seen["policy"] = os.sched_getscheduler(0)
        seen["prio"] = os.sched_getparam(0).sched_priority
        seen["cpus"] = os.sched_getaffinity(0)

    n = Node(name=unique("motor"), tick=tick, rate=100, priority=20, core=0)
    assert n.own_thread
    horus.run(n, duration=0.1, rt=os.geteuid() == 0)
    assert seen["thread"] != threading.get_ident()
    assert seen["cpus"] == {0}
    if os.geteuid() == 0:
        assert seen["policy"] == os.SCHED_FIFO and seen["prio"] == 20
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the caller's thread is left alone


REFUSED = r"""
import ctypes, os, resource, sys, warnings
resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
if os.geteuid() == 0:  # drop CAP_SYS_NICE (capget/capset, _LINUX_CAPABILITY_VERSION_3)
    libc = ctypes.CDLL(None, use_errno=True)
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    assert libc.syscall(125, hdr, data) == 0
    data[0] &= ~(1 << 23); data[1] &= ~(1 << 23)
    assert libc.syscall(126, hdr, data) == 0
import horus
ticks = [0]
def tick(node): ticks[0] += 1
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    horus.run(horus.Node(name="prio", tick=tick, rate=100, priority=50), duration=0.2)
print("warned", [str(x.message) for x in w if x.category is RuntimeWarning])
print("ticks", ticks[0])
rt_ticks = [0]
try:
    horus.run(horus.Node(name="prio_rt", tick=lambda n: rt_ticks.__setitem__(0, rt_ticks[0] + 1), rate=100,
                         priority=50), duration=0.2, rt=True)
    print("no error")
except horus.NodeError as e:
    print("error", e.phase, str(e))
print("rt_ticks", rt_ticks[0])
"""


def test_a_refused_priority_warns_once_and_runs_or_with_rt_fails_before_any_tick(run_child):
    out = run_child(REFUSED)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    warned = eval(lines["warned"])
    assert len(warned) == 1 and "SCHED_FIFO priority 50 refused" in warned[0] and "RLIMIT_RTPRIO" in warned[0]
    assert int(lines["ticks"]) >= 5
    assert lines["error"].startswith("rt node 'prio_rt': SCHED_FIFO priority 50 refused")
    assert int(lines["rt_ticks"]) == 0


def test_a_slow_shared_node_does_not_delay_a_node_in_its_own_thread():
    fast = [0]
    slow = Node(name=unique("slow"), tick=lambda node: time.sleep(0.04), rate=10)

    def quick(node):
        fast[0] += 1

    q = Node(name=unique("quick"), tick=quick, rate=200, compute=True)
    horus.run(slow, q, duration=0.5)
    assert fast[0] >= 70  # 100 slots; one thread would give about 4 per slow tick
    assert q.stats.jitter_p50_s < 0.01  # its ticks start on time (the count above is the proof)


def test_an_async_tick_is_awaited_each_slot():
    got = []

    async def tick(node):
        await asyncio.sleep(0.001)
        got.append(asyncio.get_running_loop())

    n = Node(name=unique("aio"), tick=tick, rate=50)
    assert n.is_async
    horus.run(n, duration=0.2)
    assert len(got) >= 5 and len(set(map(id, got))) == 1  # one event loop per node and run


# ----------------------------------------------------------------- watchdog
def test_the_watchdog_reports_a_stuck_tick(caplog):
    n = Node(name=unique("stuck"), tick=lambda node: time.sleep(0.15), rate=5, watchdog=0.03)
    with caplog.at_level(logging.ERROR, logger="horus.node"):
        horus.run(n, duration=0.1)
    assert n.stats.watchdog_expired == 1
    assert any("has not returned after" in r.getMessage() for r in caplog.records)


def test_the_watchdog_with_on_miss_stop_interrupts_a_stuck_tick_in_the_main_thread():
    shut = []
    n = Node(name=unique("hang"), tick=lambda node: time.sleep(30), rate=1, on_miss="stop",
             shutdown=lambda node: shut.append(1))
    t0 = time.monotonic()
    horus.run(n, duration=60, watchdog_ms=50)
    assert time.monotonic() - t0 < 5 and shut == [1] and n.stats.watchdog_expired == 1


def test_the_watchdog_with_on_miss_stop_interrupts_python_code_in_an_own_thread():
    def spin(node):
        while True:
            pass

    other = [0]
    n = Node(name=unique("spin"), tick=spin, rate=1, on_miss="stop", watchdog=0.05, compute=True)
    m = Node(name=unique("other"), tick=lambda node: other.__setitem__(0, other[0] + 1), rate=100)
    t0 = time.monotonic()
    horus.run(n, m, duration=60)
    assert time.monotonic() - t0 < 5 and other[0] >= 1


# ----------------------------------------------------------------- methods
def test_request_stop_ends_the_run_and_shutdown_runs():
    ticks, shut = [0], []

    def tick(node):
        ticks[0] += 1
        if ticks[0] == 5:
            node.request_stop()

    n = Node(name=unique("once"), tick=tick, rate=1000, shutdown=lambda node: shut.append(1))
    horus.run(n, duration=10)
    assert ticks[0] == 5 and shut == [1]
    n.request_stop()  # outside a run: nothing


def test_logs_go_to_the_log_topic_and_to_python_logging(caplog):
    logs = horus.Topic(horus.msg.Log, "horus.log")
    name = unique("talker")

    def tick(node):
        node.log_debug("dbg")
        node.log_info("hello")
        node.log_warning("careful")
        node.log_error("bad")
        node.request_stop()

    with caplog.at_level(logging.DEBUG, logger="horus.node"):
        horus.run(Node(name=name, tick=tick), duration=5)
    got = []
    while (m := logs.try_recv()) is not None:
        if m.name == name:
            got.append((m.level, m.message, m.pid))
    assert got == [(10, "dbg", os.getpid()), (20, "hello", os.getpid()), (30, "careful", os.getpid()),
                   (40, "bad", os.getpid())]
    py = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == f"horus.node.{name}"]
    assert py == [(10, "dbg"), (20, "hello"), (30, "careful"), (40, "bad")]
    long = Node(name=name, tick=noop)
    long.log_info("x" * 5000 + "é")  # cut at 1023 bytes on the topic, whole in logging
    m = logs.try_recv()
    assert m is not None and len(m.message.encode()) == 1023


def test_has_msg_and_recv_all():
    topic = unique("cmd")
    pub = horus.Topic(horus.CmdVel, topic)
    seen = {}

    def tick(node):
        seen["had"] = node.has_msg(topic)
        seen["all"] = [m.linear for m in node.recv_all(topic)]
        seen["after"] = node.has_msg(topic)
        node.request_stop()

    n = Node(name=unique("reader"), tick=tick, subs=[topic])
    for i in range(7):
        pub.send(horus.CmdVel(linear=float(i), angular=0.0))
    horus.run(n, duration=5)
    assert seen == {"had": True, "all": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "after": False}


def test_stats_accumulate_over_runs_and_show_jitter():
    n = Node(name=unique("acc"), tick=noop, rate=200)
    horus.run(n, duration=0.2)
    first = n.stats.ticks
    horus.run(n, duration=0.2)
    d = n.stats.as_dict()
    assert d["ticks"] > first >= 20
    assert 0 <= d["jitter_p50_s"] <= d["jitter_p99_s"] <= d["jitter_max_s"] < 1.0
    assert set(d) >= {"misses", "budget_overruns", "skipped", "restarts", "watchdog_expired", "safe_mode_entries",
                      "p99_tick_s", "mean_tick_s"}
    with pytest.raises(AttributeError, match="NodeStats has no field 'nope'"):
        n.stats.nope


def test_a_node_cannot_run_in_two_runs_at_once():
    inner = {}

    def tick(node):
        try:
            horus.run(node, duration=0.01)
        except ValueError as e:
            inner["error"] = str(e)
        node.request_stop()

    n = Node(name=unique("twice"), tick=tick)
    horus.run(n, duration=5)
    assert "is already running in another run()" in inner["error"]


# ----------------------------------------------------------------- discovery and the CLI
NODE_IN_CHILD = r"""
import sys, threading, time
import horus
ticks = [0]
def tick(node):
    ticks[0] += 1
    if ticks[0] == 3:
        time.sleep(0.05)
    if ticks[0] == 5:
        node.log_warning("battery low")
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
print("ready", flush=True)
horus.run(horus.Node(name="rt.driver", tick=tick, rate=50, budget=0.02, on_miss="skip", failure_policy="restart",
                     watchdog=1.0),
          horus.Node(name="rt.stopper", tick=lambda n: stop.is_set() and n.request_stop(), rate=20, priority=10,
                     core=0),
          duration=60)
"""


def test_node_info_and_horus_log_show_the_real_time_facts():
    from _child import Child
    from test_cli import cli, cli_json

    log = subprocess.Popen([sys.executable, "-m", "horus", "log", "--json", "-n", "2", "--level", "warning",
                            "--node", "rt.driver"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "HORUS_NAMESPACE": SESSION_NAMESPACE})
    time.sleep(1.0)  # `horus log` subscribes before the node logs
    child = Child.python(NODE_IN_CHILD, stdin=True)
    try:
        child.expect("ready")
        deadline = time.monotonic() + 20
        while True:
            doc = cli_json("node", "info", "rt.driver", namespace=SESSION_NAMESPACE)
            d = doc["nodes"][0]
            if d["ticks"] >= 10 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert d["misses"] == 1 and d["skipped"] == 1 and d["budget_s"] == pytest.approx(0.02)
        assert d["on_miss"] == "skip" and d["failure_policy"] == "restart" and d["watchdog_s"] == 1.0
        assert d["jitter_max_s"] > 0 and d["p99_tick_s"] > 0 and not d["own_thread"]
        stopper = cli_json("node", "info", "rt.stopper", namespace=SESSION_NAMESPACE)["nodes"][0]
        assert stopper["own_thread"] and stopper["priority"] == 10 and stopper["core"] == 0
        text = cli("node", "info", "rt.driver", namespace=SESSION_NAMESPACE).stdout
        assert "start jitter" in text and "1 (on_miss skip)" in text
        out, err = log.communicate(timeout=20)
        lines = [json.loads(x) for x in out.splitlines()]
        assert [x["node"] for x in lines] == ["rt.driver", "rt.driver"], err
        assert "missed the deadline of 20000.0 us" in lines[0]["message"] and lines[0]["level"] == "warning"
        assert lines[1]["message"] == "battery low"
        line = lines[1]
        assert line["pid"] == child.proc.pid
        child.send_line("stop")
        assert child.wait() == 0, child.stderr
    finally:
        log.kill()
        child.kill()


def test_horus_log_filters_by_node_and_level(run_child):
    code = textwrap.dedent("""
        import horus
        n = horus.Node(name="a", tick=lambda n: None)
        m = horus.Node(name="b", tick=lambda n: None)
        n.log_info("a-info"); m.log_error("b-error"); n.log_error("a-error"); m.log_debug("b-debug")
    """)
    ns = f"log_{os.getpid()}_{next(_counter)}"
    log = subprocess.Popen([sys.executable, "-m", "horus", "log", "--node", "a", "--level", "error", "-n", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "HORUS_NAMESPACE": ns})
    time.sleep(1.0)
    out = run_child(code, namespace=ns)
    assert out.returncode == 0, out.stderr
    stdout, stderr = log.communicate(timeout=20)
    assert log.returncode == 0, stderr
    assert stdout.count("\n") == 1 and "ERROR   a[" in stdout and stdout.rstrip().endswith("]: a-error")
    subprocess.run([sys.executable, "-m", "horus", "clean", ns], env={**os.environ, "HORUS_NAMESPACE": ns},
                   capture_output=True, timeout=60)
