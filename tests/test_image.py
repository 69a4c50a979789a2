"""horus.Image: constructors, the 11 encodings, inference, properties, pixel access,
fill/copy_from/roi, metadata, copy(), repr."""

from __future__ import annotations

import numpy as np
import pytest

import horus
from horus import Image

# The spec's table: encoding -> (channels, bytes per pixel, dtype).
SPEC_ENCODINGS = {
    "mono8": (1, 1, "uint8"),
    "mono16": (1, 2, "uint16"),
    "rgb8": (3, 3, "uint8"),
    "bgr8": (3, 3, "uint8"),
    "rgba8": (4, 4, "uint8"),
    "bgra8": (4, 4, "uint8"),
    "yuv422": (2, 2, "uint8"),
    "mono32f": (1, 4, "float32"),
    "rgb32f": (3, 12, "float32"),
    "bayer_rggb8": (1, 1, "uint8"),
    "depth16": (1, 2, "uint16"),
}


def test_encodings_table_matches_spec():
    assert dict(horus.ENCODINGS) == SPEC_ENCODINGS


@pytest.mark.parametrize("encoding", sorted(SPEC_ENCODINGS))
def test_every_encoding(encoding, no_leak):
    channels, bpp, dtype = SPEC_ENCODINGS[encoding]
    img = Image(height=6, width=7, encoding=encoding)
    assert (img.height, img.width, img.encoding, img.channels, img.dtype) == (6, 7, encoding, channels, dtype)
    assert img.step == 7 * bpp
    assert img.nbytes == 6 * 7 * bpp
    arr = img.to_numpy()
    assert arr.shape == ((6, 7) if channels == 1 else (6, 7, channels))
    assert arr.dtype == np.dtype(dtype)
    # round trip through from_numpy with the explicit encoding
    src = (np.arange(arr.size) % 200).astype(dtype).reshape(arr.shape)
    img2 = Image.from_numpy(src, encoding=encoding)
    assert img2.encoding == encoding
    np.testing.assert_array_equal(img2.to_numpy(), src)
    # from_bytes
    img3 = Image.from_bytes(src.tobytes(), height=6, width=7, encoding=encoding)
    np.testing.assert_array_equal(img3.to_numpy(), src)
    # pixel access agrees with numpy
    expected = src[2, 3].reshape(-1).tolist()
    assert img3.pixel(3, 2) == expected
    value = [1] * channels
    img3.set_pixel(0, 5, value)
    assert img3.pixel(0, 5) == value
    assert img3.to_numpy()[5, 0].reshape(-1).tolist() == value


def test_default_encoding_is_rgb8():
    assert Image(height=2, width=3).encoding == "rgb8"


@pytest.mark.parametrize(
    "dtype, shape, expected",
    [
        (np.uint8, (4, 5), "mono8"),
        (np.uint8, (4, 5, 1), "mono8"),
        (np.uint8, (4, 5, 3), "rgb8"),
        (np.uint8, (4, 5, 4), "rgba8"),
        (np.uint16, (4, 5), "mono16"),
        (np.float32, (4, 5), "mono32f"),
        (np.float32, (4, 5, 3), "rgb32f"),
    ],
)
def test_encoding_inference(dtype, shape, expected, no_leak):
    src = np.arange(np.prod(shape)).astype(dtype).reshape(shape)
    img = Image.from_numpy(src)
    assert img.encoding == expected
    np.testing.assert_array_equal(img.to_numpy().reshape(src.shape), src)


def test_inference_from_torch():
    torch = pytest.importorskip("torch")
    assert Image.from_torch(torch.zeros(4, 5, dtype=torch.uint8)).encoding == "mono8"
    assert Image.from_torch(torch.zeros(4, 5, 3, dtype=torch.uint8)).encoding == "rgb8"
    assert Image.from_torch(torch.zeros(4, 5, dtype=torch.float32)).encoding == "mono32f"
    assert Image.from_torch(torch.zeros(4, 5, dtype=torch.int16).to(torch.uint16)).encoding == "mono16"


@pytest.mark.parametrize(
    "dtype, shape",
    [(np.uint8, (4, 5, 2)), (np.uint16, (4, 5, 3)), (np.float64, (4, 5)), (np.int8, (4, 5)), (np.float32, (4, 5, 4))],
)
def test_no_inference_without_encoding(dtype, shape, no_leak):
    with pytest.raises(ValueError, match="cannot infer an encoding") as e:
        Image.from_numpy(np.zeros(shape, dtype))
    assert "encoding=" in str(e.value) and "mono8" in str(e.value)


