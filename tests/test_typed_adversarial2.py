"""Adversarial round 2 findings (horus main, 2026-12-01). Every test here FAILS on main.

Finding A (high): the slot-first reader (TopicRing::try_read, cpp/src/topic/topic_publish.cpp)
can move a subscriber's cursor BACKWARDS and deliver a message twice.

A publisher stores the slot's seq = complete(s) (release) and only then write_seq = s + 1.
A reader that polls slot s between those two stores delivers message s (cursor -> s + 1).
Its next poll finds slot s + 1 not complete, reads write_seq == s, and executes
`if (cursor >= ws) { cursor = ws; return false; }` -- cursor goes back to s -- so the poll after
that finds slot s still complete(s) and delivers message s AGAIN. If the publisher dies
between the two stores, write_seq stays at s and every other try_recv() redelivers message s
forever.

Seen live with 4 C++ publisher threads and 3 subscribers on a capacity-4 ring of 12-byte
records (/tmp/adv2/race.cpp): "small4 cap=4 sub0 got=23895 dropped=56106 sum=80001 sent=80000
dup=1". The tests below reproduce the interleaving deterministically by holding write_seq at
the value a paused (or killed) publisher leaves there, through the topic's shared memory (a
same-user process may map it; the write_seq word is found by its value, not a hard-coded offset).
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct

os.environ.setdefault("HORUS_NAMESPACE", f"adv2find_{os.getpid()}_{secrets.token_hex(3)}")

import numpy as np
import pytest

import horus

SLOT_BYTES = 192  # topic_layout.hpp: TopicSlot


def _name(tag: str) -> str:
    return f"adv2_{tag}_{secrets.token_hex(3)}"


def _shm(topic: horus.Topic) -> mmap.mmap:
    path = f"/dev/shm/horus.{horus.namespace()}.topic.{topic.name}"
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.path.getsize(path))
    finally:
        os.close(fd)


def _write_seq_offset(m: mmap.mmap, topic: horus.Topic) -> int:
    """TopicHeader::write_seq (64-aligned, == published) followed by futex_word (next 64-byte
    line, bumped once per publish, so also == published)."""
    header = len(m) - topic.capacity * SLOT_BYTES
    n = topic.published
    hits = [off for off in range(0, header - 64, 64)
            if struct.unpack_from("<Q", m, off)[0] == n and struct.unpack_from("<I", m, off + 64)[0] == n]
    assert len(hits) == 1, hits
    return hits[0]


def _pause_publisher_before_write_seq(sub: horus.Topic, pub: horus.Topic, value):
    """Sends `value` but leaves write_seq as a publisher paused between its
    `slot.seq = complete(s)` and `write_seq = s + 1` stores leaves it. Returns a function that
    completes the publish (the write_seq store becomes visible)."""
    pub.send(value)
    m = _shm(sub)
    off = _write_seq_offset(m, sub)
    ws = struct.unpack_from("<Q", m, off)[0]
    struct.pack_into("<Q", m, off, ws - 1)

    def finish():
        struct.pack_into("<Q", m, off, ws)
        m.close()
    return finish


@pytest.mark.parametrize("cap", [1, 2, 4])
@pytest.mark.parametrize("pooled", [False, True], ids=["inline", "pooled"])
def test_message_seen_before_write_seq_is_not_delivered_twice(cap, pooled):
    name = _name("dup")
    sub = horus.Topic(name, capacity=cap)
    sub.try_recv()  # subscribed
    pub = horus.Topic(name, capacity=cap)
    mk = (lambda n: {"n": n, "a": np.full(32, n)}) if pooled else (lambda n: {"n": n})
    pub.send(mk(0))
    got = [sub.try_recv()]
    finish = _pause_publisher_before_write_seq(sub, pub, mk(1))
    got.append(sub.try_recv())      # message 1: its slot is complete -> delivered (fine)
    got.append(sub.try_recv())      # nothing new: None ... but the cursor went back to 1
    finish()                        # the publisher's write_seq store lands
    got.append(sub.try_recv())      # must be None: message 1 was already delivered
    got.append(sub.try_recv())
    delivered = [g["n"] for g in got if g is not None]
    assert delivered == [0, 1], f"delivered {delivered}, dropped={sub.dropped}, published={sub.published}"
    assert len(delivered) + sub.dropped == sub.published


def test_recv_with_timeout_does_not_redeliver():
    """Same interleaving through recv(timeout=...): the wait sees write_seq > (moved-back) cursor
    and returns at once with the old message."""
    name = _name("dupwait")
    sub = horus.Topic(name, capacity=4)
    sub.try_recv()
    pub = horus.Topic(name, capacity=4)
    finish = _pause_publisher_before_write_seq(sub, pub, {"n": 7})
    got = [sub.try_recv(), sub.try_recv()]
    finish()
    got.append(sub.recv(timeout=0.05))
    got.append(sub.recv(timeout=0.05))
    delivered = [g for g in got if g is not None]
    assert delivered == [{"n": 7}], f"delivered {delivered} (polls: {got})"


def test_publisher_killed_between_seq_and_write_seq_does_not_replay_forever():
    """A publisher killed after storing the slot's seq but before write_seq (the window the
    kill harness targets): the message must be delivered at most once, not on every other poll."""
    name = _name("replay")
    sub = horus.Topic(name, capacity=4)
    sub.try_recv()
    pub = horus.Topic(name, capacity=4)
    _pause_publisher_before_write_seq(sub, pub, {"last": "words"})  # never finished
    got = [sub.try_recv() for _ in range(10)]
    n = sum(g is not None for g in got)
    assert n <= 1, f"the same message was delivered {n} times in 10 polls: {got}"


def test_three_subscribers_count_every_message_exactly_once():
    """delivered + dropped == sent for each subscriber, with a message read early."""
    name = _name("count")
    subs = [horus.Topic(name, capacity=2) for _ in range(3)]
    for s in subs:
        s.try_recv()
    pub = horus.Topic(name, capacity=2)
    delivered = [0, 0, 0]
    for i in range(6):
        finish = _pause_publisher_before_write_seq(subs[0], pub, {"i": i, "a": np.arange(i + 20)} if i % 2 else {"i": i})
        for k, s in enumerate(subs[: i % 3 + 1]):  # subscribers at different speeds
            while s.try_recv() is not None:
                delivered[k] += 1
        finish()
    for k, s in enumerate(subs):
        while s.try_recv() is not None:
            delivered[k] += 1
    sent = pub.published
    assert [d + s.dropped for d, s in zip(delivered, subs)] == [sent] * 3, (delivered, [s.dropped for s in subs], sent)


# ---- Finding B (medium): string-array elements are read past their first NUL ---------------


def _sn():
    return horus.message(type("SNul", (), {"__annotations__": {"s": horus.string(4),
                                                               "arr": horus.array(horus.string(3), 2)}}))


def test_string_array_element_reads_up_to_its_first_nul_like_scalar_strings_and_cpp():
    """A record whose string-array element holds b"x\\0y" (C++ String<3> data a sender memcpy'd,
    or raw bytes written through the message's writable buffer) passes the send check (which
    validates only up to the first NUL), and C++ String::view() reads "x". A scalar string
    field with the same bytes reads 'x' in Python too; the array element reads 'x\\x00y', a
    value no Python sender could assign and that cannot be sent back (ValueError)."""
    SN = _sn()
    m = SN()
    mv = memoryview(m)
    mv[0:3] = b"x\x00y"                              # scalar field s
    off = SN.dtype.fields["arr"][1]
    mv[off:off + 3] = b"x\x00y"                      # arr[0]
    assert m.s == "x"
    name = _name("snul")
    t = horus.Topic(SN, name)
    t.try_recv()
    t.send(m)
    got = t.try_recv()
    assert got is not None and got.s == "x"
    assert got.arr == ("x", ""), f"arr read as {got.arr!r}"


def test_string_array_element_garbage_after_nul_is_not_delivered_as_replacement_text():
    """Bytes after the NUL are never UTF-8 checked (sender or receiver), so b"\\0\\xc3" reads as
    '\\x00\\ufffd': replacement text the first round's fix (invalid UTF-8 is not delivered as
    replacement text) was meant to rule out."""
    SN = _sn()
    m = SN()
    off = SN.dtype.fields["arr"][1] + 3             # arr[1]
    memoryview(m)[off:off + 2] = b"\x00\xc3"
    assert "\ufffd" not in m.arr[1] and "\x00" not in m.arr[1], repr(m.arr)


# ---- Finding C (low): values outside the documented schemaless set are accepted ------------


def test_schemaless_raw_msgpack_ext_types_and_timestamps_pass_through():
    """msgpack.ExtType(5, ...) and msgpack.Timestamp are MessagePack's own values: msgpack packs
    them natively (no hook can refuse them without walking every value), so they travel and
    arrive equal, never silently dropped. (Ext codes 1 and 2 are horus's own: docs/messages.md.)"""
    import msgpack  # a dependency of horus (horus._data)
    name = _name("ext")
    t = horus.Topic(name)
    t.try_recv()
    t.send({"e": msgpack.ExtType(5, b"abc"), "ts": msgpack.Timestamp(1, 2)})
    got = t.try_recv()
    assert got == {"e": msgpack.ExtType(5, b"abc"), "ts": msgpack.Timestamp(1, 2)}
    assert t.dropped == 0


def _slot_bytes(topic: horus.Topic) -> bytes:
    m = _shm(topic)
    try:
        return m[len(m) - SLOT_BYTES:len(m)]   # capacity-1 topic: its only slot
    finally:
        m.close()


@pytest.mark.parametrize("kind", ["record", "tensor"])
def test_typed_topic_never_returns_a_schemaless_value(kind):
    """A slot of a typed topic holding a (well-formed) schemaless Data descriptor -- written by
    a buggy or hostile same-user process; a correct publisher is refused by the topic type --
    comes back from Topic(Cmd).try_recv() as a dict (Topic(horus.Tensor), Topic(horus.Image)
    too). The C++ Topic<T> drops it (read_record checks the kind). Expected: dropped (counted)
    or a clear error -- never a value of another type from a typed topic."""
    data = horus.Topic(_name("src"), capacity=1)
    data.try_recv()
    data.send({"evil": 1})
    src = _slot_bytes(data)
    if kind == "record":
        Cmd = horus.message(type("CmdK", (), {"__annotations__": {"v": np.float32, "w": np.float32}}))
        t = horus.Topic(Cmd, _name("typed"), capacity=1)
        t.try_recv()
        t.send(Cmd(1, 2))
        expected = Cmd
    else:
        t = horus.Topic(horus.Tensor, _name("tensor"), capacity=1)
        t.try_recv()
        t.send(horus.Tensor.from_numpy(np.zeros(3, np.float32)))
        expected = horus.Tensor
    m = _shm(t)
    m[len(m) - SLOT_BYTES + 8:len(m)] = src[8:]   # seq stays the typed message's
    m.close()
    try:
        got = t.try_recv()
    except (TypeError, ValueError):
        got = None
    assert got is None or isinstance(got, expected), f"typed topic returned {type(got).__name__}: {got!r}"
    # The overwrite cleared the slot's holds_ref, stranding the tensor's ring reference (what a
    # hostile writer can do); reclamation recounts the slots and gives the block back.
    del got, t, data
    horus.reclaim()
