"""__dlpack__'s keywords (array API standard, v2023.12): good values work, bad ones
are specific errors naming the value.

stream: None only on CPU (an int stream is a BufferError, anything else a TypeError).
max_version: None or a (major, minor) tuple of ints (TypeError otherwise).
dl_device: None or a (device_type, device_id) tuple of ints (TypeError otherwise);
a device other than (1, 0) (kDLCPU) is a BufferError.
copy: None, True or False (TypeError otherwise; copy='yes' was "std::bad_cast").
"""

from __future__ import annotations

import ctypes
import enum

import numpy as np
import pytest

from horus import DepthImage, Image, PointCloud, Tensor

pytestmark = pytest.mark.usefixtures("no_leak")


def capsule_name(capsule) -> bytes:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    return get_name(capsule)


def messages():
    return [Image(height=2, width=3, encoding="rgb8"), DepthImage(height=2, width=2), PointCloud(num_points=2),
            Tensor((3,), "int16")]


class DLDeviceType(enum.IntEnum):  # what numpy and the standard call kDLCPU
    kDLCPU = 1
    kDLCUDA = 2


@pytest.mark.parametrize("kwargs, name", [
    ({}, b"dltensor"),
    ({"stream": None}, b"dltensor"),
    ({"max_version": None}, b"dltensor"),
    ({"max_version": (1, 0)}, b"dltensor_versioned"),
    ({"max_version": (0, 8)}, b"dltensor"),
    ({"dl_device": None}, b"dltensor"),
    ({"dl_device": (1, 0)}, b"dltensor"),
    ({"dl_device": (DLDeviceType.kDLCPU, 0)}, b"dltensor"),
    ({"copy": None}, b"dltensor"),
    ({"copy": False}, b"dltensor"),
    ({"copy": True}, b"dltensor"),
    ({"copy": True, "max_version": (1, 0), "dl_device": (1, 0), "stream": None}, b"dltensor_versioned"),
])
def test_good_keywords(kwargs, name):
    for msg in messages():
        assert capsule_name(msg.__dlpack__(**kwargs)) == name


@pytest.mark.parametrize("bad", ["yes", "", 1, 0, 1.0, np.bool_(True), [True], "True"])
def test_copy_must_be_none_true_or_false(bad):
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(TypeError) as e:
        img.__dlpack__(copy=bad)
    msg = str(e.value)
    assert "copy" in msg and repr(bad) in msg and "None, True or False" in msg, msg


@pytest.mark.parametrize("bad, exc", [(0, BufferError), (1, BufferError), (-1, BufferError), (2**70, BufferError),
                                      ("default", TypeError), (1.5, TypeError), (True, TypeError)])
def test_stream_must_be_none_on_cpu(bad, exc):
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(exc) as e:
        img.__dlpack__(stream=bad)
    msg = str(e.value)
    assert "stream" in msg and "None" in msg, msg
    assert str(bad)[:12] in msg, msg


@pytest.mark.parametrize("bad", [(1,), (1, 0, 0), "1.0", 1, [1, 0], (1.0, 0), ("1", "0"), (True, 0)])
def test_max_version_must_be_a_pair_of_ints(bad):
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(TypeError) as e:
        img.__dlpack__(max_version=bad)
    msg = str(e.value)
    assert "max_version" in msg and repr(bad) in msg and "(major, minor)" in msg, msg


@pytest.mark.parametrize("bad", ["cpu", 1, (1,), (1, 0, 0), [1, 0], (1.0, 0), ("1", 0)])
def test_dl_device_of_the_wrong_type(bad):
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(TypeError) as e:
        img.__dlpack__(dl_device=bad)
    msg = str(e.value)
    assert "dl_device" in msg and repr(bad) in msg, msg


@pytest.mark.parametrize("device", [(2, 0), (DLDeviceType.kDLCUDA, 0), (1, 1), (3, 0), (1, -1)])
@pytest.mark.parametrize("copy", [None, False, True])
def test_dl_device_other_than_the_cpu_is_a_buffer_error(device, copy):
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(BufferError) as e:
        img.__dlpack__(dl_device=device, copy=copy)
    msg = str(e.value)
    assert "dl_device" in msg and str(tuple(int(d) for d in device)) in msg and "(1, 0)" in msg, msg


def test_unknown_keyword():
    img = Image(height=2, width=2, encoding="mono8")
    with pytest.raises(TypeError) as e:
        img.__dlpack__(streams=None)
    msg = str(e.value)
    assert "'streams'" in msg and "stream, max_version, dl_device, copy" in msg, msg


def test_copy_true_is_a_private_copy_and_copy_false_is_a_view():
    img = Image.from_numpy(np.full((3, 4), 7, np.uint8))
    view = np.from_dlpack(img, copy=False)
    dup = np.from_dlpack(img, copy=True)
    assert view.ctypes.data == img.data_ptr() and dup.ctypes.data != img.data_ptr()
    np.testing.assert_array_equal(dup, view)


def test_consumers_still_work():
    """numpy and torch call __dlpack__ with the keywords they know (jnp.from_dlpack,
    which passes stream=None, is in test_zero_copy.py: starting JAX's threads here,
    before test_pool.py forks, would make that fork warn)."""
    t = Tensor.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(np.from_dlpack(t), t.to_numpy())
    np.testing.assert_array_equal(np.from_dlpack(t, device="cpu"), t.to_numpy())
    torch = pytest.importorskip("torch")
    assert torch.from_dlpack(t).data_ptr() == t.data_ptr()
    assert torch.from_dlpack(t, copy=True).data_ptr() != t.data_ptr()
