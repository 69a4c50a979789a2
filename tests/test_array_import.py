"""Importing arrays (from_numpy / from_torch): every layout gives the right values.

The importer reads the array's memory after it has asked the array for it
(DLPack, buffer protocol), and for torch tensors with the negative or conjugate
bit set only after it resolved them into a new tensor. Whatever it reads must
stay alive until the copy is done: negated and conjugated views, transposed and
stepped views, broadcast (0-stride) and empty arrays all give exactly the values
the framework itself reports.
"""

from __future__ import annotations

import numpy as np
import pytest

from horus import DepthImage, Image, PointCloud, Tensor

pytestmark = pytest.mark.usefixtures("no_leak")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def expected(t) -> np.ndarray:
    """What torch says the values are (resolve_neg/resolve_conj give a plain tensor)."""
    return t.resolve_conj().resolve_neg().contiguous().numpy()


def same(msg, want: np.ndarray) -> None:
    got = msg.to_numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# --- torch views with the negative / conjugate bit ----------------------------------------
def neg_views(torch):
    gen = torch.Generator().manual_seed(7)
    base = torch.randn(40, 50, generator=gen)
    z = torch.randn(40, 50, dtype=torch.complex64, generator=gen)
    return {
        "neg_view": torch._neg_view(base),
        "conj_imag": z.conj().imag,  # float32 view of the conjugate: negative bit set
        "conj_imag_T": z.conj().imag.T,
        "neg_view_step": torch._neg_view(base)[::3, ::2],
    }


@pytest.mark.parametrize("name", ["neg_view", "conj_imag", "conj_imag_T", "neg_view_step"])
@pytest.mark.parametrize("importer", [
    lambda t: Tensor.from_torch(t),
    lambda t: Tensor.from_numpy(t),  # from_numpy reads torch tensors through DLPack
    lambda t: Image.from_torch(t),  # (H, W) float32: mono32f
    lambda t: Image.from_numpy(t),
    lambda t: DepthImage.from_torch(t),
    lambda t: DepthImage.from_numpy(t),
    lambda t: PointCloud.from_torch(t),
], ids=["Tensor.from_torch", "Tensor.from_numpy", "Image.from_torch", "Image.from_numpy",
        "DepthImage.from_torch", "DepthImage.from_numpy", "PointCloud.from_torch"])
def test_negative_and_conjugate_views_give_torchs_values(torch, name, importer):
    t = neg_views(torch)[name]
    assert t.is_neg()
    want = expected(t)
    same(importer(t), want)


