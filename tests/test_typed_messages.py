"""Typed messages in one process, without topics: declaration (@horus.message and
horus.TypedMessage), the C layout, construction, every validation error, value
semantics (==, copy, to_dict/from_dict, pickle), repr and the buffer protocol.

Received (read-only) messages come from a topic here only where read-only behaviour is
what is checked; topics themselves are tested in test_typed_topics.py.
"""


import copy
import itertools
import pickle
import typing

import numpy as np
import numpy.typing as npt
import pytest

import horus
from horus import Topic

_counter = itertools.count()


def unique(tag: str) -> str:
    return f"tm_{tag}_{next(_counter)}"


def buffer_range(msg) -> tuple[int, int]:
    """[start, end) addresses of the message's own bytes."""
    raw = np.frombuffer(memoryview(msg), dtype=np.uint8)
    return raw.ctypes.data, raw.ctypes.data + raw.nbytes


def inside(arr: np.ndarray, msg) -> bool:
    lo, hi = buffer_range(msg)
    return lo <= arr.ctypes.data and arr.ctypes.data + arr.nbytes <= hi


# ----------------------------------------------------------------- declarations used below
@horus.message
class Point3:
    x: np.float64
    y: np.float64
    z: np.float64


@horus.message
class Every:
    i8: np.int8
    i16: np.int16
    i32: np.int32
    i64: np.int64
    u8: np.uint8
    u16: np.uint16
    u32: np.uint32
    u64: np.uint64
    f16: np.float16
    f32: np.float32
    f64: np.float64
    b: np.bool_
    pf: float
    pi: int
    pb: bool
    s: horus.string(8)
    vec: horus.array(np.float32, 4)
    mat: horus.array(np.float64, (3, 3))
    names: horus.array(horus.string(4), 3)
    halves: horus.array(np.float16, 2)
    where: Point3
    ann: typing.Annotated[npt.NDArray[np.int16], horus.array(np.int16, 5)]


class Battery(horus.TypedMessage):
    voltage: np.float32
    current: np.float32
    cell_voltages: horus.array(np.float32, 8)
    charging: bool
    name: horus.string(16)

    def power(self) -> float:
        return self.voltage * self.current


INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
INT_FIELD = {np.int8: "i8", np.int16: "i16", np.int32: "i32", np.int64: "i64",
             np.uint8: "u8", np.uint16: "u16", np.uint32: "u32", np.uint64: "u64"}


def received(msg):
    """`msg` sent on a fresh topic of its class and received back (read-only)."""
    t = Topic(type(msg), unique("rx"))
    t.send(msg)
    got = t.recv(timeout=2)
    assert got is not None
    return got


# ----------------------------------------------------------------- declaration
def test_every_field_type_declares_with_the_numpy_dtype():
    dt = Every.dtype
    assert Every.fields == ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "f32", "f64", "b",
                            "pf", "pi", "pb", "s", "vec", "mat", "names", "halves", "where", "ann")
    expect = {"i8": "i1", "i16": "<i2", "i32": "<i4", "i64": "<i8", "u8": "u1", "u16": "<u2", "u32": "<u4",
              "u64": "<u8", "f16": "<f2", "f32": "<f4", "f64": "<f8", "b": "?", "pf": "<f8", "pi": "<i8",
              "pb": "?", "s": "S8"}
    for name, code in expect.items():
        assert dt.fields[name][0] == np.dtype(code), name
    assert dt.fields["vec"][0] == np.dtype(("<f4", (4,)))
    assert dt.fields["mat"][0] == np.dtype(("<f8", (3, 3)))
    assert dt.fields["names"][0] == np.dtype(("S4", (3,)))
    assert dt.fields["halves"][0] == np.dtype(("<f2", (2,)))
    assert dt.fields["ann"][0] == np.dtype(("<i2", (5,)))
    assert dt.fields["where"][0] == Point3.dtype
    for token in ("i8:int8@", "u64:uint64@", "f16:float16@", "pf:float64@", "pi:int64@", "pb:bool@",
                  "s:string<8>@", "vec:float32[4]@", "mat:float64[3][3]@", "names:string<4>[3]@",
                  "halves:float16[2]@", "where:Point3#", "ann:int16[5]@"):
        assert token in Every.layout_text, token


def test_layout_equals_numpys_aligned_dtype():
    for cls in (Point3, Every, Battery, horus.msg.Imu, horus.msg.NavSatFix, horus.msg.Detection3D):
        aligned = np.dtype({"names": list(cls.dtype.names),
                            "formats": [cls.dtype.fields[n][0] for n in cls.dtype.names], "aligned": True})
        assert cls.dtype.itemsize == aligned.itemsize, cls.__name__
        for n in cls.dtype.names:
            assert cls.dtype.fields[n][1] == aligned.fields[n][1], (cls.__name__, n)
            assert f"{n}:" in cls.layout_text
            assert f"@{cls.dtype.fields[n][1]}" in cls.layout_text
        assert cls.layout_text.endswith("}" + str(cls.dtype.itemsize))
        assert len(bytes(cls())) == cls.dtype.itemsize


