"""Early release: a message's pool block goes back to the pool once every subscribing
Topic has read it (see horus.Topic's docstring), so a pipeline keeps a few warm blocks
in circulation instead of pinning a whole ring of them. And the rules around it: a
Topic that only sends keeps nothing for itself, one Topic that sends and receives
loses nothing, a publisher that starts reading counts what was recycled, and a
subscriber in another process pins only what it has not read.

blocks_in_use() counts the whole session namespace, so every check is a difference.
"""

from __future__ import annotations

import itertools

import numpy as np

from horus import Image, Tensor, Topic, block_ref

from _child import Child
from conftest import blocks_in_use

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"rel_{tag}_{next(_counter)}"


def frame(i: int, h: int = 4, w: int = 5) -> Image:
    img = Image.from_numpy(np.full((h, w, 3), i % 256, dtype=np.uint8), encoding="rgb8")
    img.set_timestamp_ns(i)
    return img


def tensor(i: int, n: int = 1000) -> Tensor:
    return Tensor.from_numpy(np.full(n, i, dtype=np.int64))


def drain(t: Topic) -> list[int]:
    got = []
    while (m := t.try_recv()) is not None:
        assert int(m.to_numpy()[0, 0, 0]) == m.timestamp_ns % 256
        got.append(m.timestamp_ns)
    return got


def test_a_publish_only_topic_keeps_only_the_newest_message(no_leak):
    before = blocks_in_use()
    pub = Topic(Image, unique("pubonly"), capacity=8)
    for i in range(5):
        pub.send(frame(i))
    assert blocks_in_use() == before + 1
    del pub
    assert blocks_in_use() == before


def test_read_messages_go_back_to_the_pool_at_the_next_send(no_leak):
    name = unique("read")
    before = blocks_in_use()
    sub = Topic(Image, name, capacity=8)
    pub = Topic(Image, name)
    for i in range(5):
        pub.send(frame(i))
    assert blocks_in_use() == before + 5  # sub has read none: all kept
    assert drain(sub) == [0, 1, 2, 3, 4]
    pub.send(frame(5))
    assert blocks_in_use() == before + 1  # only the unread newest one
    assert drain(sub) == [5]
    assert sub.dropped == 0


def test_one_topic_that_sends_and_receives_loses_nothing(no_leak):
    # The spec's ML pipeline: one Topic, a camera tick sends, a model tick receives.
    t = Topic(Image, unique("loop"), capacity=8)
    for i in range(10):
        t.send(frame(i))
        assert drain(t) == [i]
    for i in range(10, 13):  # a reader now: it keeps what it has not read
        t.send(frame(i))
    assert drain(t) == [10, 11, 12]
    assert t.dropped == 0


def test_a_publisher_that_starts_reading_counts_what_was_recycled(no_leak):
    t = Topic(Image, unique("late"), capacity=8)
    for i in range(3):
        t.send(frame(i))  # never read before: a publisher, keeps only the newest
    got = drain(t)
    assert got and got[-1] == 2
    assert len(got) + t.dropped == 3  # every message delivered or counted, none silently lost
    assert t.dropped >= 1


def test_a_ping_pong_recycles_the_same_warm_blocks(no_leak):
    name = unique("warm")
    sub = Topic(Image, name, capacity=8)
    pub = Topic(Image, name)
    blocks = set()
    for i in range(50):
        pub.send(Image(height=480, width=640, encoding="rgb8"))
        m = sub.try_recv()
        assert m is not None
        blocks.add(block_ref(m)[:2])
        del m
    assert len(blocks) <= 3  # not one per ring slot
    assert sub.dropped == 0


SUBSCRIBER = """
import sys
from horus import Tensor, Topic
sub = Topic(Tensor, sys.argv[1])
print("ready", flush=True)
got = []
while len(got) < int(sys.argv[2]):
    m = sub.recv(timeout=10)
    assert m is not None, "timed out"
    got.append(int(m.to_numpy()[0]))
    del m  # hold nothing: only unread messages should stay in the pool
print("read", *got, flush=True)
sys.stdin.readline()  # stay subscribed until told
"""


def test_a_subscriber_in_another_process_releases_what_it_read(no_leak):
    name = unique("xproc")
    pub = Topic(Tensor, name, capacity=16)
    child = Child.python(SUBSCRIBER, name, "6", stdin=True)
    try:
        child.expect("ready")
        before = blocks_in_use()
        for i in range(6):
            pub.send(tensor(i))
        assert child.expect("read").split()[1:] == [str(i) for i in range(6)]
        pub.send(tensor(6))
        assert blocks_in_use() <= before + 1  # 0..5 were read by the child: released
        child.send_line("bye")
        assert child.wait() == 0
    finally:
        child.kill()


def test_a_killed_subscriber_stops_holding_messages_once_reclaimed(no_leak):
    import horus

    name = unique("dead")
    pub = Topic(Tensor, name, capacity=16)
    child = Child.python(SUBSCRIBER, name, "1000", stdin=True)
    try:
        child.expect("ready")
        child.kill()  # SIGKILL while subscribed, having read nothing
        before = blocks_in_use()
        for i in range(5):
            pub.send(tensor(i, 10))
        assert blocks_in_use() == before + 5  # the dead subscriber's entry keeps them
        horus.reclaim()
        pub.send(tensor(5, 10))
        assert blocks_in_use() <= before + 1
    finally:
        child.kill()
