"""Bad input (issue 3, section 9): each case raises a specific exception whose
message names the bad value and what is allowed, and leaks nothing."""

from __future__ import annotations

import numpy as np
import pytest

import horus
from horus import DepthImage, Image, PointCloud, Tensor

pytestmark = pytest.mark.usefixtures("no_leak")


def raises(exc, call, *substrings):
    with pytest.raises(exc) as e:
        call()
    msg = str(e.value)
    for s in substrings:
        assert s in msg, f"{s!r} not in {msg!r}"
    return msg


# --- unknown encoding or dtype -------------------------------------------------
def test_unknown_encoding():
    raises(ValueError, lambda: Image(height=2, width=2, encoding="rgb9"), "'rgb9'", "mono8", "depth16", "bayer_rggb8")
    raises(ValueError, lambda: Image.from_numpy(np.zeros((2, 2), np.uint8), encoding="RGB8"), "'RGB8'", "mono8")
    raises(ValueError, lambda: Image.from_bytes(b"\0" * 4, height=2, width=2, encoding=""), "''", "rgb8")


def test_unknown_or_unsupported_dtype():
    raises(ValueError, lambda: DepthImage(height=2, width=2, dtype="float31"), "'float31'", "float32", "uint16")
    raises(ValueError, lambda: DepthImage(height=2, width=2, dtype="int8"), "'int8'", "float32", "uint16")
    raises(ValueError, lambda: PointCloud(num_points=2, dtype="int32"), "'int32'", "float32", "float64")
    raises(ValueError, lambda: Tensor((2,), "complex64"), "'complex64'", "float32", "uint64", "bool")


# --- zero, negative or absurdly large sizes ------------------------------------
@pytest.mark.parametrize("h, w, bad", [(0, 4, "height = 0"), (4, 0, "width = 0"), (-1, 4, "height = -1"),
                                       (4, -7, "width = -7"), (10**12, 4, "height = 1000000000000"),
                                       (4, 2**40, f"width = {2**40}")])
def test_bad_image_sizes(h, w, bad):
    raises(ValueError, lambda: Image(height=h, width=w, encoding="mono8"), bad, "1..1048576")
    raises(ValueError, lambda: DepthImage(height=h, width=w), bad, "1..1048576")
    raises(ValueError, lambda: Image.from_bytes(b"", height=h, width=w, encoding="mono8"), bad, "1..")


def test_bad_cloud_sizes():
    raises(ValueError, lambda: PointCloud(num_points=-1), "num_points = -1", "0..")
    raises(ValueError, lambda: PointCloud(num_points=2**40), f"num_points = {2**40}", "0..4294967296")
    raises(ValueError, lambda: PointCloud(num_points=3, fields=0), "fields = 0", "1..64")
    raises(ValueError, lambda: PointCloud(num_points=3, fields=65), "fields = 65", "1..64")


def test_bad_tensor_shapes():
    raises(ValueError, lambda: Tensor((-1, 3)), "-1", ">= 0")
    raises(ValueError, lambda: Tensor((1,) * 9), "9 dimensions", "at most 8")
    raises(ValueError, lambda: Tensor((2**30, 2**30, 2**30)), str(2**30), "2^50")
    raises(TypeError, lambda: Tensor("abc"), "'abc'", "sequence of ints")
    raises(TypeError, lambda: Tensor((2.5,)), "2.5", "ints")


def test_allocation_beyond_the_cap_is_pool_exhausted():
    cap = horus.pool_stats().max_bytes
    side = 1 << 20  # the largest side; 2^40 bytes is beyond any cap here
    if side * side <= cap:
        pytest.skip("pool cap larger than 1 TiB")
    msg = raises(horus.PoolExhausted, lambda: Image(height=side, width=side, encoding="mono8"),
                 str(side * side), "HORUS_POOL_MAX_BYTES")
    assert str(cap) in msg
    assert issubclass(horus.PoolExhausted, MemoryError)