def _layout(cls) -> tuple[list[int], int]:
    return [cls.dtype.fields[n][1] for n in cls.fields], cls.dtype.itemsize


def test_hand_computed_layouts_with_padding():
    @horus.message
    class Padded:
        a: np.uint8
        b: np.float64
        c: np.uint16

    assert _layout(Padded) == ([0, 8, 16], 24)
    assert Padded.layout_text == "Padded{a:uint8@0,b:float64@8,c:uint16@16}24"

    @horus.message
    class Mixed:
        a: np.int8
        b: np.int32
        c: np.int8

    assert _layout(Mixed) == ([0, 4, 8], 12)

    @horus.message
    class Half:
        h: np.float16
        u: np.uint8
        f: np.float32

    assert _layout(Half) == ([0, 2, 4], 8)

    @horus.message
    class Tail:
        d: np.float64
        b: bool

    assert _layout(Tail) == ([0, 8], 16)

    @horus.message
    class Nested:
        tag: np.uint8
        p: Point3
        name: horus.array(horus.string(5), 3)
        last: np.uint16

    # Point3 aligns to 8; 3 strings of 5 bytes are 15 bytes of alignment 1; uint16 aligns to 2.
    assert _layout(Nested) == ([0, 8, 32, 48], 56)

    @horus.message
    class Matrix:
        m: horus.array(np.float64, (3, 3))
        h: np.float16
        n: np.int64

    assert Matrix.layout_text == "Matrix{m:float64[3][3]@0,h:float16@72,n:int64@80}88"  # as in C++ test_record.cpp


def test_annotated_and_subclass_forms_equal_the_decorator_form():
    @horus.message
    class A:
        v: horus.array(np.float32, 3)
        n: np.uint8

    class B(horus.TypedMessage):
        v: typing.Annotated[npt.NDArray[np.float32], horus.array(np.float32, 3)]
        n: np.uint8

    assert A.layout_text.replace("A{", "{") == B.layout_text.replace("B{", "{")
    assert A.dtype == B.dtype
    assert issubclass(A, horus.TypedMessage) and issubclass(B, horus.TypedMessage)
    # The subclass keeps its methods.
    bat = Battery(voltage=2.0, current=3.0)
    assert bat.power() == pytest.approx(6.0)


def test_decorator_keeps_methods_and_properties():
    @horus.message
    class WithMethod:
        x: np.float64

        def double(self):
            return 2 * self.x

        @property
        def neg(self):
            return -self.x

    w = WithMethod(x=4)
    assert w.double() == 8.0 and w.neg == -4.0


def test_string_annotations_are_evaluated(tmp_path, monkeypatch):
    """`from __future__ import annotations` makes every annotation a string."""
    import importlib.util
    import sys

    src = tmp_path / "late_decl.py"
    src.write_text(
        "from __future__ import annotations\n"
        "import numpy as np, horus\n"
        "@horus.message\n"
        "class Late:\n"
        "    a: np.uint16\n"
        "    b: horus.array(np.float32, 2)\n"
    )
    spec = importlib.util.spec_from_file_location("late_decl", src)
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "late_decl", mod)
    spec.loader.exec_module(mod)
    assert mod.Late.layout_text == "Late{a:uint16@0,b:float32[2]@4}12"


@pytest.mark.parametrize(
    "bad, type_name",
    [
        (complex, "complex"),
        (str, "str"),
        (list, "list"),
        (np.complex64, "complex64"),
        (np.str_, "str_"),
        (np.object_, "object_"),
        (np.datetime64, "datetime64"),
        (np.longdouble, "longdouble"),
        (dict, "dict"),
        (typing.List[int], "List"),
    ],
)
def test_bad_field_type_is_a_type_error_naming_field_and_type(bad, type_name):
    with pytest.raises(TypeError) as e:
        horus.message(type("Bad", (), {"__annotations__": {"ok": np.uint8, "weird_field": bad}, "__module__": __name__}))
    text = str(e.value)
    assert "weird_field" in text and "Bad" in text
    assert type_name.lower() in text.lower() or repr(bad) in text, text


def test_undeclared_class_as_field_type_is_refused():
    class Plain:
        pass

    with pytest.raises(TypeError, match="field 'p' of Holder.*Plain"):
        horus.message(type("Holder", (), {"__annotations__": {"p": Plain}, "__module__": __name__}))


def test_bad_array_and_string_declarations():
    with pytest.raises(TypeError, match="complex"):
        horus.array(complex, 3)
    with pytest.raises(ValueError):
        horus.array(np.float32, 0)
    with pytest.raises(ValueError):
        horus.array(np.float32, (2, -1))
    with pytest.raises(ValueError):
        horus.string(0)
    with pytest.raises(ValueError):
        horus.string(True)


