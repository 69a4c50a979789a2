"""Adversarial findings against the typed-message / schemaless / record-tensor API
(notes/typed_api.md). Every test here FAILS on main as of 2026-12-01 and documents the
behaviour the guarantees promise. Copy into tests/ (the conftest there sets
HORUS_NAMESPACE before horus is imported; standalone, the setdefault below does).

Crash reproductions run in a child interpreter so a segfault fails one test, not the run.
"""

from __future__ import annotations

import enum
import mmap
import os
import secrets
import struct
import subprocess
import sys
import textwrap

os.environ.setdefault("HORUS_NAMESPACE", f"advfind_{os.getpid()}_{secrets.token_hex(3)}")

import numpy as np
import pytest

import horus

SLOT_BYTES = 192  # topic_layout.hpp: TopicSlot (seq + 22 descriptor words + holds_ref, 64-aligned)
DESC = 8  # descriptor offset within a slot (after seq)


def _name(tag: str) -> str:
    return f"advf_{tag}_{secrets.token_hex(3)}"


def _child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    ns = f"advf_child_{os.getpid()}_{secrets.token_hex(3)}"
    env["HORUS_NAMESPACE"] = ns
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                              timeout=timeout)
    finally:  # a child that crashed leaves its namespace behind; it is dead, so remove it
        for f in os.listdir("/dev/shm"):
            if f.startswith(f"horus.{ns}."):
                os.unlink(os.path.join("/dev/shm", f))


def _shm(topic: horus.Topic) -> mmap.mmap:
    path = f"/dev/shm/horus.{horus.namespace()}.topic.{topic.name}"
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.path.getsize(path))
    finally:
        os.close(fd)


def _replace_in_newest_slot(topic: horus.Topic, old: bytes, new: bytes) -> None:
    """Overwrites `old` (found in the descriptor of the newest message, so the test does not
    depend on where the descriptor keeps the field) with `new` (same length)."""
    assert len(old) == len(new)
    m = _shm(topic)
    header = len(m) - topic.capacity * SLOT_BYTES
    base = header + ((topic.published - 1) % topic.capacity) * SLOT_BYTES + DESC
    at = m.find(old, base, base + 176)
    assert at >= 0, f"{old!r} not in the slot"
    m[at:at + len(new)] = new
    m.close()


# ---- crashes: schemaless values nested through tuples ------------------------------------


def test_receiving_deeply_nested_tuples_does_not_crash():
    """A legit sender may send 200 nested tuples (send accepts it); the receiver's decode
    recurses (ext_hook -> msgpack.unpackb, ~32 KiB of C stack per level) and segfaults.
    Expected: the value is received (or send refuses it with a clear error); never a crash."""
    r = _child("""
        import horus
        t = horus.Topic("deep_tuples")
        v = 0
        for _ in range(200):
            v = (v,)
        try:
            t.send(v)
        except (TypeError, ValueError, RecursionError) as e:
            print("refused", type(e).__name__); raise SystemExit(0)
        got = t.try_recv()
        print("received", got is not None, t.dropped)
    """)
    assert r.returncode == 0, f"child died with {r.returncode} (-11 = SIGSEGV); stdout={r.stdout!r} stderr={r.stderr[-500:]!r}"


def test_crafted_600_byte_payload_does_not_crash_receivers():
    """Another process (a C++ sender, a buggy or hostile one) publishes a 601-byte MessagePack
    payload of 200 nested tuple extensions. Every Python receiver segfaults in decode().
    Expected: the payload is skipped and counted in dropped (or recv raises a clear error)."""
    r = _child("""
        import msgpack, horus, horus._data as hd
        inner = msgpack.packb(0)
        for _ in range(200):
            inner = msgpack.packb(msgpack.ExtType(2, inner))   # ext 2 = tuple
        t = horus.Topic("bomb")
        hd.encode = lambda v: (inner, [])                      # stand-in for a non-Python sender
        t.send("x")
        got = t.try_recv()
        print("got", type(got).__name__, "dropped", t.dropped)
    """)
    assert r.returncode == 0, f"receiver died with {r.returncode} (-11 = SIGSEGV); stderr={r.stderr[-500:]!r}"


def test_sending_tuples_of_deep_lists_does_not_crash_sender():
    """50 tuple levels x 400 list levels: each tuple is packed by its own msgpack.packb call
    (each allowed 511 levels of C recursion), so the C stack overflows in send().
    Expected: a clear ValueError/TypeError (too deeply nested); never a segfault."""
    r = _child("""
        import horus
        t = horus.Topic("deep_mix")
        v = 0
        for _ in range(50):
            for _ in range(400):
                v = [v]
            v = (v,)
        try:
            t.send(v)
            print("sent")
        except (TypeError, ValueError, RecursionError) as e:
            print("refused", type(e).__name__)
    """)
    assert r.returncode == 0, f"sender died with {r.returncode} (-11 = SIGSEGV); stderr={r.stderr[-500:]!r}"