def test_conj_imag_of_a_large_tensor_is_copied_correctly(run_child):
    """The reported crash: from_torch read the resolved tensor after it was freed
    (wrong values; a segfault once the freed pages were unmapped). In a child, so
    a crash fails this test instead of killing the test session."""
    r = run_child("""
        import numpy as np, torch, horus
        z = torch.randn(4000, 5000, dtype=torch.complex64)
        v = z.conj().imag
        assert v.is_neg()
        t = horus.Tensor.from_torch(v)
        want = v.resolve_neg().numpy()
        assert np.array_equal(t.to_numpy(), want), "values differ"
        d = horus.DepthImage.from_torch(v)
        assert np.array_equal(d.to_numpy(), want), "depth values differ"
        print("ok")
    """, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, (r.returncode, r.stdout, r.stderr[-2000:])


def test_complex_tensors_are_a_clear_type_error(torch):
    z = torch.randn(3, 4, dtype=torch.complex64)
    for t in (z, z.conj()):
        with pytest.raises(TypeError, match="DLPack code 5"):
            Tensor.from_torch(t)


# --- DLPack producers whose capsule owns the only reference to the data ---------------------
class TemporaryProducer:
    """__dlpack__ hands out a capsule of an array made on the spot: the capsule
    (and whoever imported it) is the only owner of that memory."""

    def __init__(self, shape, dtype=np.float32):
        self.shape, self.dtype = shape, dtype

    def values(self) -> np.ndarray:
        n = int(np.prod(self.shape))
        return (np.arange(n, dtype=np.float64) % 1000 - 500).astype(self.dtype).reshape(self.shape)

    def __dlpack__(self, **kwargs):
        return self.values().__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return (1, 0)


def test_a_capsule_owned_array_stays_alive_during_the_copy(run_child):
    r = run_child("""
        import numpy as np, horus
        class P:
            def __init__(self, shape): self.shape = shape
            def values(self):
                n = int(np.prod(self.shape))
                return (np.arange(n, dtype=np.float64) % 1000 - 500).astype(np.float32).reshape(self.shape)
            def __dlpack__(self, **kw): return self.values().__dlpack__(**kw)
            def __dlpack_device__(self): return (1, 0)
        for shape in [(64, 64), (2000, 3000)]:  # the large one is unmapped when freed
            p = P(shape)
            for make in (horus.Tensor.from_numpy, horus.DepthImage.from_numpy, horus.Image.from_numpy):
                m = make(p)
                assert np.array_equal(m.to_numpy(), p.values()), (make, shape)
        print("ok")
    """, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, (r.returncode, r.stdout, r.stderr[-2000:])


def test_a_capsule_owned_array_small(no_leak):
    p = TemporaryProducer((8, 9))
    same(Tensor.from_numpy(p), p.values())


# --- non-contiguous, broadcast and empty inputs ------------------------------------------------
NP_BASE = np.arange(6 * 10 * 3, dtype=np.uint8).reshape(6, 10, 3)


@pytest.mark.parametrize("name, view", [
    ("transposed", NP_BASE.transpose(1, 0, 2)),
    ("step", NP_BASE[::2, ::3]),
    ("negative_step", NP_BASE[::-1, ::-2]),
    ("channels_reversed", NP_BASE[..., ::-1]),
    ("broadcast_rows", np.broadcast_to(NP_BASE[:1], NP_BASE.shape)),
    ("broadcast_scalar", np.broadcast_to(np.uint8(7), (4, 5, 3))),
    ("fortran", np.asfortranarray(NP_BASE)),
])
def test_numpy_layouts(name, view):
    same(Tensor.from_numpy(view), np.ascontiguousarray(view))
    same(Image.from_numpy(view), np.ascontiguousarray(view))
    same(Image.from_numpy(view[..., 0]), np.ascontiguousarray(view[..., 0]))
    f = (view[..., 0] * np.float32(0.5))[:, ::-1]  # float32, negative column stride
    same(DepthImage.from_numpy(f), np.ascontiguousarray(f))
    same(PointCloud.from_numpy(f), np.ascontiguousarray(f))


def torch_layouts(torch):
    u = (torch.arange(6 * 10 * 3) % 251).to(torch.uint8).reshape(6, 10, 3)
    f = torch.arange(6 * 10, dtype=torch.float32).reshape(6, 10) - 30
    return {
        "transposed": (u.transpose(0, 1), f.T),
        "step": (u[::2, ::3], f[::2, ::3]),
        "channels_step": (u[..., ::2].expand(6, 10, 2)[..., :1].expand(6, 10, 3), f[:, ::4]),
        "expand_rows": (u[:1].expand(6, 10, 3), f[:1].expand(6, 10)),
        "expand_scalar": (torch.tensor(9, dtype=torch.uint8).expand(4, 5, 3), torch.tensor(2.5).expand(4, 5)),
        "permuted_channels_last": (u.permute(2, 0, 1).contiguous().permute(1, 2, 0), f.T.contiguous().T),
    }


@pytest.mark.parametrize("name", ["transposed", "step", "channels_step", "expand_rows", "expand_scalar",
                                  "permuted_channels_last"])
def test_torch_layouts(torch, name):
    u, f = torch_layouts(torch)[name]
    for make in (Tensor.from_torch, Tensor.from_numpy, Image.from_torch, Image.from_numpy):
        same(make(u), expected(u))
    for make in (Tensor.from_torch, Image.from_torch, DepthImage.from_torch, DepthImage.from_numpy,
                 PointCloud.from_torch, PointCloud.from_numpy):
        same(make(f), expected(f))


def test_zero_size_inputs(torch):
    for a in (np.zeros((0, 5), np.float32), np.zeros((3, 0, 2), np.int16), np.zeros((0,), np.uint8),
              np.zeros((4, 6), np.float32)[:, 6:], np.broadcast_to(np.float32(1), (0, 3))):
        same(Tensor.from_numpy(a), np.ascontiguousarray(a))
    for t in (torch.zeros(0, 5), torch.zeros(3, 0, 2, dtype=torch.int16), torch.zeros(4, 6)[:, 6:].T,
              torch.tensor(1.0).expand(0, 3), torch._neg_view(torch.zeros(0, 4))):
        same(Tensor.from_torch(t), expected(t))
        same(Tensor.from_numpy(t), expected(t))
    same(PointCloud.from_numpy(np.zeros((0, 3), np.float32)), np.zeros((0, 3), np.float32))
    same(PointCloud.from_torch(torch.zeros(0, 4)), np.zeros((0, 4), np.float32))
    # Images and depth images have at least one row and column.
    with pytest.raises(ValueError, match="height = 0"):
        Image.from_numpy(np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="width = 0"):
        DepthImage.from_torch(torch.zeros(3, 0))


def test_imports_do_not_keep_their_source_alive(torch):
    """The importer keeps its source only until the copy is done."""
    import gc
    import weakref

    t = torch._neg_view(torch.randn(30, 30))
    ref = weakref.ref(t)
    msg = Tensor.from_torch(t)
    del t
    gc.collect()
    assert ref() is None
    assert msg.shape == (30, 30)
