"""Property tests: random shapes, dtypes, encodings, coordinates, ROIs and byte
strings. Every call either succeeds with the result numpy predicts or raises one
of the documented exceptions; nothing leaks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import horus
from horus import DepthImage, Image, PointCloud, Tensor

DOCUMENTED = (ValueError, TypeError, IndexError, horus.PoolExhausted)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENCODINGS = sorted(horus.ENCODINGS)
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]
small = st.integers(min_value=-3, max_value=12)
coord = st.integers(min_value=-5, max_value=20)


@SETTINGS
@given(h=small, w=small, encoding=st.sampled_from(ENCODINGS + ["bogus", ""]))
def test_image_constructor(h, w, encoding, no_leak):
    ok = h >= 1 and w >= 1 and encoding in horus.ENCODINGS
    try:
        img = Image(height=h, width=w, encoding=encoding)
    except DOCUMENTED:
        assert not ok
        return
    assert ok
    c, bpp, dtype = horus.ENCODINGS[encoding]
    assert (img.height, img.width, img.channels, img.dtype, img.step, img.nbytes) == (h, w, c, dtype, w * bpp, h * w * bpp)


@SETTINGS
@given(arr=hnp.arrays(dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int8]),
                      shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)),
       transpose=st.booleans(), encoding=st.one_of(st.none(), st.sampled_from(ENCODINGS)))
def test_image_from_numpy(arr, transpose, encoding, no_leak):
    if transpose and arr.ndim >= 2:
        arr = np.swapaxes(arr, 0, 1)
    try:
        img = Image.from_numpy(arr, encoding=encoding)
    except DOCUMENTED:
        return
    assert arr.ndim in (2, 3) and arr.shape[0] >= 1 and arr.shape[1] >= 1
    c, _, dtype = horus.ENCODINGS[img.encoding]
    assert arr.dtype == np.dtype(dtype) and (arr.shape[2] if arr.ndim == 3 else 1) == c
    if encoding is not None:
        assert img.encoding == encoding
    np.testing.assert_array_equal(img.to_numpy().reshape(arr.shape), arr)


@SETTINGS
@given(data=st.binary(max_size=80), h=st.integers(-1, 5), w=st.integers(-1, 5), encoding=st.sampled_from(ENCODINGS))
def test_from_bytes_and_copy_from(data, h, w, encoding, no_leak):
    _, bpp, dtype = horus.ENCODINGS[encoding]
    try:
        img = Image.from_bytes(data, height=h, width=w, encoding=encoding)
    except DOCUMENTED:
        assert not (h >= 1 and w >= 1 and len(data) == h * w * bpp)
        return
    assert len(data) == h * w * bpp
    assert img.to_numpy().tobytes() == data
    rev = data[::-1]
    img.copy_from(rev)
    assert img.to_numpy().tobytes() == rev
    with pytest.raises(ValueError):
        img.copy_from(data + b"\0")


@SETTINGS
@given(encoding=st.sampled_from(ENCODINGS), x=coord, y=coord, data=st.data())
def test_pixel_access(encoding, x, y, data, no_leak):
    c, _, dtype = horus.ENCODINGS[encoding]
    img = Image(height=6, width=9, encoding=encoding)
    img.fill(0)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "ui" else None
    lo, hi = (info.min, info.max) if info else (-1e6, 1e6)
    values = data.draw(st.lists(st.integers(int(lo) - 2, int(hi) + 2), min_size=0, max_size=5))
    inside = 0 <= x < 9 and 0 <= y < 6
    valid = len(values) == c and all(lo <= v <= hi for v in values)
    try:
        img.set_pixel(x, y, values)
    except DOCUMENTED as e:
        assert not (inside and valid)
        assert isinstance(e, IndexError) or not valid
        assert not img.to_numpy().any()
        return
    assert inside and valid
    assert img.pixel(x, y) == [float(v) if info is None else v for v in values]
    assert img.to_numpy()[y, x].reshape(-1).tolist() == values


@SETTINGS
@given(x=coord, y=coord, w=st.integers(-2, 12), h=st.integers(-2, 12), encoding=st.sampled_from(ENCODINGS))
def test_roi_matches_numpy(x, y, w, h, encoding, no_leak):
    _, bpp, dtype = horus.ENCODINGS[encoding]
    raw = (np.arange(7 * 10 * bpp) % 251).astype(np.uint8).tobytes()
    img = Image.from_bytes(raw, height=7, width=10, encoding=encoding)
    try:
        out = img.roi(x=x, y=y, w=w, h=h)
    except DOCUMENTED as e:
        assert w < 1 or h < 1 or x < 0 or y < 0 or x + w > 10 or y + h > 7
        assert isinstance(e, ValueError if (w < 1 or h < 1) else IndexError)
        return
    expected = np.frombuffer(raw, np.uint8).reshape(7, 10, bpp)[y:y + h, x:x + w].tobytes()
    assert out == expected


@SETTINGS
@given(arr=hnp.arrays(dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
                      shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5)),
       order=st.sampled_from(["C", "F", "rev"]))
def test_tensor_round_trip(arr, order, no_leak):
    if order == "F":
        arr = np.asfortranarray(arr)
    elif order == "rev" and arr.ndim:
        arr = arr[::-1]
    t = Tensor.from_numpy(arr)
    assert t.shape == arr.shape and t.dtype == arr.dtype.name and t.nbytes == arr.nbytes
    np.testing.assert_array_equal(t.to_numpy(), arr)
    assert Tensor.from_numpy(t.to_numpy()).data_ptr() == t.data_ptr() or arr.size == 0


@SETTINGS
@given(shape=st.lists(st.integers(-2, 4), max_size=10), dtype=st.sampled_from(DTYPES + ["complex64", "x"]))
def test_tensor_constructor(shape, dtype, no_leak):
    ok = len(shape) <= 8 and all(s >= 0 for s in shape) and dtype in DTYPES
    try:
        t = Tensor(shape, dtype)
    except DOCUMENTED:
        assert not ok
        return
    assert ok and t.shape == tuple(shape) and t.to_numpy().shape == tuple(shape)


@SETTINGS
@given(n=st.integers(-2, 50), f=st.integers(-1, 70), dtype=st.sampled_from(["float32", "float64", "float16", "int32"]),
       i=st.integers(-3, 60))
def test_point_cloud(n, f, dtype, i, no_leak):
    try:
        c = PointCloud(num_points=n, fields=f, dtype=dtype)
    except DOCUMENTED:
        assert n < 0 or not 1 <= f <= 64 or dtype == "int32"
        return
    arr = c.to_numpy()
    arr[...] = np.arange(arr.size).reshape(arr.shape)
    assert (c.is_xyz(), c.has_intensity(), c.has_color()) == (f == 3, f >= 4, f >= 6)
    try:
        p = c.point_at(i)
    except TypeError:
        assert dtype != "float32"
        return
    except IndexError:
        assert not 0 <= i < n
        return
    assert p == arr[i].astype(float).tolist()


@SETTINGS
@given(values=hnp.arrays(np.float32, (4, 5), elements=st.one_of(st.floats(-2, 70, width=32), st.sampled_from([float("nan"), float("inf"), -float("inf")]))),
       mm=st.booleans(), x=coord, y=coord, metres=st.one_of(st.floats(-1, 70), st.just(float("nan"))))
def test_depth(values, mm, x, y, metres, no_leak):
    if mm:
        src = np.clip(np.nan_to_num(values, nan=0, posinf=0, neginf=0), 0, 65).astype(np.float64)
        src = np.round(src * 1000).astype(np.uint16)
        metres_grid = src * 0.001
        valid = src[src > 0] * 0.001
    else:
        src = values
        metres_grid = src.astype(np.float64)
        valid = src[np.isfinite(src) & (src > 0)].astype(np.float64)
    d = DepthImage.from_numpy(src)
    stats = d.depth_statistics()
    if valid.size == 0:
        assert stats is None
    else:
        assert stats == pytest.approx((valid.min(), valid.max(), valid.mean()), rel=1e-5)
    inside = 0 <= x < 5 and 0 <= y < 4
    try:
        got = d.get_depth(x, y)
    except IndexError:
        assert not inside
        return
    assert got == pytest.approx(metres_grid[y, x], nan_ok=True)
    try:
        d.set_depth(x, y, metres)
    except ValueError:
        assert metres < 0 or (mm and not (0 <= metres <= 65.535)) or (not mm and np.isinf(metres))
        return
    if mm:
        assert d.to_numpy()[y, x] == round(metres * 1000)
    else:
        assert d.get_depth(x, y) == pytest.approx(np.float32(metres), nan_ok=True)
