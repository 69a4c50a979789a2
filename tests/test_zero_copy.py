"""Zero-copy, proven: every view of a message is the pool block itself.

These tests fail if a copy sneaks in anywhere: addresses must be equal, writes
must be visible through every other view, views keep the block alive after the
message is gone, and the block is freed exactly when the last holder dies.

NumPy is the one framework every test may use; the tests of the PyTorch and JAX
views take the `torch` / `jax` / `jnp` fixtures, which skip only those tests
when the framework is not installed.
"""

from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

import horus
from horus import DepthImage, Image, PointCloud, Tensor



@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def jax():
    return pytest.importorskip("jax")


@pytest.fixture
def jnp(jax):
    return pytest.importorskip("jax.numpy")


def make_messages():
    return [
        Image.from_numpy(np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)),
        Image(height=3, width=4, encoding="mono16"),
        DepthImage.from_numpy(np.ones((3, 4), np.float32)),
        DepthImage(height=3, width=4, dtype="uint16"),
        PointCloud.from_numpy(np.ones((6, 4), np.float64)),
        Tensor((2, 3, 4), "int32"),
    ]


def in_use():
    gc.collect()
    return horus.pool_stats().blocks_in_use


def capsule_name(capsule) -> bytes:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    return get_name(capsule)


@pytest.mark.parametrize("idx", range(6))
def test_all_numpy_views_share_one_address(idx, no_leak):
    msg = make_messages()[idx]
    addr = msg.data_ptr()
    assert addr % 64 == 0  # payloads start 64-byte aligned
    assert msg.to_numpy().ctypes.data == addr
    assert np.asarray(msg).ctypes.data == addr
    assert np.from_dlpack(msg).ctypes.data == addr
    assert tuple(msg.to_numpy().shape) == np.asarray(msg).shape == np.from_dlpack(msg).shape
    assert msg.to_numpy().dtype.name == msg.dtype


@pytest.mark.parametrize("idx", range(6))
def test_torch_and_jax_views_share_the_address(idx, torch, jax, jnp, no_leak):
    msg = make_messages()[idx]
    addr = msg.data_ptr()
    assert msg.to_torch().data_ptr() == addr
    assert torch.from_dlpack(msg).data_ptr() == addr
    shape = tuple(msg.to_numpy().shape)
    assert tuple(msg.to_torch().shape) == shape
    if msg.to_numpy().dtype.itemsize == 8 and not jax.config.jax_enable_x64:
        return  # see test_to_jax_64_bit_*
    assert msg.to_jax().unsafe_buffer_pointer() == addr
    assert jnp.from_dlpack(msg).unsafe_buffer_pointer() == addr
    assert tuple(msg.to_jax().shape) == shape and str(msg.to_jax().dtype) == msg.dtype


def test_to_jax_64_bit_without_x64_is_refused(jax, no_leak):
    """JAX without x64 would silently copy a float64 message and convert it to
    float32; to_jax() refuses with a message saying how to enable x64."""
    if jax.config.jax_enable_x64:
        pytest.skip("jax_enable_x64 is on in this process")
    for msg in (PointCloud(num_points=2, fields=3, dtype="float64"), Tensor((2,), "int64"), Tensor((2,), "uint64")):
        with pytest.raises(TypeError, match="jax_enable_x64") as e:
            msg.to_jax()
        assert msg.dtype in str(e.value)