# ---- wrong data ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["from_numpy", "from_records"])
def test_record_tensor_view_taken_before_send_is_sealed(make):
    """Plain tensors: NumPy views taken before send() become read-only (seal_views). Tensors of
    records: the structured view from to_numpy() stays writable after send, and writing through
    it changes what receivers already hold (zero-copy data changing under them)."""
    Det = horus.msg.Detection2D
    topic = horus.Topic(horus.Tensor[Det], _name("rt"))
    arr = np.zeros(4, dtype=Det.dtype)
    t = horus.Tensor.from_numpy(arr) if make == "from_numpy" else horus.Tensor.from_records(arr, Det)
    view = t.to_numpy()
    topic.send(t)
    got = topic.try_recv().to_numpy()
    assert not view.flags.writeable, "the pre-send view of a sent record tensor is still writable"
    with pytest.raises(ValueError):
        view[0]["score"] = 42.0
    assert got[0]["score"] == 0.0


def test_str_enum_is_sent_as_its_value():
    """_data.encode's comment promises str enums travel as their base value, but str(obj) of a
    (str, Enum) member is 'Mode.AUTO', so 'Mode.AUTO' arrives instead of 'auto' (dict keys too)."""

    class Mode(str, enum.Enum):
        AUTO = "auto"

    t = horus.Topic(_name("se"))
    t.send({"mode": Mode.AUTO, Mode.AUTO: 1})
    got = t.try_recv()
    assert got == {"mode": "auto", "auto": 1}, got


def test_invalid_utf8_in_string_field_is_not_delivered_as_replacement_text():
    """A received record whose string bytes are not UTF-8 is returned with U+FFFD substituted
    (decode 'replace'): silently different data. Expected: skipped (dropped) or a clear error."""

    @horus.message
    class Named:
        name: horus.string(8)

    t = horus.Topic(Named, _name("u8"))
    t.send(Named(name="okok"))
    _replace_in_newest_slot(t, b"okok", b"\xc3\x28ab")
    d0 = t.dropped
    try:
        got = t.try_recv()
    except (ValueError, horus.HorusError):
        return
    assert got is None and t.dropped == d0 + 1, f"delivered {got!r}"


def test_invalid_utf8_frame_id_reads_with_replacement_characters():
    """frame_id is metadata, not a field: as for the memory types (test_topic_hostile.py), a
    received frame_id that is not UTF-8 (a foreign writer, a corrupt slot) reads with U+FFFD
    replacement characters; the message's fields are delivered unchanged."""
    t = horus.Topic(horus.CmdVel, _name("fid"))
    t.send(horus.CmdVel(1.0, 2.0, frame_id="base_link"))
    _replace_in_newest_slot(t, b"base_link", b"\xff\xfe\xfdbase_l")
    got = t.try_recv()
    assert got is not None and (got.linear, got.angular) == (1.0, 2.0)
    assert got.frame_id == b"\xff\xfe\xfdbase_l".decode("utf-8", "replace")


# ---- silent message loss / silent no-ops ---------------------------------------------------


def test_typed_message_with_invalid_bool_byte_is_refused_by_the_sender():
    """The writable bool-array view lets a sender put 7 into a bool byte; send() accepts the
    message and every receiver silently drops it (counted as if it were lost to overflow).
    Expected: send() raises ValueError naming the field (or normalises the byte to 1)."""

    @horus.message
    class Flags:
        flags: horus.array(np.bool_, 4)

    t = horus.Topic(Flags, _name("bool"))
    m = Flags()
    m.flags.view(np.uint8)[0] = 7
    try:
        t.send(m)
    except ValueError as e:
        assert "flags" in str(e)
        return
    got = t.try_recv()
    assert got is not None, f"send() accepted the message but the receiver dropped it (dropped={t.dropped})"


def test_record_tensor_with_invalid_bool_byte_is_not_delivered():
    """Typed messages with bool bytes other than 0/1 are skipped on receipt; a Tensor of the same
    records is delivered with bool byte 2 inside. Expected: the same rule for both (sender refuses
    or receiver skips)."""

    @horus.message
    class Fl:
        ok: bool
        v: np.float32

    topic = horus.Topic(horus.Tensor[Fl], _name("tbool"))
    a = np.zeros(3, dtype=Fl.dtype)
    a.view(np.uint8).reshape(3, -1)[0, 0] = 2
    try:
        topic.send(horus.Tensor.from_numpy(a))
    except ValueError:
        return
    got = topic.try_recv()
    assert got is None, f"delivered bool bytes {got.to_numpy()['ok'].view(np.uint8).tolist()}"