# --- shape / dtype / encoding mismatch in from_numpy / from_torch --------------
def test_from_numpy_shape_mismatch():
    raises(ValueError, lambda: Image.from_numpy(np.zeros(5, np.uint8)), "(5,)", "(H, W)")
    raises(ValueError, lambda: Image.from_numpy(np.zeros((2, 2, 3, 1), np.uint8)), "(2, 2, 3, 1)", "(H, W")
    raises(ValueError, lambda: Image.from_numpy(np.zeros((0, 4), np.uint8)), "height = 0", "1..")
    raises(ValueError, lambda: Image.from_numpy(np.zeros((2, 2, 3), np.uint8), encoding="rgba8"),
           "rgba8", "(H, W, 4)", "(2, 2, 3)")
    raises(ValueError, lambda: Image.from_numpy(np.zeros((2, 2, 3), np.float64)), "float64", "encoding=")
    raises(ValueError, lambda: DepthImage.from_numpy(np.zeros((2, 2, 2), np.float32)), "(2, 2, 2)", "(H, W)")
    raises(ValueError, lambda: PointCloud.from_numpy(np.zeros(6, np.float32)), "(6,)", "(N, F)")
    raises(ValueError, lambda: PointCloud.from_numpy(np.zeros((2, 0), np.float32)), "fields = 0", "1..64")


def test_from_numpy_dtype_mismatch():
    raises(ValueError, lambda: Image.from_numpy(np.zeros((2, 2), np.uint16), encoding="mono8"), "uint8", "uint16")
    raises(TypeError, lambda: DepthImage.from_numpy(np.zeros((2, 2), np.float64)), "float64", "float32", "uint16")
    raises(TypeError, lambda: DepthImage.from_numpy(np.zeros((2, 2), np.int32)), "int32", "float32")
    raises(TypeError, lambda: PointCloud.from_numpy(np.zeros((2, 3), np.int64)), "int64", "float32")


def test_from_torch_mismatches():
    torch = pytest.importorskip("torch")
    raises(ValueError, lambda: Image.from_torch(torch.zeros(2, 2, 3, dtype=torch.int32)), "int32", "encoding=")
    raises(ValueError, lambda: Image.from_torch(torch.zeros(2, 2, dtype=torch.uint8), encoding="rgb8"),
           "rgb8", "(2, 2)")
    raises(TypeError, lambda: DepthImage.from_torch(torch.zeros(2, 2, dtype=torch.float64)), "float64", "float32")
    raises(TypeError, lambda: PointCloud.from_torch(torch.zeros(2, 3, dtype=torch.int64)), "int64", "float32")
    raises(TypeError, lambda: Image.from_torch(np.zeros((2, 2), np.uint8)), "torch.Tensor", "ndarray")
    raises(TypeError, lambda: Tensor.from_torch(torch.zeros(2, dtype=torch.complex64)), "DLPack code 5", "float32")
    raises(TypeError, lambda: Tensor.from_torch(torch.zeros(2, dtype=torch.bfloat16)), "16 bits", "float16")


# --- wrong byte counts ---------------------------------------------------------
def test_from_bytes_wrong_count():
    raises(ValueError, lambda: Image.from_bytes(b"\0" * 11, height=2, width=2, encoding="rgb8"), "11 bytes", "exactly 12")
    raises(ValueError, lambda: Image.from_bytes(b"\0" * 13, height=2, width=2, encoding="rgb8"), "13", "12")
    raises(ValueError, lambda: Image.from_bytes(b"", height=2, width=2, encoding="mono16"), "0 bytes", "exactly 8")
    raises(TypeError, lambda: Image.from_bytes("text", height=1, width=4, encoding="mono8"), "str", "bytes-like")
    raises(TypeError, lambda: Image.from_bytes(np.zeros((4, 4), np.uint8)[:, ::2], height=2, width=4,
                                               encoding="mono8"), "C-contiguous")


