"""horus.DepthImage: float32 metres and uint16 millimetres."""

from __future__ import annotations

import math

import numpy as np
import pytest

from horus import DepthImage


@pytest.mark.parametrize("dtype, itemsize, metres", [("float32", 4, True), ("uint16", 2, False)])
def test_construct_and_properties(dtype, itemsize, metres, no_leak):
    d = DepthImage(height=4, width=6, dtype=dtype)
    assert (d.height, d.width, d.dtype, d.nbytes) == (4, 6, dtype, 4 * 6 * itemsize)
    assert d.is_meters() is metres and d.is_millimeters() is (not metres)
    assert d.depth_scale == pytest.approx(1.0 if metres else 0.001)
    assert d.to_numpy().shape == (4, 6) and d.to_numpy().dtype == np.dtype(dtype)
    assert d.frame_id == "" and d.timestamp_ns == 0
    d.set_frame_id("depth_cam")
    d.set_timestamp_ns(42)
    assert d.frame_id == "depth_cam" and d.timestamp_ns == 42
    assert d.is_cpu() is True


def test_default_dtype_is_float32():
    assert DepthImage(height=2, width=2).dtype == "float32"


def test_from_numpy_float32_and_uint16(no_leak):
    f = np.random.default_rng(0).uniform(0.5, 5, (5, 7)).astype(np.float32)
    d = DepthImage.from_numpy(f)
    assert d.is_meters()
    np.testing.assert_array_equal(d.to_numpy(), f)
    assert d.get_depth(3, 2) == pytest.approx(float(f[2, 3]))
    u = np.arange(35, dtype=np.uint16).reshape(5, 7) * 100
    du = DepthImage.from_numpy(u)
    assert du.is_millimeters()
    assert du.get_depth(6, 4) == pytest.approx(u[4, 6] / 1000)
    # (H, W, 1) is accepted as (H, W)
    assert DepthImage.from_numpy(f[..., None]).to_numpy().shape == (5, 7)
    # non-contiguous input
    np.testing.assert_array_equal(DepthImage.from_numpy(f.T).to_numpy(), f.T)
    np.testing.assert_array_equal(DepthImage.from_numpy(u[::2, 1::3]).to_numpy(), u[::2, 1::3])


def test_from_torch(no_leak):
    torch = pytest.importorskip("torch")
    t = torch.randn(48, 64)  # float32
    d = DepthImage.from_torch(t)
    assert d.dtype == "float32" and (d.height, d.width) == (48, 64)
    np.testing.assert_array_equal(d.to_numpy(), t.numpy())
    du = DepthImage.from_torch(torch.full((3, 4), 1500, dtype=torch.uint16))
    assert du.is_millimeters() and du.get_depth(0, 0) == pytest.approx(1.5)


def test_get_set_depth_metres(no_leak):
    d = DepthImage(height=3, width=4, dtype="float32")
    d.set_depth(1, 2, 1.5)
    assert d.get_depth(1, 2) == 1.5
    assert d.to_numpy()[2, 1] == np.float32(1.5)
    d.set_depth(0, 0, 0.0)  # 0 = no measurement
    assert d.get_depth(0, 0) == 0.0
    d.set_depth(0, 1, float("nan"))  # NaN = no measurement
    assert math.isnan(d.get_depth(0, 1))
    assert isinstance(d.get_depth(1, 2), float)


def test_get_set_depth_millimetres_rounds(no_leak):
    d = DepthImage(height=2, width=2, dtype="uint16")
    d.set_depth(0, 0, 1.5)
    assert d.to_numpy()[0, 0] == 1500 and d.get_depth(0, 0) == pytest.approx(1.5)
    d.set_depth(1, 0, 1.2346)
    assert d.to_numpy()[0, 1] == 1235
    d.set_depth(0, 1, 65.535)  # the maximum
    assert d.to_numpy()[1, 0] == 65535
    d.set_depth(1, 1, 0)
    assert d.get_depth(1, 1) == 0.0


def test_depth_statistics_float(no_leak):
    d = DepthImage.from_numpy(np.array([[0.0, 1.0, np.nan], [3.0, np.inf, -1.0]], np.float32))
    lo, hi, mean = d.depth_statistics()
    assert (lo, hi, mean) == pytest.approx((1.0, 3.0, 2.0))
    assert DepthImage.from_numpy(np.zeros((2, 2), np.float32)).depth_statistics() is None
    assert DepthImage.from_numpy(np.full((2, 2), np.nan, np.float32)).depth_statistics() is None


def test_depth_statistics_uint16_in_metres(no_leak):
    d = DepthImage.from_numpy(np.array([[0, 1000], [2000, 4500]], np.uint16))
    assert d.depth_statistics() == pytest.approx((1.0, 4.5, 2.5))
    assert DepthImage.from_numpy(np.zeros((3, 3), np.uint16)).depth_statistics() is None


def test_statistics_match_numpy(no_leak):
    rng = np.random.default_rng(1)
    f = rng.uniform(-1, 10, (30, 40)).astype(np.float32)
    valid = f[np.isfinite(f) & (f > 0)]
    stats = DepthImage.from_numpy(f).depth_statistics()
    assert stats == pytest.approx((valid.min(), valid.max(), valid.astype(np.float64).mean()), rel=1e-6)


def test_views_and_dlpack(no_leak):
    d = DepthImage(height=3, width=5, dtype="uint16")
    arr = d.to_numpy()
    arr[:] = 7
    assert d.get_depth(4, 2) == pytest.approx(0.007)
    assert np.from_dlpack(d).ctypes.data == d.data_ptr()
    assert d.__dlpack_device__() == (1, 0)


def test_copy_and_repr(no_leak):
    d = DepthImage.from_numpy(np.ones((2, 3), np.float32))
    d.set_frame_id("cam")
    c = d.copy()
    assert c.data_ptr() != d.data_ptr() and c.frame_id == "cam"
    c.set_depth(0, 0, 2.0)
    assert d.get_depth(0, 0) == 1.0
    r = repr(d)
    assert r.startswith("DepthImage(") and "3x2" in r and "float32" in r and "cam" in r
    assert "uint16" in repr(DepthImage(height=2, width=2, dtype="uint16"))
