"""horus.PointCloud: (N, F) clouds of float32/float64/float16 points."""

from __future__ import annotations

import numpy as np
import pytest

from horus import PointCloud


@pytest.mark.parametrize("fields, xyz, intensity, color", [
    (1, False, False, False), (3, True, False, False), (4, False, True, False),
    (6, False, True, True), (7, False, True, True),
])
def test_format_queries(fields, xyz, intensity, color, no_leak):
    c = PointCloud(num_points=5, fields=fields, dtype="float32")
    assert c.fields_per_point == fields
    assert (c.is_xyz(), c.has_intensity(), c.has_color()) == (xyz, intensity, color)


@pytest.mark.parametrize("dtype, itemsize", [("float32", 4), ("float64", 8), ("float16", 2)])
def test_construct_properties(dtype, itemsize, no_leak):
    c = PointCloud(num_points=10, fields=4, dtype=dtype)
    assert (c.point_count, c.fields_per_point, c.dtype, c.nbytes) == (10, 4, dtype, 10 * 4 * itemsize)
    assert c.to_numpy().shape == (10, 4) and c.to_numpy().dtype == np.dtype(dtype)
    c.set_frame_id("lidar")
    c.set_timestamp_ns(7)
    assert (c.frame_id, c.timestamp_ns) == ("lidar", 7)
    assert c.is_cpu()


def test_defaults():
    c = PointCloud(num_points=3)
    assert (c.fields_per_point, c.dtype) == (3, "float32")


def test_empty_cloud(no_leak):
    c = PointCloud(num_points=0, fields=3)
    assert c.point_count == 0 and c.nbytes == 0
    assert bool(c) is True  # messages are always truthy (the spec writes `if received:`)
    assert c.to_numpy().shape == (0, 3)
    with pytest.raises(IndexError):
        c.point_at(0)
    e = PointCloud.from_numpy(np.zeros((0, 4), np.float32))
    assert (e.point_count, e.fields_per_point) == (0, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_from_numpy(dtype, no_leak):
    pts = np.random.default_rng(0).normal(size=(100, 4)).astype(dtype)
    c = PointCloud.from_numpy(pts)
    assert c.dtype == np.dtype(dtype).name and (c.point_count, c.fields_per_point) == (100, 4)
    np.testing.assert_array_equal(c.to_numpy(), pts)
    np.testing.assert_array_equal(PointCloud.from_numpy(pts[::3]).to_numpy(), pts[::3])
    np.testing.assert_array_equal(PointCloud.from_numpy(pts.T.copy().T).to_numpy(), pts)  # Fortran order
    np.testing.assert_array_equal(PointCloud.from_numpy(pts[:, :3]).to_numpy(), pts[:, :3])


def test_from_torch(no_leak):
    torch = pytest.importorskip("torch")
    t = torch.randn(50, 3)
    c = PointCloud.from_torch(t)
    assert c.dtype == "float32"
    np.testing.assert_array_equal(c.to_numpy(), t.numpy())
    c64 = PointCloud.from_torch(t.double().t().contiguous().t())
    assert c64.dtype == "float64"
    np.testing.assert_array_equal(c64.to_numpy(), t.double().numpy())


def test_point_at(no_leak):
    pts = np.arange(12, dtype=np.float32).reshape(4, 3) / 4
    c = PointCloud.from_numpy(pts)
    for i in range(4):
        assert c.point_at(i) == pts[i].tolist()
    assert all(type(v) is float for v in c.point_at(0))
    assert c.point_at(index=3) == pts[3].tolist()


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_point_at_needs_float32(dtype, no_leak):
    c = PointCloud(num_points=2, fields=3, dtype=dtype)
    with pytest.raises(TypeError, match=f"float32.*{dtype}|{dtype}.*float32"):
        c.point_at(0)


def test_views_write_through(no_leak):
    c = PointCloud(num_points=4, fields=3)
    c.to_numpy()[2] = [1.0, 2.0, 3.0]
    assert c.point_at(2) == [1.0, 2.0, 3.0]


def test_copy_and_repr(no_leak):
    c = PointCloud.from_numpy(np.ones((5, 6), np.float64))
    d = c.copy()
    assert d.data_ptr() != c.data_ptr() and d.dtype == "float64"
    r = repr(c)
    assert r.startswith("PointCloud(") and "5" in r and "6" in r and "float64" in r