def test_copy_from_wrong_count():
    img = Image(height=2, width=3, encoding="rgb8")
    raises(ValueError, lambda: img.copy_from(b"\0" * 17), "17 bytes", "exactly 18")
    raises(ValueError, lambda: img.copy_from(b""), "0 bytes", "18")
    raises(TypeError, lambda: img.copy_from(123), "int", "bytes-like")


# --- pixel / depth coordinates out of range -------------------------------------
@pytest.mark.parametrize("x, y", [(5, 0), (0, 4), (-1, 0), (0, -1), (10**6, 10**6)])
def test_pixel_coordinates(x, y):
    img = Image(height=4, width=5, encoding="rgb8")
    for call in (lambda: img.pixel(x, y), lambda: img.set_pixel(x, y, [1, 2, 3])):
        raises(IndexError, call, f"({x}, {y})", "x: 0..4", "y: 0..3")
    d = DepthImage(height=4, width=5)
    for call in (lambda: d.get_depth(x, y), lambda: d.set_depth(x, y, 1.0)):
        raises(IndexError, call, f"({x}, {y})", "x: 0..4", "y: 0..3")


# --- set_pixel with wrong count or out-of-range values ---------------------------
def test_set_pixel_wrong_number_of_values():
    img = Image(height=2, width=2, encoding="rgb8")
    raises(ValueError, lambda: img.set_pixel(0, 0, [1, 2]), "2 values", "rgb8", "3")
    raises(ValueError, lambda: img.set_pixel(0, 0, [1, 2, 3, 4]), "4 values", "3")
    raises(ValueError, lambda: img.set_pixel(0, 0, []), "0 values", "3")
    raises(ValueError, lambda: img.fill([1, 2]), "2 values", "3")
    raises(TypeError, lambda: img.set_pixel(0, 0, "abc"), "'abc'", "number")
    raises(TypeError, lambda: img.set_pixel(0, 0, [1, None, 3]), "None", "number")


@pytest.mark.parametrize("encoding, value, allowed", [
    ("rgb8", 256, "[0, 255]"), ("rgb8", -1, "[0, 255]"), ("rgb8", 1.5, "[0, 255]"),
    ("mono16", 65536, "[0, 65535]"), ("mono16", -3, "[0, 65535]"),
    ("mono32f", 1e39, "float32"), ("rgb32f", -1e39, "float32"),
])
def test_set_pixel_values_out_of_range(encoding, value, allowed):
    img = Image(height=2, width=2, encoding=encoding)
    img.fill(0)
    channels = horus.ENCODINGS[encoding][0]
    values = [0] * (channels - 1) + [value]
    shown = "e+38" if abs(value) > 1e38 else str(value)  # 1e39 is shown as 9.99...e+38
    raises(ValueError, lambda: img.set_pixel(1, 1, values), shown, allowed)
    raises(ValueError, lambda: img.fill(values), allowed)
    assert not img.to_numpy().any()  # nothing was written


def test_float_images_accept_inf_and_nan():
    """inf and NaN are float32 values (no measurement, saturated): not out of range."""
    img = Image(height=1, width=2, encoding="mono32f")
    img.set_pixel(0, 0, [float("inf")])
    img.set_pixel(1, 0, [float("nan")])
    assert img.pixel(0, 0) == [float("inf")] and np.isnan(img.pixel(1, 0)[0])


# --- ROI -------------------------------------------------------------------------
@pytest.mark.parametrize("x, y, w, h", [(4, 0, 2, 1), (0, 3, 1, 2), (-1, 0, 1, 1), (0, -1, 1, 1), (0, 0, 6, 1),
                                        (2**62, 0, 1, 1)])
def test_roi_outside(x, y, w, h):
    img = Image(height=4, width=5, encoding="mono8")
    raises(IndexError, lambda: img.roi(x=x, y=y, w=w, h=h), f"x={x} y={y} w={w} h={h}", "x + w <= 5", "y + h <= 4")


@pytest.mark.parametrize("w, h", [(0, 1), (1, 0), (-2, 3)])
def test_roi_empty(w, h):
    img = Image(height=4, width=5, encoding="mono8")
    raises(ValueError, lambda: img.roi(x=0, y=0, w=w, h=h), f"{w}x{h}", ">= 1")