def test_to_jax_64_bit_with_x64_is_zero_copy(jax, run_child):
    r = run_child("""
        import numpy as np, horus
        c = horus.PointCloud.from_numpy(np.arange(12.0).reshape(4, 3))
        j = c.to_jax()
        assert str(j.dtype) == "float64", j.dtype
        assert j.unsafe_buffer_pointer() == c.data_ptr()
        t = horus.Tensor.from_numpy(np.arange(5, dtype=np.int64))
        assert t.to_jax().unsafe_buffer_pointer() == t.data_ptr()
        print("ok")
    """, env={"JAX_ENABLE_X64": "1"})
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_write_through_one_view_is_seen_by_all(torch, jax, no_leak):
    img = Image(height=4, width=5, encoding="rgb8")
    img.fill([0, 0, 0])
    arr, ten, jx, via_iface = img.to_numpy(), img.to_torch(), img.to_jax(), np.asarray(img)
    arr[1, 2] = [10, 20, 30]
    assert img.pixel(2, 1) == [10, 20, 30]
    assert ten[1, 2].tolist() == [10, 20, 30]
    assert np.asarray(jx)[1, 2].tolist() == [10, 20, 30]  # jax arrays are immutable but share memory
    assert via_iface[1, 2].tolist() == [10, 20, 30]
    ten[3, 4] = torch.tensor([7, 8, 9], dtype=torch.uint8)
    assert arr[3, 4].tolist() == [7, 8, 9] and img.pixel(4, 3) == [7, 8, 9]
    img.set_pixel(0, 0, [1, 2, 3])
    assert arr[0, 0].tolist() == [1, 2, 3] and ten[0, 0].tolist() == [1, 2, 3]
    via_iface[2, 2] = 99
    assert img.pixel(2, 2) == [99, 99, 99]
    img.fill([5, 5, 5])
    assert (arr == 5).all() and bool((ten == 5).all())
    img.copy_from(bytes(img.nbytes))
    assert not arr.any()


def test_depth_and_cloud_writes_visible(torch, no_leak):
    d = DepthImage(height=2, width=3, dtype="float32")
    d.to_torch()[1, 2] = 2.5
    assert d.get_depth(2, 1) == 2.5 and d.to_numpy()[1, 2] == 2.5
    d.set_depth(0, 0, 1.25)
    assert d.to_torch()[0, 0].item() == 1.25
    c = PointCloud(num_points=3, fields=3)
    c.to_numpy()[1] = [4, 5, 6]
    assert c.point_at(1) == [4.0, 5.0, 6.0] and c.to_torch()[1].tolist() == [4.0, 5.0, 6.0]


@pytest.mark.parametrize("needs, make_view", [
    (None, lambda m: m.to_numpy()),
    (None, lambda m: np.asarray(m)),
    ("torch", lambda m: m.to_torch()),
    ("jax", lambda m: m.to_jax()),
    (None, lambda m: np.from_dlpack(m)),
    ("torch", lambda m: __import__("torch").from_dlpack(m)),
    ("jnp", lambda m: __import__("jax.numpy").numpy.from_dlpack(m)),
], ids=["to_numpy", "asarray", "to_torch", "to_jax", "np.from_dlpack", "torch.from_dlpack", "jnp.from_dlpack"])
def test_view_outlives_message(needs, make_view, request, no_leak):
    if needs:
        request.getfixturevalue(needs)  # skips this case when the framework is missing
    base = in_use()
    msg = Image.from_numpy(np.arange(4 * 5, dtype=np.uint8).reshape(4, 5))
    assert in_use() == base + 1
    addr = msg.data_ptr()
    view = make_view(msg)
    del msg
    gc.collect()
    assert in_use() == base + 1  # the view holds the block
    np.testing.assert_array_equal(np.asarray(view), np.arange(20, dtype=np.uint8).reshape(4, 5))
    if hasattr(view, "data_ptr"):
        assert view.data_ptr() == addr
    elif hasattr(view, "unsafe_buffer_pointer"):
        assert view.unsafe_buffer_pointer() == addr
    else:
        assert view.ctypes.data == addr
    del view
    assert in_use() == base


def test_slices_of_views_keep_the_block(torch, no_leak):
    base = in_use()
    msg = Tensor.from_numpy(np.arange(100, dtype=np.int64))
    part = msg.to_numpy()[10:20]
    tpart = msg.to_torch()[50:]
    del msg
    assert in_use() == base + 1
    assert part.tolist() == list(range(10, 20)) and tpart[0].item() == 50
    del part
    assert in_use() == base + 1
    del tpart
    assert in_use() == base