def test_defaults_reserved_names_empty_and_subclassing_are_refused():
    with pytest.raises(TypeError, match="default"):
        @horus.message
        class D:
            x: np.float32 = 1.0

    for reserved in ("copy", "to_dict", "from_dict", "fields", "dtype", "layout_hash", "layout_text", "timestamp_ns",
                     "frame_id", "set_timestamp_ns", "set_frame_id", "is_shared", "_hidden", "__weird"):
        with pytest.raises(TypeError, match="reserved"):
            horus.message(type("R", (), {"__annotations__": {reserved: np.uint8}, "__module__": __name__}))
    with pytest.raises(TypeError, match="no fields"):
        @horus.message
        class Empty:
            pass

    with pytest.raises(TypeError, match="cannot be subclassed"):
        class Sub(Point3):
            pass

    class Base:
        pass

    with pytest.raises(TypeError, match="base classes"):
        @horus.message
        class WithBase(Base):
            x: np.uint8


def _declare(name: str, anns: dict) -> type:
    return horus.message(type(name, (), {"__annotations__": anns, "__module__": __name__}))


def test_declaration_limits():
    assert _declare("Limit64MiB", {"a": horus.array(np.uint8, 64 << 20)}).dtype.itemsize == 64 << 20
    assert len(_declare("Limit256", {f"f{i}": np.uint8 for i in range(256)}).fields) == 256
    with pytest.raises(ValueError, match=r"horus.array\(uint8, 67108865\): 67108865 elements; .* at most 67108864"):
        _declare("TooBigDim", {"a": horus.array(np.uint8, (64 << 20) + 1)})
    with pytest.raises(ValueError, match="field 'a' of message TooBig.*larger than 67108864 bytes"):
        _declare("TooBig", {"a": horus.array(np.float32, 2**25)})
    with pytest.raises(ValueError, match="257 fields; at most 256"):
        _declare("TooMany", {f"f{i}": np.uint8 for i in range(257)})
    with pytest.raises(ValueError, match="field name 'é' of message BadField"):
        _declare("BadField", {"é": np.uint8})
    with pytest.raises(ValueError, match="message name 'É'"):
        _declare("É", {"a": np.uint8})
    with pytest.raises(ValueError, match="message name 'N{64}'"):
        _declare("N" * 64, {"a": np.uint8})
    assert _declare("N" * 63, {"a": np.uint8}).layout_text.startswith("N" * 63 + "{")


# ----------------------------------------------------------------- construction
def test_construct_positional_keyword_and_metadata():
    b = Battery(12.5, 1.5, charging=True, name="pack-a", timestamp_ns=5, frame_id="base")
    assert (b.voltage, b.current, b.charging, b.name) == (12.5, 1.5, True, "pack-a")
    assert (b.timestamp_ns, b.frame_id) == (5, "base")
    assert isinstance(b.voltage, float) and isinstance(b.charging, bool)
    np.testing.assert_array_equal(b.cell_voltages, np.zeros(8, np.float32))
    z = Battery()
    assert (z.voltage, z.current, z.charging, z.name, z.timestamp_ns, z.frame_id) == (0.0, 0.0, False, "", 0, "")
    assert bytes(z) == bytes(Battery.dtype.itemsize)
    b.set_timestamp_ns(2**64 - 1)
    b.set_frame_id("x" * 63)
    assert (b.timestamp_ns, b.frame_id) == (2**64 - 1, "x" * 63)
    assert not b.is_shared()
    # float32 precision
    c = Battery(voltage=12.4)
    assert c.voltage == float(np.float32(12.4)) and c.voltage != 12.4


def test_construct_all_fields_by_position():
    e = Every(-1, -2, -3, -4, 1, 2, 3, 4, 0.5, 1.5, 2.5, True, 3.5, 7, False, "abc",
              [1, 2, 3, 4], np.eye(3), ["a", "bb", "ccc"], [1.0, -1.0], Point3(1, 2, 3), np.arange(5))
    assert (e.i8, e.i16, e.i32, e.i64, e.u8, e.u16, e.u32, e.u64) == (-1, -2, -3, -4, 1, 2, 3, 4)
    assert (e.f16, e.f32, e.f64, e.b, e.pf, e.pi, e.pb, e.s) == (0.5, 1.5, 2.5, True, 3.5, 7, False, "abc")
    np.testing.assert_array_equal(e.mat, np.eye(3))
    assert e.names == ("a", "bb", "ccc")  # a tuple: a copy that cannot be assigned into by mistake
    assert e.where == Point3(1, 2, 3) and e.where.y == 2.0
    np.testing.assert_array_equal(e.ann, np.arange(5, dtype=np.int16))
    assert e.ann.dtype == np.int16 and e.mat.shape == (3, 3) and e.halves.dtype == np.float16