# --- point_at --------------------------------------------------------------------
def test_point_at_out_of_range():
    c = PointCloud(num_points=3)
    for i in (3, -1, 10**9):
        raises(IndexError, lambda: c.point_at(i), f"index {i}", "3 points", "0..2")
    raises(TypeError, lambda: PointCloud(num_points=3, dtype="float64").point_at(0), "float64", "float32")


# --- depth values ----------------------------------------------------------------
def test_negative_or_invalid_depth():
    d = DepthImage(height=2, width=2, dtype="float32")
    d.set_depth(0, 0, 1.0)
    raises(ValueError, lambda: d.set_depth(0, 0, -0.5), "-0.5", ">= 0")
    raises(ValueError, lambda: d.set_depth(0, 0, float("inf")), "inf", "finite")
    raises(ValueError, lambda: d.set_depth(0, 0, 1e39), "finite")
    assert d.get_depth(0, 0) == 1.0
    mm = DepthImage(height=2, width=2, dtype="uint16")
    raises(ValueError, lambda: mm.set_depth(0, 0, -0.001), "-0.001", "0..65.535")
    raises(ValueError, lambda: mm.set_depth(0, 0, 65.6), "65.6", "0..65.535")
    raises(ValueError, lambda: mm.set_depth(0, 0, float("nan")), "nan", "0..65.535")


# --- non-numeric arrays, non-CPU arrays -----------------------------------------------
@pytest.mark.parametrize("cls", [Image, DepthImage, PointCloud, Tensor])
def test_non_numeric_arrays(cls):
    raises(TypeError, lambda: cls.from_numpy(np.zeros((2, 3), dtype=object)), "object", "float32")
    raises(TypeError, lambda: cls.from_numpy(np.zeros((2, 3), dtype="U3")), "U3", "uint8")
    raises(TypeError, lambda: cls.from_numpy(np.zeros((2, 3), dtype=">f4")), ">f4", "float32")
    raises(TypeError, lambda: cls.from_numpy(np.zeros((2, 3), dtype=np.complex64)), "DLPack code 5")
    raises(TypeError, lambda: cls.from_numpy([[1, 2, 3], [4, 5, 6]]), "list", "CPU arrays")
    raises(TypeError, lambda: cls.from_numpy(None), "None")
    raises(TypeError, lambda: cls.from_numpy("abc"), "str")


@pytest.mark.parametrize("cls", [Image, DepthImage, PointCloud, Tensor])
def test_non_cpu_tensors(cls):
    torch = pytest.importorskip("torch")
    meta = torch.zeros(2, 3, device="meta")
    raises(TypeError, lambda: cls.from_torch(meta), "'meta'", "CPU", ".cpu()")
    raises(TypeError, lambda: cls.from_numpy(meta), "Tensor", "CPU arrays")


# --- metadata ---------------------------------------------------------------------
def test_bad_metadata():
    img = Image(height=2, width=2, encoding="mono8")
    raises(ValueError, lambda: img.set_frame_id("x" * 64), "64 bytes", "at most 63")
    raises(ValueError, lambda: img.set_frame_id("a\0b"), "NUL")
    raises(ValueError, lambda: img.set_timestamp_ns(-1), "-1", "0..2^64-1")
    raises(ValueError, lambda: img.set_timestamp_ns(2**64), str(2**64), "0..2^64-1")
    assert img.frame_id == "" and img.timestamp_ns == 0


def test_errors_do_not_corrupt_the_message():
    img = Image.from_numpy(np.arange(12, dtype=np.uint8).reshape(2, 2, 3))
    before = img.to_numpy().copy()
    for call in (lambda: img.set_pixel(0, 0, [1, 2]), lambda: img.set_pixel(9, 9, [1, 2, 3]),
                 lambda: img.fill([300, 0, 0]), lambda: img.copy_from(b"xx"), lambda: img.roi(x=5, y=0, w=1, h=1)):
        with pytest.raises((ValueError, IndexError)):
            call()
    np.testing.assert_array_equal(img.to_numpy(), before)