def test_string_array_field_item_assignment_is_not_silently_ignored():
    """b.cell_voltages is a view whose writes go through; a horus.array(horus.string(n), k) field
    returns a fresh list, so s.names[0] = 'zzz' is silently lost. Expected: a view whose writes
    go through, or an immutable sequence (tuple) so the assignment raises."""

    @horus.message
    class S:
        names: horus.array(horus.string(8), 3)

    s = S(names=["a", "b", "c"])
    try:
        s.names[0] = "zzz"
    except TypeError:
        return
    assert s.names[0] == "zzz", "item assignment on a string-array field was silently discarded"


def test_late_subscriber_cannot_retype_a_live_plain_tensor_topic():
    """Opening Topic(horus.Tensor[Detection2D], name) on a live topic of plain Tensors succeeds and
    stamps the record type into the topic header, so the running publisher's next send() raises
    TypeError: a subscriber breaks a publisher. Expected: the open is a TypeError (the topic carries
    plain tensors) and the publisher keeps working."""
    Det = horus.msg.Detection2D
    name = _name("cam")
    pub = horus.Topic(horus.Tensor, name)
    pub.send(horus.Tensor.from_numpy(np.zeros((2, 24), np.uint8)))
    try:
        horus.Topic(horus.Tensor[Det], name)
    except TypeError:
        pass
    assert pub.layout_hash == 0, "a subscriber changed the topic's type"
    pub.send(horus.Tensor.from_numpy(np.zeros((2, 24), np.uint8)))  # TypeError on main


# ---- bad error messages --------------------------------------------------------------------


def test_corrupt_type_name_gives_a_clear_error_not_unicodedecodeerror():
    """A topic header whose type_name/type_text bytes are not UTF-8: type_description, opening
    with another layout and sending all raise UnicodeDecodeError instead of the TypeError /
    ShmError naming the topic."""

    @horus.message
    class Hd:
        x: np.float32

    t = horus.Topic(Hd, _name("hdr"))
    m = _shm(t)
    name_off = m.find(b"Hd\x00")
    assert name_off > 0
    m[name_off:name_off + 4] = b"\xff\xfe\x80\x00"
    m.close()
    try:
        desc = t.type_description
        assert isinstance(desc, str)
    except UnicodeDecodeError as e:
        pytest.fail(f"type_description raised UnicodeDecodeError: {e}")

    def other_layout():
        @horus.message
        class Hd:  # noqa: F811
            x: np.float64

        return horus.Topic(Hd, t.name)

    with pytest.raises((TypeError, horus.HorusError)) as ei:
        other_layout()
    assert not isinstance(ei.value, UnicodeDecodeError)
    assert t.name in str(ei.value)


def test_datetime64_arrays_on_schemaless_topics():
    """NumPy arrays are supported, but a datetime64/timedelta64 array fails in send() with
    ValueError "cannot include dtype 'M' in a buffer" (from PyObject_GetBuffer). Expected: an
    equal array is received (or a TypeError naming the dtype)."""
    t = horus.Topic(_name("dt"))
    a = np.array(["2020-01-01", "2021-06-30"], dtype="M8[D]")
    try:
        t.send({"when": a})
    except TypeError as e:
        assert "datetime64" in str(e)
        return
    assert np.array_equal(t.try_recv()["when"], a)


def test_numpy_void_scalar_on_schemaless_topic():
    """NumPy scalars are supported and come back as Python values; a structured (np.void) scalar
    fails with "can not serialize 'tuple' object" (tuple is supported). Expected: its item()
    (a tuple) is received."""
    t = horus.Topic(_name("void"))
    rec = np.zeros(1, dtype=[("a", "<i4"), ("b", "<f4")])[0]
    t.send(rec)
    assert t.try_recv() == (0, 0.0)


def test_oversized_array_dimension_error_names_the_array_and_the_limit():
    """horus.array(np.float64, 2**31) failed at declaration with NumPy's "dimension does not fit
    into a C int". The annotation is evaluated before the class exists, so the error names the
    array spec and the limit (a message holds at most 64 MiB)."""
    with pytest.raises(ValueError) as ei:
        horus.message(type("Huge", (), {"__annotations__": {"a": horus.array(np.float64, 2**31)}}))
    assert "horus.array(float64, 2147483648)" in str(ei.value) and "67108864" in str(ei.value), str(ei.value)