def test_constructor_errors():
    with pytest.raises(TypeError, match="at most 5 positional"):
        Battery(1, 2, np.zeros(8), True, "n", 6)
    with pytest.raises(TypeError, match="both by position and by name"):
        Battery(1.0, voltage=2.0)
    with pytest.raises(TypeError, match="unknown field 'volts'.*voltage, current, cell_voltages, charging, name"):
        Battery(volts=1.0)
    with pytest.raises(TypeError, match="frame_id must be a str"):
        Battery(frame_id=3)
    with pytest.raises(ValueError, match="too long"):
        Battery(frame_id="x" * 64)
    with pytest.raises(ValueError, match="timestamp_ns"):
        Battery(timestamp_ns=-1)
    with pytest.raises(ValueError, match="timestamp_ns"):
        Battery(timestamp_ns=2**64)
    with pytest.raises(TypeError, match="timestamp_ns must be an int"):
        Battery(timestamp_ns=1.5)
    with pytest.raises(TypeError, match="timestamp_ns must be an int"):
        Battery(timestamp_ns=True)


def test_unknown_attribute_is_an_attribute_error_listing_fields():
    b = Battery()
    with pytest.raises(AttributeError, match="no field 'volts'.*voltage, current, cell_voltages, charging, name"):
        b.volts = 1.0
    with pytest.raises(AttributeError):
        b.timestamp_ns = 3  # metadata has setters
    with pytest.raises(TypeError, match="delete"):
        del b.voltage
    assert not hasattr(b, "__dict__")


# ----------------------------------------------------------------- assignment checks
@pytest.mark.parametrize("t", INT_TYPES, ids=lambda t: t.__name__)
def test_int_fields_accept_both_ends_and_refuse_one_beyond(t):
    info = np.iinfo(t)
    name = INT_FIELD[t]
    e = Every()
    for v in (info.min, info.max, 0):
        setattr(e, name, v)
        assert getattr(e, name) == v and isinstance(getattr(e, name), int)
    setattr(e, name, t(info.max))  # a NumPy integer of the same type
    assert getattr(e, name) == info.max
    for v in (info.min - 1, info.max + 1, 2**200, -(2**200)):
        with pytest.raises(ValueError, match=rf"Every\.{name} = .* out of range for {np.dtype(t).name}"):
            setattr(e, name, v)
        assert getattr(e, name) == info.max, "a refused value changed the field"


@pytest.mark.parametrize("t", INT_TYPES, ids=lambda t: t.__name__)
def test_int_fields_refuse_non_ints(t):
    e = Every()
    name = INT_FIELD[t]
    for v in (1.0, 1.5, "1", True, np.bool_(True), None, np.float32(2.0), b"1", [1]):
        with pytest.raises(TypeError, match=rf"Every\.{name}"):
            setattr(e, name, v)
    assert getattr(e, name) == 0


@pytest.mark.parametrize("t", INT_TYPES, ids=lambda t: t.__name__)
def test_int_array_fields_range_checked_at_both_ends(t):
    info = np.iinfo(t)
    cls = horus.message(type(f"Arr_{t.__name__}", (), {"__annotations__": {"a": horus.array(t, 2)},
                                                        "__module__": __name__}))
    m = cls()
    m.a = np.array([info.min, info.max], dtype=t)
    np.testing.assert_array_equal(m.a, [info.min, info.max])
    if t is not np.uint64 and t is not np.int64:
        with pytest.raises(ValueError, match="out of range"):
            m.a = np.array([info.min - 1, 0], dtype=np.int64)
        with pytest.raises(ValueError, match="out of range"):
            m.a = np.array([0, info.max + 1], dtype=np.int64)
    elif t is np.int64:
        with pytest.raises(ValueError, match="out of range"):
            m.a = np.array([0, 2**63], dtype=np.uint64)
    else:
        with pytest.raises(ValueError, match="out of range"):
            m.a = np.array([-1, 0], dtype=np.int64)
    np.testing.assert_array_equal(m.a, [info.min, info.max])
    with pytest.raises(TypeError):
        m.a = [1.0, 2.0]
    with pytest.raises(TypeError):
        m.a = [True, False]