def test_exception_hierarchy():
    assert issubclass(horus.PoolExhausted, horus.HorusError) and issubclass(horus.PoolExhausted, MemoryError)
    assert issubclass(horus.ReadOnlyError, horus.HorusError) and issubclass(horus.ReadOnlyError, ValueError)
    assert issubclass(horus.ShmError, OSError) and issubclass(horus.StaleReference, horus.HorusError)


# --- ints and floats of the wrong kind or beyond int64 ---------------------------------------
# nanobind's own casters answered all of these with "incompatible function arguments",
# which names neither the value nor what is allowed. (None still gets that answer, which
# names NoneType: accepting None would make the signatures and stubs say `int | None`.)
# Every entry point that takes an int:
# (id, call with the value, a valid value, error beyond +int64, error beyond -int64,
#  text the message must hold besides the value).
def _img():
    return Image(height=4, width=5, encoding="rgb8")


def _depth():
    return DepthImage(height=4, width=5)


def _topic(v):
    return horus.Topic(Image, f"bad_int_capacity_{id(object())}", capacity=v)


INT_ENTRY_POINTS = [
    ("Image.height", lambda v: Image(height=v, width=2), 3, ValueError, ValueError, "1..1048576"),
    ("Image.width", lambda v: Image(height=2, width=v), 3, ValueError, ValueError, "1..1048576"),
    ("Image.from_bytes.height", lambda v: Image.from_bytes(b"\0\0", height=v, width=2, encoding="mono8"), 1,
     ValueError, ValueError, "1..1048576"),
    ("Image.from_bytes.width", lambda v: Image.from_bytes(b"\0\0", height=1, width=v, encoding="mono8"), 2,
     ValueError, ValueError, "1..1048576"),
    ("DepthImage.height", lambda v: DepthImage(height=v, width=2), 3, ValueError, ValueError, "1..1048576"),
    ("DepthImage.width", lambda v: DepthImage(height=2, width=v), 3, ValueError, ValueError, "1..1048576"),
    ("PointCloud.num_points", lambda v: PointCloud(num_points=v), 3, ValueError, ValueError, "0..4294967296"),
    ("PointCloud.fields", lambda v: PointCloud(num_points=2, fields=v), 4, ValueError, ValueError, "1..64"),
    ("Tensor.shape", lambda v: Tensor((2, v)), 3, ValueError, ValueError, "Tensor shape entry"),
    ("Tensor.shape_int", lambda v: Tensor(v), 3, ValueError, ValueError, "Tensor shape entry"),
    ("Topic.capacity", _topic, 16, ValueError, ValueError, "power of two from 1 to 65536"),
    ("set_timestamp_ns", lambda v: _img().set_timestamp_ns(v), 5, ValueError, ValueError, "0..2^64-1"),
    ("Image.pixel.x", lambda v: _img().pixel(v, 0), 4, IndexError, IndexError, "x: 0..4, y: 0..3"),
    ("Image.pixel.y", lambda v: _img().pixel(0, v), 3, IndexError, IndexError, "x: 0..4, y: 0..3"),
    ("Image.set_pixel.x", lambda v: _img().set_pixel(v, 0, [1, 2, 3]), 4, IndexError, IndexError, "x: 0..4"),
    ("Image.set_pixel.y", lambda v: _img().set_pixel(0, v, [1, 2, 3]), 3, IndexError, IndexError, "y: 0..3"),
    ("Image.roi.x", lambda v: _img().roi(x=v, y=0, w=1, h=1), 4, IndexError, IndexError, "x + w <= 5"),
    ("Image.roi.y", lambda v: _img().roi(x=0, y=v, w=1, h=1), 3, IndexError, IndexError, "y + h <= 4"),
    ("Image.roi.w", lambda v: _img().roi(x=0, y=0, w=v, h=1), 5, IndexError, ValueError, "roi"),
    ("Image.roi.h", lambda v: _img().roi(x=0, y=0, w=1, h=v), 4, IndexError, ValueError, "roi"),
    ("DepthImage.get_depth.x", lambda v: _depth().get_depth(v, 0), 4, IndexError, IndexError, "x: 0..4, y: 0..3"),
    ("DepthImage.get_depth.y", lambda v: _depth().get_depth(0, v), 3, IndexError, IndexError, "x: 0..4, y: 0..3"),
    ("DepthImage.set_depth.x", lambda v: _depth().set_depth(v, 0, 1.0), 4, IndexError, IndexError, "x: 0..4"),
    ("DepthImage.set_depth.y", lambda v: _depth().set_depth(0, v, 1.0), 3, IndexError, IndexError, "y: 0..3"),
    ("PointCloud.point_at", lambda v: PointCloud(num_points=3).point_at(v), 2, IndexError, IndexError, "0..2"),
]
INT_IDS = [e[0] for e in INT_ENTRY_POINTS]


