"""`horus topic hz` and `horus topic bw` against a 50 Hz publisher process; the window statistics."""

from __future__ import annotations

import json
import re
import statistics
import time

import pytest

from _child import Child
from test_cli import cli
from horus.cli._rates import Window

RATE_HZ = 50

PUBLISHER = f"""
import sys, threading, time
import numpy as np
import horus

camera = horus.Topic(horus.Image, "rates.camera")
cmd = horus.Topic(horus.CmdVel, "rates.cmd_vel")
silent = horus.Topic(horus.CmdVel, "rates.silent")  # open, never sent on
quit = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), quit.set()), daemon=True).start()
frame = np.full((48, 64, 3), 5, np.uint8)
print("ready", flush=True)
period = 1 / {RATE_HZ}
next_t = time.monotonic()
while not quit.is_set():
    camera.send(horus.Image.from_numpy(frame))
    cmd.send(horus.CmdVel(linear=1.0, angular=0.0))
    next_t += period
    time.sleep(max(0.0, next_t - time.monotonic()))
"""


@pytest.fixture(scope="module")
def publisher():
    child = Child.python(PUBLISHER, stdin=True)
    try:
        child.expect("ready", timeout=60)
        time.sleep(0.3)
        yield child
        child.send_line("quit")
        assert child.wait() == 0
    finally:
        child.kill()


def _reports(*args: str, timeout: float = 30) -> list[dict]:
    started = time.monotonic()
    out = cli("topic", *args, "--json", timeout=timeout)
    took = time.monotonic() - started
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    return docs, took


def test_hz_with_a_duration_stops_by_itself_and_reports_the_rate(publisher):
    docs, took = _reports("hz", "rates.cmd_vel", "--duration", "1")
    assert len(docs) == 1 and took < 15
    r = docs[0]
    assert set(r) == {"topic", "window", "messages", "new", "dropped", "elapsed_s", "rate_hz", "min_s", "max_s",
                      "std_dev_s"}
    assert r["topic"] == "rates.cmd_vel" and r["dropped"] == 0
    assert 0.9 * RATE_HZ <= r["rate_hz"] <= 1.1 * RATE_HZ, r
    assert 30 <= r["window"] == r["messages"] == r["new"] <= 60
    assert r["min_s"] <= 1 / r["rate_hz"] <= r["max_s"] and r["std_dev_s"] < r["max_s"]
    assert 1.0 <= r["elapsed_s"] < 1.5


def test_hz_reports_every_second_and_at_the_end(publisher):
    docs, _ = _reports("hz", "rates.cmd_vel", "--duration", "2.5", "--window", "20")
    assert [round(d["elapsed_s"]) for d in docs[:2]] == [1, 2] and len(docs) == 3
    assert 2.5 <= docs[2]["elapsed_s"] < 3.0
    assert all(d["window"] == 20 for d in docs)  # the latest 20 messages
    assert docs[0]["messages"] < docs[1]["messages"] < docs[2]["messages"]
    assert all(0.85 * RATE_HZ <= d["rate_hz"] <= 1.15 * RATE_HZ for d in docs), docs


def test_hz_text_is_like_ros2_topic_hz(publisher):
    out = cli("topic", "hz", "rates.cmd_vel", "--duration", "1").stdout
    assert re.fullmatch(r"average rate: \d+\.\d{3}\n\tmin: \d\.\d{3}s max: \d\.\d{3}s std dev: \d\.\d{5}s "
                        r"window: \d+\n", out), out


def test_hz_of_a_topic_without_messages_says_so(publisher):
    out = cli("topic", "hz", "rates.silent", "--duration", "1").stdout
    assert out == "no new messages\n"
    docs, _ = _reports("hz", "rates.silent", "--duration", "1")
    assert [(d["new"], d["rate_hz"], d["window"]) for d in docs] == [(0, None, 0)]


def test_bw_measures_the_payload_of_images(publisher):
    docs, _ = _reports("bw", "rates.camera", "--duration", "1")
    assert len(docs) == 1
    b = docs[0]
    assert b["mean_bytes"] == b["min_bytes"] == b["max_bytes"] == 48 * 64 * 3
    assert 0.9 * RATE_HZ * 9216 <= b["bytes_per_s"] <= 1.1 * RATE_HZ * 9216, b
    out = cli("topic", "bw", "rates.cmd_vel", "--duration", "1").stdout.splitlines()
    assert re.fullmatch(r"\d+ B/s from \d+ messages", out[0]), out
    assert out[1] == "\tmessage size mean: 8 B min: 8 B max: 8 B"  # a CmdVel is 8 bytes


def test_window_statistics():
    w = Window(4)
    assert w.rate() == {"rate_hz": None, "min_s": None, "max_s": None, "std_dev_s": None}
    for t, size in ((0.0, 10), (0.1, 20), (0.3, 30), (0.4, 40), (0.5, 50)):
        w.add(t, size)
    periods = [0.2, 0.1, 0.1]  # the latest 4 arrivals: 0.1, 0.3, 0.4, 0.5
    r = w.rate()
    assert r["rate_hz"] == pytest.approx(1 / statistics.mean(periods))
    assert (r["min_s"], r["max_s"]) == pytest.approx((0.1, 0.2))
    assert r["std_dev_s"] == pytest.approx(statistics.pstdev(periods))
    b = w.bandwidth()
    assert b["bytes_per_s"] == pytest.approx((30 + 40 + 50) / 0.4)
    assert (b["mean_bytes"], b["min_bytes"], b["max_bytes"]) == (35, 20, 50)
    assert w.total == 5