def test_uint64_array_from_a_list_at_the_upper_end():
    """Regression: [2**64 - 1, 0] became a float64 array in np.asarray and was refused."""
    m = horus.message(type("U64List", (), {"__annotations__": {"a": horus.array(np.uint64, 2)},
                                           "__module__": __name__}))()
    m.a = [2**64 - 1, 0]
    assert int(m.a[0]) == 2**64 - 1 and m.a.dtype == np.uint64
    m.a = [2**63, 2**64 - 1]
    assert m.a.tolist() == [2**63, 2**64 - 1]
    with pytest.raises(ValueError, match=r"U64List\.a: value 18446744073709551616 is out of range for uint64"):
        m.a = [2**64, 0]
    with pytest.raises(ValueError, match="out of range for uint64"):
        m.a = [-1, 2**64 - 1]
    with pytest.raises(TypeError):
        m.a = [2**63, 1.5]
    assert m.a.tolist() == [2**63, 2**64 - 1]
    i = horus.message(type("I64List", (), {"__annotations__": {"a": horus.array(np.int64, 2)},
                                           "__module__": __name__}))()
    i.a = [-(2**63), 2**63 - 1]
    assert i.a.tolist() == [-(2**63), 2**63 - 1]
    with pytest.raises(ValueError, match="out of range for int64"):
        i.a = [2**63, 0]
    with pytest.raises(ValueError, match="out of range for int64"):
        i.a = [-(2**63) - 1, 0]


def test_float_fields_range_and_types():
    e = Every()
    e.f32 = 3.4028234663852886e38
    assert e.f32 == float(np.finfo(np.float32).max)
    e.f32 = float("inf")
    assert e.f32 == float("inf")
    e.f32 = float("nan")
    assert e.f32 != e.f32
    # Out of range = a finite value that would round to infinity: FLT_MAX + half an ULP
    # (3.4028235677973366e38) and beyond; 65520 and beyond for float16.
    for v in (3.4028235677973366e38, 3.4028236e38, -3.4028236e38, 1e39, -1e39, 3.5e38, np.float64(1e39), 10**39):
        with pytest.raises(ValueError, match=r"Every\.f32 = .* out of range for float32"):
            e.f32 = v
    e.f32 = -3.4028235e38  # rounds to -FLT_MAX
    assert e.f32 == -float(np.finfo(np.float32).max)
    e.f16 = 65504.0
    assert e.f16 == 65504.0
    e.f16 = 65519.0  # rounds to 65504
    assert e.f16 == 65504.0
    e.f16 = -65504
    assert e.f16 == -65504.0
    for v in (65520.0, -65520.0, 65520, -70000.0, 1e39, 70000):
        with pytest.raises(ValueError, match=r"Every\.f16 = .* out of range for float16"):
            e.f16 = v
    assert e.f16 == -65504.0
    e.f16 = 0.1
    assert e.f16 == float(np.float16(0.1))
    e.f64 = 10**300
    assert e.f64 == 1e300
    with pytest.raises(ValueError):
        e.f64 = 10**400
    for v in ("1.0", True, np.bool_(False), None, b"1", [1.0]):
        with pytest.raises(TypeError, match=r"Every\.f64"):
            e.f64 = v
    e.f64 = np.float32(1.5)
    e.pf = 7  # an int into a float field is fine
    assert (e.f64, e.pf) == (1.5, 7.0)


def test_float_array_fields_range_checked():
    e = Every()
    with pytest.raises(ValueError, match=r"Every\.vec: value .* out of range for float32"):
        e.vec = [1e39, 0, 0, 0]
    with pytest.raises(ValueError, match=r"Every\.halves: value .* out of range for float16"):
        e.halves = [70000.0, 0.0]
    e.halves = [65504.0, -65504.0]
    np.testing.assert_array_equal(e.halves, [65504.0, -65504.0])
    e.vec = [np.inf, -np.inf, np.nan, 1]  # non-finite values are values
    assert np.isinf(e.vec[0]) and np.isnan(e.vec[2])
    with pytest.raises(TypeError):
        e.vec = [1 + 2j, 0, 0, 0]
    with pytest.raises(TypeError):
        e.vec = ["a", "b", "c", "d"]


def test_float32_field_accepts_the_value_its_error_names_as_the_bound():
    """Regression: 3.4028235e38 (rounds to FLT_MAX) was refused though the error names it as the bound."""
    assert np.float32(3.4028235e38) == np.finfo(np.float32).max  # NumPy rounds it to FLT_MAX
    e = Every()
    e.f32 = 3.4028235e38
    assert e.f32 == float(np.finfo(np.float32).max)


def test_float16_array_refuses_out_of_range_ints():
    """Regression: ints beyond float16's range used to become inf silently."""
    e = Every()
    for v in ([70000, 0], [0, -65520], np.array([65520, 0], dtype=np.int32)):
        with pytest.raises(ValueError, match=r"Every\.halves: value .* out of range for float16"):
            e.halves = v
    np.testing.assert_array_equal(e.halves, [0, 0])
    e.halves = [65519, -65504]  # rounds to +-65504
    np.testing.assert_array_equal(e.halves, [65504.0, -65504.0])
    with pytest.raises(ValueError, match=r"Every\.vec: value .* out of range for float32"):
        e.vec = [3.4028236e38, 0, 0, 0]
    e.vec = [3.4028235e38, 0, 0, 0]  # rounds to FLT_MAX
    assert e.vec[0] == np.finfo(np.float32).max