def test_explicit_encoding_for_non_inferable_layouts(no_leak):
    assert Image.from_numpy(np.zeros((4, 6, 2), np.uint8), encoding="yuv422").encoding == "yuv422"
    assert Image.from_numpy(np.zeros((4, 6), np.uint16), encoding="depth16").encoding == "depth16"
    assert Image.from_numpy(np.zeros((4, 6), np.uint8), encoding="bayer_rggb8").encoding == "bayer_rggb8"
    assert Image.from_numpy(np.zeros((4, 6, 3), np.uint8), encoding="bgr8").encoding == "bgr8"
    assert Image.from_numpy(np.zeros((4, 6, 4), np.uint8), encoding="bgra8").encoding == "bgra8"


@pytest.mark.parametrize(
    "encoding, dtype, shape",
    [
        ("rgb8", np.uint8, (4, 5)),
        ("rgb8", np.uint16, (4, 5, 3)),
        ("mono8", np.uint8, (4, 5, 3)),
        ("mono16", np.uint8, (4, 5)),
        ("rgb32f", np.float64, (4, 5, 3)),
        ("yuv422", np.uint8, (4, 5, 3)),
    ],
)
def test_explicit_encoding_checked(encoding, dtype, shape, no_leak):
    with pytest.raises(ValueError) as e:
        Image.from_numpy(np.zeros(shape, dtype), encoding=encoding)
    msg = str(e.value)
    assert encoding in msg and np.dtype(dtype).name in msg and str(shape) in msg


def test_non_contiguous_inputs_are_copied_correctly(no_leak):
    base = np.arange(8 * 10 * 3, dtype=np.uint8).reshape(8, 10, 3)
    for view in (base[::2], base[:, ::3], base[1:5, 2:7], base.transpose(1, 0, 2), base[::-1, ::-1],
                 np.asfortranarray(base)):
        img = Image.from_numpy(view)
        assert (img.height, img.width) == view.shape[:2]
        np.testing.assert_array_equal(img.to_numpy(), view)
        assert img.to_numpy().flags.c_contiguous
    gray = np.arange(80, dtype=np.uint16).reshape(8, 10)
    np.testing.assert_array_equal(Image.from_numpy(gray.T).to_numpy(), gray.T)
    # channels taken from a wider array: (H, W, 4)[..., :3] is a strided rgb8 source
    rgba = np.arange(8 * 10 * 4, dtype=np.uint8).reshape(8, 10, 4)
    np.testing.assert_array_equal(Image.from_numpy(rgba[..., :3]).to_numpy(), rgba[..., :3])


def test_non_contiguous_torch_input():
    torch = pytest.importorskip("torch")
    t = torch.arange(5 * 4 * 3, dtype=torch.uint8).reshape(5, 4, 3).transpose(0, 1)
    img = Image.from_torch(t)
    np.testing.assert_array_equal(img.to_numpy(), t.numpy())
    f = torch.randn(3, 6, 5, requires_grad=True)[0]  # autograd tensors are accepted (detached)
    np.testing.assert_array_equal(Image.from_torch(f).to_numpy(), f.detach().numpy())


