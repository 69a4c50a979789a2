"""`horus node list | info` of a node that horus.run() runs in a child process."""

from __future__ import annotations

import re
import time

import pytest

from _child import Child
from conftest import SESSION_NAMESPACE
from test_cli import cli, cli_json

NODE = """
import sys, threading
import horus

stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
cmd = horus.Topic(horus.CmdVel, "nodes.cmd_vel")

def tick(node):
    cmd.send(horus.CmdVel(linear=1.0, angular=0.0))

def watchdog(node):
    if stop.is_set():
        raise KeyboardInterrupt

print("ready", flush=True)
try:
    horus.run(horus.Node(name="nodes.driver", tick=tick, rate=20, order=3, pubs=["nodes.cmd_vel"],
                         subs=["nodes.scan"]),
              horus.Node(name="nodes.watchdog", tick=watchdog, rate=10, order=4))
except KeyboardInterrupt:
    pass
"""


@pytest.fixture(scope="module")
def node():
    child = Child.python(NODE, stdin=True)
    try:
        child.expect("ready", timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until run() has registered the nodes and ticked
            listed = cli_json("node", "list")["nodes"]
            if any(n["name"] == "nodes.driver" and n["ticks"] > 0 for n in listed):
                break
            time.sleep(0.2)
        yield child
        child.send_line("quit")
        assert child.wait() == 0
    finally:
        child.kill()


def test_node_list_json_describes_the_running_nodes(node):
    doc = cli_json("node", "list")
    assert doc["namespace"] == SESSION_NAMESPACE
    mine = [n for n in doc["nodes"] if n["pid"] == node.proc.pid]
    assert [n["name"] for n in mine] == ["nodes.driver", "nodes.watchdog"]
    d = mine[0]
    assert set(d) == {"name", "pid", "language", "rate_hz", "order", "subs", "pubs", "ticks", "overruns", "errors",
                      "mean_tick_s", "max_tick_s", "last_tick_ns", "started_ns", "misses", "budget_overruns",
                      "skipped", "restarts", "watchdog_expired", "safe_mode_entries", "in_safe_mode", "p99_tick_s",
                      "jitter_p50_s", "jitter_p99_s", "jitter_max_s", "budget_s", "deadline_s", "watchdog_s",
                      "on_miss", "failure_policy", "priority", "core", "own_thread"}
    assert (d["on_miss"], d["failure_policy"], d["budget_s"], d["priority"], d["core"], d["own_thread"]) == (
        "warn", "fatal", None, None, None, False)
    assert (d["language"], d["rate_hz"], d["order"], d["subs"], d["pubs"]) == (
        "python", 20.0, 3, ["nodes.scan"], ["nodes.cmd_vel"])
    assert d["ticks"] >= 1 and d["errors"] == 0 and 0 < d["mean_tick_s"] <= d["max_tick_s"] < 1


def test_node_list_table(node):
    lines = cli("node", "list").stdout.splitlines()
    header = lines[0]
    assert header.split() == ["NODE", "PID", "LANGUAGE", "RATE", "ORDER", "TICKS", "OVERRUNS", "MISSES", "ERRORS",
                              "MEAN", "TICK", "MAX", "TICK", "JITTER", "P99"]
    row = next(line for line in lines if line.startswith("nodes.driver "))
    cells = row.split()
    assert cells[:6] == ["nodes.driver", str(node.proc.pid), "python", "20", "Hz", "3"]
    assert row.index("python") == header.index("LANGUAGE")


def test_node_info_and_an_unknown_node(node):
    doc = cli_json("node", "info", "nodes.watchdog")
    assert [(n["name"], n["pid"], n["rate_hz"], n["pubs"]) for n in doc["nodes"]] == [
        ("nodes.watchdog", node.proc.pid, 10.0, [])]
    text = cli("node", "info", "nodes.driver").stdout
    assert re.search(r"^subscribes +nodes.scan$", text, re.M) and re.search(r"^publishes +nodes.cmd_vel$", text, re.M)
    assert re.search(rf"^pid +{node.proc.pid}$", text, re.M)
    assert re.search(r"^start jitter +p50 .+, p99 .+, max ", text, re.M) and re.search(r"^misses +0 \(on_miss warn\)$",
                                                                                      text, re.M)
    out = cli("node", "info", "nodes.drivr", ok=False)
    assert out.returncode == 1 and out.stderr.strip().endswith("did you mean 'nodes.driver'?")


def test_the_nodes_topics_show_the_node_as_endpoint(node):
    info = cli_json("topic", "info", "nodes.cmd_vel")
    assert {"pid": node.proc.pid, "node": "nodes.driver", "topics": 1} in info["publishers"]
    scan = cli_json("topic", "info", "nodes.scan")
    assert scan["subscribers"] == [{"pid": node.proc.pid, "node": "nodes.driver", "topics": 1}] and scan["kind"] == ""