def test_bool_fields():
    e = Every()
    e.b = True
    e.pb = np.bool_(True)
    assert e.b is True and e.pb is True
    for v in (1, 0, 1.0, "True", None, np.int8(1)):
        with pytest.raises(TypeError, match=r"Every\.b = .*expected a bool"):
            e.b = v
    assert e.b is True


def test_array_shape_and_dtype_errors():
    e = Every()
    with pytest.raises(ValueError, match=r"Every\.vec takes shape \(4,\); got shape \(3,\)"):
        e.vec = [1, 2, 3]
    with pytest.raises(ValueError, match=r"Every\.mat takes shape \(3, 3\); got shape \(9,\)"):
        e.mat = np.arange(9.0)
    with pytest.raises(ValueError, match="shape"):
        e.vec = 1.0  # a scalar is shape ()
    with pytest.raises(TypeError, match=r"Every\.vec"):
        e.vec = "abcd"
    with pytest.raises(TypeError, match=r"Every\.vec takes float32 values; got complex"):
        e.vec = np.zeros(4, np.complex64)
    np.testing.assert_array_equal(e.vec, np.zeros(4))
    e.vec = np.arange(8, dtype=np.float64)[::2]  # non-contiguous input, converted
    np.testing.assert_array_equal(e.vec, [0, 2, 4, 6])
    e.mat = np.arange(9).reshape(3, 3)  # ints into a float array
    assert e.mat[2, 1] == 7.0


def test_string_fields():
    b = Battery()
    b.name = "a" * 16
    assert b.name == "a" * 16
    b.name = "é" * 8  # 16 bytes of UTF-8
    assert b.name == "é" * 8
    with pytest.raises(ValueError, match=r"Battery\.name = .* 17 bytes in UTF-8, longer than the capacity of 16"):
        b.name = "a" * 17
    with pytest.raises(ValueError, match="capacity of 16"):
        b.name = "é" * 8 + "a"  # 9 characters but 17 bytes
    with pytest.raises(ValueError, match="NUL"):
        b.name = "a\0b"
    with pytest.raises(ValueError, match="surrogate"):
        b.name = "\ud800"
    for v in (3, b"abc", None, ["a"]):
        with pytest.raises(TypeError, match=r"Battery\.name = .*expected a str"):
            b.name = v
    assert b.name == "é" * 8
    b.name = "short"
    assert b.name == "short"  # the old bytes past the new text are cleared
    assert bytes(b)[Battery.dtype.fields["name"][1]:][:16] == b"short" + bytes(11)


def test_string_array_fields():
    e = Every()
    e.names = ["ab", "", "wxyz"]
    assert e.names == ("ab", "", "wxyz")
    with pytest.raises(ValueError, match=r"Every\.names: 'abcde' is 5 bytes in UTF-8, longer than the capacity of 4"):
        e.names = ["abcde", "", ""]
    with pytest.raises(ValueError, match=r"takes \(3,\) strings"):
        e.names = ["a", "b"]
    with pytest.raises(ValueError, match="strings"):
        e.names = "abc"
    with pytest.raises(TypeError, match="every entry must be a str"):
        e.names = ["a", 1, "c"]
    with pytest.raises(ValueError, match="NUL"):
        e.names = ["a\0", "b", "c"]
    assert e.names == ("ab", "", "wxyz")


def test_nested_fields():
    e = Every()
    e.where = Point3(1, 2, 3)
    assert e.where == Point3(1, 2, 3)
    e.where = {"x": 4.0, "z": 6.0}
    assert (e.where.x, e.where.y, e.where.z) == (4.0, 0.0, 6.0)
    # The nested object is a view into the parent's bytes: writes go through.
    w = e.where
    w.y = 9.0
    assert e.where.y == 9.0
    assert isinstance(w, Point3)
    off = Every.dtype.fields["where"][1]
    assert np.frombuffer(bytes(e), dtype=np.float64, count=3, offset=off).tolist() == [4.0, 9.0, 6.0]
    lo, hi = buffer_range(e)
    wlo, whi = buffer_range(w)
    assert lo + off == wlo and whi <= hi
    del e
    assert w.y == 9.0  # the view keeps its parent alive

    @horus.message
    class Point3Other:  # same fields, another name: another type
        x: np.float64
        y: np.float64
        z: np.float64

    e = Every()
    for bad in (5, Point3Other(1, 2, 3), [1.0, 2.0, 3.0], "p", None):
        with pytest.raises(TypeError, match=r"Every\.where = .*expected Point3"):
            e.where = bad
    with pytest.raises(TypeError, match="unknown field"):
        e.where = {"w": 1.0}
    assert e.where == Point3()


def test_metadata_setter_errors():
    b = Battery()
    with pytest.raises(TypeError):
        b.set_frame_id(None)
    with pytest.raises(ValueError):
        b.set_frame_id("a\0b")
    with pytest.raises(ValueError):
        b.set_frame_id("é" * 32)  # 64 bytes
    with pytest.raises(ValueError):
        b.set_timestamp_ns(-5)
    assert (b.timestamp_ns, b.frame_id) == (0, "")