@pytest.mark.parametrize("entry", INT_ENTRY_POINTS, ids=INT_IDS)
@pytest.mark.parametrize("value", [2**63, 2**64, 10**30, -(2**63) - 1, -(10**30)],
                         ids=["2^63", "2^64", "10^30", "-2^63-1", "-10^30"])
def test_int_beyond_int64_names_value_and_range(entry, value):
    name, call, _, above, below, valid = entry
    if name == "set_timestamp_ns" and 0 <= value < 2**64:
        call(value)  # a uint64: 2^63 is a valid timestamp
        return
    exc = above if value > 0 else below
    msg = raises(exc, lambda: call(value), str(value))
    assert "incompatible function arguments" not in msg
    if name.startswith("Image.roi.") and name[-1] in "wh" and value < 0:
        assert "is empty" in msg and ">= 1" in msg, msg
    elif name.startswith("Tensor.shape") and value < 0:
        assert ">= 0" in msg, msg
    elif name.startswith("Tensor.shape"):
        assert "2^50" in msg, msg
    else:
        assert valid in msg, msg


@pytest.mark.parametrize("entry", INT_ENTRY_POINTS, ids=INT_IDS)
@pytest.mark.parametrize("value", [1.5, 2.0, float("nan"), "3", True, np.float64(2.0), np.float32(2.0), 1 + 0j, [2]],
                         ids=["1.5", "2.0", "nan", "str", "True", "np.float64", "np.float32", "complex", "list"])
def test_non_int_is_a_type_error_naming_the_value(entry, value):
    name, call, *_ = entry
    if name == "Tensor.shape_int" and isinstance(value, list):
        return  # Tensor([2]) is a valid shape
    msg = raises(TypeError, lambda: call(value), repr(value))
    assert "int" in msg and "incompatible function arguments" not in msg, msg


@pytest.mark.parametrize("entry", INT_ENTRY_POINTS, ids=INT_IDS)
def test_numpy_ints_are_ints(entry):
    name, call, ok, *_ = entry
    for v in (ok, np.int64(ok), np.uint16(ok), np.int8(ok)):
        call(v)


def test_float_argument_of_set_depth():
    d = _depth()
    raises(ValueError, lambda: d.set_depth(0, 0, 10**400), "depth", "(401 digits)", ">= 0")
    raises(TypeError, lambda: d.set_depth(0, 0, "1.0"), "depth", "'1.0'", "number")
    raises(TypeError, lambda: d.set_depth(0, 0, True), "depth", "True", "number")
    d.set_depth(0, 0, 2)
    d.set_depth(1, 0, np.float32(1.5))
    assert d.get_depth(0, 0) == 2.0 and d.get_depth(1, 0) == 1.5


def test_huge_value_reprs_are_shortened():
    msg = raises(ValueError, lambda: Image(height=10**400, width=2), "height = 1000000000000000", "(401 digits)",
                 "1..1048576")
    assert len(msg) < 200, msg
