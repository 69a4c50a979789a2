"""horus.Tensor (the spec's GenericMessage): 0-8 dims, the common numeric dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import horus
from horus import Tensor

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]


def test_generic_message_alias():
    assert horus.GenericMessage is Tensor


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype(dtype, no_leak):
    t = Tensor((3, 4), dtype)
    assert (t.shape, t.ndim, t.dtype, t.nbytes) == ((3, 4), 2, dtype, 12 * np.dtype(dtype).itemsize)
    src = (np.arange(12) % 2 if dtype == "bool" else np.arange(12)).astype(dtype).reshape(3, 4)
    m = Tensor.from_numpy(src)
    assert m.dtype == dtype
    np.testing.assert_array_equal(m.to_numpy(), src)
    assert m.to_numpy().dtype == np.dtype(dtype)


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3), (1, 2, 3, 4), (1,) * 8, (2, 1, 2, 1, 2, 1, 2, 1)])
def test_shapes(shape, no_leak):
    t = Tensor(shape, "float32")
    assert t.shape == shape and t.ndim == len(shape)
    assert t.to_numpy().shape == shape
    src = np.arange(int(np.prod(shape)), dtype=np.int16).reshape(shape)
    np.testing.assert_array_equal(Tensor.from_numpy(src).to_numpy(), src)


def test_int_shape_and_defaults(no_leak):
    t = Tensor(7)
    assert t.shape == (7,) and t.dtype == "float32"
    assert Tensor([2, 3], dtype="uint8").shape == (2, 3)


def test_non_contiguous_and_torch(no_leak):
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    for v in (a.transpose(3, 1, 0, 2), a[:, ::2, ::-1], a[..., 1]):
        np.testing.assert_array_equal(Tensor.from_numpy(v).to_numpy(), v)
    torch = pytest.importorskip("torch")
    t = torch.arange(24, dtype=torch.int32).reshape(2, 3, 4).permute(2, 0, 1)
    m = Tensor.from_torch(t)
    assert m.shape == (4, 2, 3) and m.dtype == "int32"
    np.testing.assert_array_equal(m.to_numpy(), t.numpy())
    assert Tensor.from_torch(torch.ones(3, dtype=torch.bool)).to_torch().dtype == torch.bool
    assert Tensor.from_torch(torch.ones(3, dtype=torch.float16)).to_torch().dtype == torch.float16


def test_from_bytes_like(no_leak):
    m = Tensor.from_numpy(memoryview(b"abcd"))
    assert m.dtype == "uint8" and m.to_numpy().tobytes() == b"abcd"


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "float16", "float32", "bool"])
def test_framework_round_trips(dtype, no_leak):
    torch = pytest.importorskip("torch")
    pytest.importorskip("jax")
    src = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
    m = Tensor.from_numpy(src)
    np.testing.assert_array_equal(m.to_torch().numpy(), src)
    np.testing.assert_array_equal(np.asarray(m.to_jax()), src)
    assert m.to_torch().data_ptr() == m.data_ptr()
    assert m.to_jax().unsafe_buffer_pointer() == m.data_ptr()
    del torch
    # 64-bit dtypes: see test_zero_copy.py::test_to_jax_64_bit_*


def test_metadata_copy_repr(no_leak):
    t = Tensor((2, 3), "int64")
    t.set_frame_id("base_link")
    t.set_timestamp_ns(11)
    assert (t.frame_id, t.timestamp_ns) == ("base_link", 11)
    c = t.copy()
    assert c.shape == (2, 3) and c.frame_id == "base_link" and c.data_ptr() != t.data_ptr()
    r = repr(t)
    assert r.startswith("Tensor(") and "(2, 3)" in r and "int64" in r and "base_link" in r
    assert t.is_cpu()