def test_from_bytes_accepts_bytes_like(no_leak):
    data = bytes(range(24))
    for obj in (data, bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        img = Image.from_bytes(obj, height=2, width=4, encoding="rgb8")
        assert img.to_numpy().tobytes() == data


def test_properties_and_metadata(no_leak):
    img = Image(height=3, width=4, encoding="rgba8")
    assert img.frame_id == "" and img.timestamp_ns == 0
    img.set_frame_id("camera_front")
    img.set_timestamp_ns(1234567890)
    assert img.frame_id == "camera_front" and img.timestamp_ns == 1234567890
    img.set_frame_id("x" * 63)  # the maximum
    assert img.frame_id == "x" * 63
    img.set_timestamp_ns(2**64 - 1)
    assert img.timestamp_ns == 2**64 - 1
    assert img.is_cpu() is True
    assert img.is_shared is False


def test_pixel_returns_python_numbers(no_leak):
    img = Image.from_numpy(np.full((2, 2, 3), 0.25, np.float32))
    assert img.pixel(1, 1) == [0.25, 0.25, 0.25]
    assert all(type(v) is float for v in img.pixel(0, 0))
    img8 = Image.from_numpy(np.full((2, 2), 9, np.uint8))
    assert img8.pixel(0, 1) == [9] and type(img8.pixel(0, 1)[0]) is int


def test_pixel_is_x_then_y(no_leak):
    src = np.arange(3 * 5, dtype=np.uint8).reshape(3, 5)
    img = Image.from_numpy(src)
    assert img.pixel(4, 2) == [src[2, 4]]
    img.set_pixel(4, 0, [200])
    assert src[0, 4] != 200 and img.to_numpy()[0, 4] == 200  # from_numpy copied


def test_set_pixel_accepts_sequences(no_leak):
    img = Image(height=2, width=2, encoding="rgb8")
    img.set_pixel(0, 0, (1, 2, 3))
    img.set_pixel(1, 0, np.array([4, 5, 6], np.uint8))
    img.set_pixel(0, 1, [np.uint8(7), 8.0, 9])
    assert img.pixel(0, 0) == [1, 2, 3] and img.pixel(1, 0) == [4, 5, 6] and img.pixel(0, 1) == [7, 8, 9]
    mono = Image(height=2, width=2, encoding="mono16")
    mono.set_pixel(1, 1, [65535])
    assert mono.pixel(1, 1) == [65535]


def test_fill(no_leak):
    img = Image(height=3, width=4, encoding="rgb8")
    img.fill([10, 20, 30])
    assert (img.to_numpy() == [10, 20, 30]).all()
    img.fill(7)  # one value for every channel
    assert (img.to_numpy() == 7).all()
    img.fill([5])
    assert (img.to_numpy() == 5).all()
    f = Image(height=2, width=3, encoding="rgb32f")
    f.fill([0.5, -1.0, 1e30])
    np.testing.assert_array_equal(f.to_numpy(), np.broadcast_to(np.float32([0.5, -1.0, 1e30]), (2, 3, 3)))
    m16 = Image(height=2, width=3, encoding="mono16")
    m16.fill([0x1234])
    assert (m16.to_numpy() == 0x1234).all()


def test_copy_from(no_leak):
    img = Image(height=2, width=3, encoding="mono16")
    src = np.arange(6, dtype=np.uint16).reshape(2, 3)
    img.copy_from(src.tobytes())
    np.testing.assert_array_equal(img.to_numpy(), src)
    img.copy_from(bytearray(12))
    assert not img.to_numpy().any()
    img.copy_from(memoryview(src))
    np.testing.assert_array_equal(img.to_numpy(), src)


def test_roi(no_leak):
    src = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    img = Image.from_numpy(src)
    roi = img.roi(x=2, y=1, w=3, h=4)
    assert isinstance(roi, bytes)
    assert roi == src[1:5, 2:5].tobytes()
    assert img.roi(x=0, y=0, w=8, h=6) == src.tobytes()
    assert img.roi(x=7, y=5, w=1, h=1) == src[5, 7].tobytes()
    assert img.roi(1, 2, 2, 2) == src[2:4, 1:3].tobytes()  # positional


def test_copy_is_private_and_writable(no_leak):
    img = Image.from_numpy(np.full((2, 3), 4, np.uint8))
    img.set_frame_id("cam")
    img.set_timestamp_ns(99)
    dup = img.copy()
    assert dup.data_ptr() != img.data_ptr()
    assert (dup.encoding, dup.frame_id, dup.timestamp_ns) == ("mono8", "cam", 99)
    np.testing.assert_array_equal(dup.to_numpy(), img.to_numpy())
    dup.fill(1)
    assert img.pixel(0, 0) == [4]


def test_repr(no_leak):
    img = Image(height=480, width=640, encoding="rgb8")
    img.set_frame_id("camera_front")
    img.set_timestamp_ns(5)
    r = repr(img)
    assert r.startswith("Image(") and "640x480" in r and "rgb8" in r
    assert "camera_front" in r and "5" in r


def test_largest_side_allowed():
    img = Image(height=1, width=1 << 20, encoding="mono8")
    assert img.width == 1 << 20


def test_keyword_and_positional_arguments(no_leak):
    a = Image(480, 640, "mono8")
    b = Image(height=480, width=640, encoding="mono8")
    assert (a.height, a.width, a.encoding) == (b.height, b.width, b.encoding)
    c = Image.from_numpy(array=np.zeros((2, 2), np.uint8), encoding="mono8")
    assert c.encoding == "mono8"