def test_unconsumed_capsule_keeps_block_until_dropped(no_leak):
    base = in_use()
    msg = PointCloud.from_numpy(np.ones((10, 3), np.float32))
    legacy = msg.__dlpack__()
    versioned = msg.__dlpack__(max_version=(1, 0))
    del msg
    assert in_use() == base + 1
    del legacy
    assert in_use() == base + 1
    del versioned
    assert in_use() == base


def test_dlpack_capsule_names_and_device(no_leak):
    img = Image(height=2, width=2, encoding="mono8")
    assert capsule_name(img.__dlpack__()) == b"dltensor"
    assert capsule_name(img.__dlpack__(max_version=(1, 0))) == b"dltensor_versioned"
    assert capsule_name(img.__dlpack__(max_version=(1, 5))) == b"dltensor_versioned"
    assert capsule_name(img.__dlpack__(max_version=(0, 8))) == b"dltensor"
    assert img.__dlpack_device__() == (1, 0)
    # the other keywords of the protocol are accepted
    assert capsule_name(img.__dlpack__(stream=None, dl_device=(1, 0), copy=False)) == b"dltensor"
    with pytest.raises(BufferError):
        img.__dlpack__(dl_device=(2, 0))  # kDLCUDA: horus payloads live in CPU memory


def test_dlpack_copy_true_gives_a_private_copy(no_leak):
    base = in_use()
    img = Image.from_numpy(np.full((3, 4), 9, np.uint8))
    dup = np.from_dlpack(img, copy=True)
    assert dup.ctypes.data != img.data_ptr()
    np.testing.assert_array_equal(dup, img.to_numpy())
    assert in_use() == base + 2  # the copy lives in its own pool block
    dup[0, 0] = 1
    assert img.pixel(0, 0) == [9]
    del dup
    assert in_use() == base + 1
    cap = img.__dlpack__(copy=True, max_version=(1, 0))
    assert capsule_name(cap) == b"dltensor_versioned"
    del cap
    assert in_use() == base + 1


@pytest.mark.parametrize("cls, arr", [
    (Image, np.zeros((4, 5, 3), np.uint8)),
    (DepthImage, np.zeros((4, 5), np.float32)),
    (PointCloud, np.zeros((7, 3), np.float32)),
    (Tensor, np.zeros((2, 3, 4), np.int16)),
])
def test_from_numpy_of_a_pool_view_makes_no_copy(cls, arr, no_leak):
    base = in_use()
    msg = cls.from_numpy(arr)
    again = cls.from_numpy(msg.to_numpy())
    assert again.data_ptr() == msg.data_ptr()
    assert in_use() == base + 1  # still one block
    # a view that is not C-contiguous cannot be described in place: it is copied
    other = Tensor.from_numpy(msg.to_numpy()[..., ::2])
    assert other.data_ptr() != msg.data_ptr()
    del other
    del msg, again
    assert in_use() == base


@pytest.mark.parametrize("cls, arr", [
    (Image, np.zeros((4, 5, 3), np.uint8)),
    (DepthImage, np.zeros((4, 5), np.float32)),
    (PointCloud, np.zeros((7, 3), np.float32)),
    (Tensor, np.zeros((2, 3, 4), np.int16)),
])
def test_from_torch_of_a_pool_view_makes_no_copy(cls, arr, torch, no_leak):
    base = in_use()
    msg = cls.from_numpy(arr)
    via_torch = cls.from_torch(msg.to_torch())
    assert via_torch.data_ptr() == msg.data_ptr()
    assert in_use() == base + 1
    del msg, via_torch
    assert in_use() == base