# ----------------------------------------------------------------- received: read-only
def test_received_message_is_read_only_everywhere(no_leak):
    e = Every(u8=3, vec=[1, 2, 3, 4], where=Point3(1, 2, 3), names=["a", "b", "c"], timestamp_ns=4, frame_id="f")
    r = received(e)
    assert r.is_shared() and not e.is_shared()
    assert r == e
    with pytest.raises(horus.ReadOnlyError, match=r"Every\.u8.*copy\(\)"):
        r.u8 = 4
    with pytest.raises(horus.ReadOnlyError):
        r.vec = [0, 0, 0, 0]
    with pytest.raises(horus.ReadOnlyError):
        r.names = ["x", "y", "z"]
    with pytest.raises(horus.ReadOnlyError):
        r.where = Point3()
    with pytest.raises(horus.ReadOnlyError):
        r.set_timestamp_ns(1)
    with pytest.raises(horus.ReadOnlyError):
        r.set_frame_id("g")
    v = r.vec
    assert not v.flags.writeable
    with pytest.raises(ValueError):
        v[0] = 9
    with pytest.raises(ValueError):
        r.mat[0, 0] = 9
    nested = r.where
    assert nested.is_shared()
    with pytest.raises(horus.ReadOnlyError):
        nested.x = 5.0
    assert memoryview(r).readonly and memoryview(nested).readonly
    with pytest.raises((TypeError, ValueError)):
        np.frombuffer(memoryview(r), dtype=np.uint8)[0] = 1
    assert (r.u8, r.where.x, r.timestamp_ns, r.frame_id) == (3, 1.0, 4, "f")
    c = r.copy()
    assert not c.is_shared() and c == r
    c.u8 = 200
    c.vec[0] = 100
    c.where.x = 50.0
    assert (r.u8, r.vec[0], r.where.x) == (3, 1.0, 1.0)
    assert (c.timestamp_ns, c.frame_id) == (4, "f")
    del r, v, nested, c


def test_nested_views_of_a_received_message_are_read_only(no_leak):
    @horus.message
    class Inner:
        v: horus.array(np.float32, 3)
        n: np.uint8

    @horus.message
    class Outer:
        tag: np.uint8
        inner: Inner

    r = received(Outer(1, Inner([1, 2, 3], 4)))
    inner = r.inner
    assert inner.is_shared() and (inner.n, inner.v.tolist()) == (4, [1.0, 2.0, 3.0])
    assert not inner.v.flags.writeable
    with pytest.raises(ValueError):
        inner.v[0] = 5
    with pytest.raises(horus.ReadOnlyError):
        inner.n = 5
    with pytest.raises(horus.ReadOnlyError):
        inner.v = [0, 0, 0]
    assert inside(inner.v, r)
    c = inner.copy()
    c.v[0] = 9
    assert c.v[0] == 9 and r.inner.v[0] == 1
    del r, inner, c


def test_array_view_outlives_its_message():
    v = Battery().cell_voltages
    import gc

    gc.collect()
    v[3] = 2.0
    assert v.tolist() == [0, 0, 0, 2.0, 0, 0, 0, 0]


def test_sent_message_stays_writable(no_leak):
    b = Battery(voltage=1.0)
    t = Topic(Battery, unique("sent"))
    t.send(b)
    b.voltage = 2.0
    b.cell_voltages[0] = 3.0
    assert not b.is_shared()
    got = t.recv(timeout=2)
    assert got.voltage == 1.0 and got.cell_voltages[0] == 0.0
    del got, t


# ----------------------------------------------------------------- value semantics
def test_array_views_write_through_and_lie_in_the_message():
    e = Every()
    v = e.vec
    assert isinstance(v, np.ndarray) and v.flags.writeable
    v[2] = 5.5
    assert e.vec[2] == 5.5
    m = e.mat
    m[1, 2] = 7.0
    assert e.mat[1, 2] == 7.0
    for arr in (e.vec, e.mat, e.halves, e.ann, v, m):
        assert inside(arr, e)
    off = Every.dtype.fields["vec"][1]
    lo, _ = buffer_range(e)
    assert e.vec.ctypes.data == lo + off
    assert np.frombuffer(bytes(e), dtype=np.float32, count=4, offset=off)[2] == 5.5
    rec = np.frombuffer(bytes(e), dtype=Every.dtype)[0]
    assert rec["mat"][1, 2] == 7.0