def test_from_numpy_of_a_sub_view_keeps_the_offset(no_leak):
    msg = Tensor.from_numpy(np.arange(64, dtype=np.uint8).reshape(8, 8))
    rows = msg.to_numpy()[2:4]  # C-contiguous, inside the block, at an offset
    sub = Tensor.from_numpy(rows)
    assert sub.data_ptr() == msg.data_ptr() + 16
    assert sub.shape == (2, 8) and sub.to_numpy().tolist() == rows.tolist()


def test_from_numpy_copies_exactly_once(no_leak):
    src = np.arange(480 * 640 * 3, dtype=np.uint8).reshape(480, 640, 3)
    img = Image.from_numpy(src)
    assert img.data_ptr() != src.ctypes.data
    np.testing.assert_array_equal(img.to_numpy(), src)
    src[0, 0, 0] = 255  # the message is independent of its source
    assert img.pixel(0, 0)[0] == 0


def test_from_torch_copies_exactly_once(torch, no_leak):
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    d = DepthImage.from_torch(t)
    assert d.data_ptr() != t.data_ptr()
    np.testing.assert_array_equal(d.to_numpy(), t.numpy())


def test_copy_gives_a_different_address(no_leak):
    for msg in make_messages():
        dup = msg.copy()
        assert dup.data_ptr() != msg.data_ptr()
        np.testing.assert_array_equal(dup.to_numpy(), msg.to_numpy())
        assert type(dup) is type(msg)


def test_array_interface(no_leak):
    img = Image(height=2, width=3, encoding="rgb32f")
    ai = img.__array_interface__
    assert ai["shape"] == (2, 3, 3) and ai["typestr"] == "<f4" and ai["version"] == 3
    assert ai["data"] == (img.data_ptr(), False)  # (address, read-only flag)


def test_numpy_views_writable_for_private_messages(no_leak):
    img = Image(height=2, width=2, encoding="mono8")
    assert img.to_numpy().flags.writeable
    assert np.asarray(img).flags.writeable
    assert np.from_dlpack(img).flags.writeable


# --- shared (sent / received) messages: read-only --------------------------------
needs_topic = pytest.mark.skipif(not hasattr(horus, "Topic"), reason="needs horus.Topic (next issue)")


@needs_topic
def test_shared_message_views_are_read_only():
    topic = horus.Topic(Image, f"zero_copy_ro_{id(object())}")
    img = Image.from_numpy(np.zeros((4, 5, 3), np.uint8))
    topic.send(img)
    assert img.is_shared
    for view in (img.to_numpy(), np.asarray(img), np.from_dlpack(img)):
        assert not view.flags.writeable
        with pytest.raises(ValueError):
            view[0, 0] = 1
    with pytest.raises(horus.ReadOnlyError):
        img.set_pixel(0, 0, [1, 2, 3])
    with pytest.raises(horus.ReadOnlyError):
        img.fill(1)
    # copy() is private and writable again
    dup = img.copy()
    assert not dup.is_shared and dup.to_numpy().flags.writeable
    dup.fill(1)


@needs_topic
def test_shared_message_torch_and_jax(torch, jnp):
    """Settles what torch / jax do with a read-only (shared) message.

    to_torch() on a shared message still returns a tensor (torch has no read-only
    tensors; writing through it is the caller's responsibility, as documented);
    JAX arrays are immutable anyway. Both stay zero-copy."""
    topic = horus.Topic(Image, f"zero_copy_fw_{id(object())}")
    img = Image.from_numpy(np.zeros((4, 5, 3), np.uint8))
    topic.send(img)
    assert img.to_torch().data_ptr() == img.data_ptr()
    assert img.to_jax().unsafe_buffer_pointer() == img.data_ptr()
    t = torch.from_dlpack(img)
    assert t.data_ptr() == img.data_ptr()
    j = jnp.from_dlpack(img)
    assert np.asarray(j).tolist() == img.to_numpy().tolist()