def test_equality_copy_and_deepcopy():
    b = Battery(1.0, 2.0, np.arange(8), True, "n", timestamp_ns=3, frame_id="f")
    c = b.copy()
    assert c == b and not (c != b) and c is not b
    assert (c.timestamp_ns, c.frame_id) == (3, "f")
    c.cell_voltages[0] = 42
    c.name = "other"
    assert b.cell_voltages[0] == 0 and b.name == "n"
    assert c != b
    assert copy.copy(b) == b and copy.deepcopy(b) == b and copy.deepcopy(b) is not b
    # Metadata is not part of the value.
    d = b.copy()
    d.set_timestamp_ns(99)
    assert d == b
    assert (b == 5) is False and b != "x"
    assert Battery() != Point3()
    with pytest.raises(TypeError):
        hash(b)


def test_to_dict_from_dict_round_trip():
    e = Every(i8=-5, u64=2**64 - 1, f16=0.5, s="hi", vec=[1, 2, 3, 4], mat=np.eye(3), names=["a", "b", "c"],
              where=Point3(1, 2, 3), ann=[1, 2, 3, 4, 5], pb=True)
    d = e.to_dict()
    assert d["i8"] == -5 and d["u64"] == 2**64 - 1 and d["s"] == "hi" and d["pb"] is True
    assert d["vec"] == [1.0, 2.0, 3.0, 4.0] and d["mat"][1] == [0.0, 1.0, 0.0]
    assert d["names"] == ("a", "b", "c") and d["where"] == {"x": 1.0, "y": 2.0, "z": 3.0}
    assert set(d) == set(Every.fields)
    assert Every.from_dict(d) == e
    with pytest.raises(TypeError, match="expects a dict"):
        Every.from_dict([("i8", 1)])
    with pytest.raises(TypeError, match="unknown field"):
        Every.from_dict({"nope": 1})


def test_to_dict_from_dict_round_trip_of_large_uint64_array_values():
    """Regression: to_dict() of a uint64 array with a value >= 2**63 gave a list from_dict() refused."""
    cls = horus.message(type("U64Dict", (), {"__annotations__": {"a": horus.array(np.uint64, 2)},
                                             "__module__": __name__}))
    m = cls(a=np.array([2**63, 1], dtype=np.uint64))
    assert cls.from_dict(m.to_dict()) == m


def test_repr():
    b = Battery(12.4, charging=True, name="pack", timestamp_ns=5, frame_id="base")
    r = repr(b)
    assert r.startswith("Battery(voltage=12.4, current=0.0, cell_voltages=[0., 0.")
    assert "charging=True" in r and "name='pack'" in r and "timestamp_ns=5" in r and "frame_id='base'" in r
    assert "timestamp_ns" not in repr(Battery())
    big = repr(horus.LaserScan())
    assert "..." in big and len(big) < 2000


def test_pickle_round_trip():
    e = Every(i64=-(2**63), u32=7, f16=1.5, vec=[1, 2, 3, 4], names=["x", "", "z"], where=Point3(1, 2, 3),
              timestamp_ns=11, frame_id="map")
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        p = pickle.loads(pickle.dumps(e, protocol=proto))
        assert type(p) is Every and p == e and bytes(p) == bytes(e)
        assert (p.timestamp_ns, p.frame_id) == (11, "map")
        assert not p.is_shared()
        p.u32 = 8


def test_pickle_of_a_received_message_is_writable(no_leak):
    r = received(Battery(voltage=3.0, timestamp_ns=1))
    p = pickle.loads(pickle.dumps(r))
    assert p == r and not p.is_shared() and p.timestamp_ns == 1
    p.voltage = 4.0
    scan = horus.LaserScan(count=3, timestamp_ns=9, frame_id="lidar")
    scan.ranges[:] = np.arange(2048)
    rs = received(scan)  # pooled: a view of a pool block
    ps = pickle.loads(pickle.dumps(rs))
    assert ps == scan and not ps.is_shared() and (ps.timestamp_ns, ps.frame_id) == (9, "lidar")
    ps.ranges[0] = -1.0
    assert rs.ranges[0] == 0.0
    del r, rs


def test_buffer_protocol_is_the_c_bytes():
    b = Battery(voltage=1.5, current=-2.0, charging=True, name="ab")
    b.cell_voltages[:] = np.arange(8)
    raw = bytes(b)
    assert len(raw) == Battery.dtype.itemsize == memoryview(b).nbytes
    rec = np.frombuffer(raw, dtype=Battery.dtype)[0]
    assert rec["voltage"] == 1.5 and rec["current"] == -2.0 and rec["charging"]
    assert rec["name"] == b"ab"
    np.testing.assert_array_equal(rec["cell_voltages"], np.arange(8))
    assert raw[:4] == np.float32(1.5).tobytes()
    # Writes through a writable buffer change the message.
    np.frombuffer(memoryview(b), dtype=np.float32, count=1)[0] = 9.0
    assert b.voltage == 9.0
    # Padding is zero.
    assert bytes(Every()) == bytes(Every.dtype.itemsize)


def test_undeclared_base_cannot_be_instantiated():
    with pytest.raises(TypeError, match="not a declared message"):
        horus.TypedMessage()
