#!/usr/bin/env python3
"""horus demo: one shared-memory buffer, three frameworks, no copies.

Builds an Image, a DepthImage, a PointCloud and a Tensor from NumPy and from
PyTorch, opens each in NumPy, PyTorch and JAX, and shows that every view has
the same data address (one buffer), that a write through the NumPy view shows
up in the others, and that the pool gets its blocks back when the views die.

    make demo        # or: .venv/bin/python examples/demo.py
"""
import gc
import os
import time

# A namespace of our own, so the pool statistics show only this demo.
os.environ.setdefault("HORUS_NAMESPACE", f"demo-{os.getpid()}")

import numpy as np  # noqa: E402

import horus  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
try:
    import jax
except ImportError:
    jax = None


def stats_line(label):
    s = horus.pool_stats()
    print(f"  {label:<30} blocks in use {s.blocks_in_use:>2}   bytes in use {s.bytes_in_use / 2**20:7.2f} MiB"
          f"   capacity {s.capacity_bytes / 2**20:7.2f} MiB in {s.segments} segment(s)")


def show(title, msg):
    """Opens `msg` in every framework, checks the addresses, writes through NumPy."""
    views = {"message": msg.data_ptr()}
    a = msg.to_numpy()
    views["numpy"] = a.ctypes.data
    views["np.asarray"] = np.asarray(msg).ctypes.data
    t = j = None
    if torch is not None:
        t = msg.to_torch()
        views["torch"] = t.data_ptr()
    if jax is not None:
        j = msg.to_jax()
        views["jax"] = j.unsafe_buffer_pointer()
    same = len(set(views.values())) == 1
    print(f"\n{title}\n  {msg!r}")
    print("  " + "   ".join(f"{k} 0x{v:x}" for k, v in views.items()))
    print(f"  one buffer: {'yes' if same else 'NO'}")

    idx = (0,) * a.ndim
    a[idx] = 42  # write through the NumPy view ...
    seen = {"numpy": a[idx].item()}  # ... and read it back through the others
    if t is not None:
        seen["torch"] = t[idx].item()
    if j is not None:
        seen["jax"] = j[idx].item()
    print(f"  after numpy_view{list(idx)} = 42: " + ", ".join(f"{k} sees {v:g}" for k, v in seen.items()))
    return same and all(v == 42 for v in seen.values())


def main():
    t0 = time.perf_counter()
    print(f"horus {horus.__version__}  namespace '{horus.namespace()}'  "
          f"(torch: {torch.__version__ if torch else 'absent'}, jax: {jax.__version__ if jax else 'absent'})")
    print("\nPool before:")
    stats_line("nothing allocated")

    rng = np.random.default_rng(0)
    msgs = {
        "Image.from_numpy (480x640 rgb8)": horus.Image.from_numpy(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)),
        "DepthImage.from_numpy (480x640 float32 m)": horus.DepthImage.from_numpy(
            rng.uniform(0.3, 5.0, (480, 640)).astype(np.float32)),
        "PointCloud.from_numpy (10000 x 3 float32)": horus.PointCloud.from_numpy(
            rng.standard_normal((10000, 3)).astype(np.float32)),
        "Tensor.from_numpy (2x3x4 float32)": horus.Tensor.from_numpy(np.zeros((2, 3, 4), np.float32)),
    }
    if torch is not None:
        msgs.update({
            "Image.from_torch (240x320 rgb8)": horus.Image.from_torch(torch.zeros(240, 320, 3, dtype=torch.uint8)),
            "DepthImage.from_torch (torch.randn(480, 640))": horus.DepthImage.from_torch(torch.randn(480, 640)),
            "PointCloud.from_torch (5000 x 6 float32)": horus.PointCloud.from_torch(torch.rand(5000, 6)),
            "Tensor.from_torch (16x128 int32)": horus.Tensor.from_torch(torch.arange(2048, dtype=torch.int32).reshape(16, 128)),
        })
    ok = all(show(title, m) for title, m in msgs.items())

    print("\nPool while the messages and their views are alive:")
    stats_line(f"{len(msgs)} messages")
    keep = msgs["Image.from_numpy (480x640 rgb8)"].to_numpy()  # a view outlives its message
    msgs.clear()
    gc.collect()
    stats_line("messages dropped, 1 view kept")
    print(f"  the kept view still reads pixel (0, 0) = {keep[0, 0].tolist()}")
    del keep
    gc.collect()
    stats_line("last view dropped")

    print("\nA sent message is read-only everywhere (read-only is a property of its block):")
    topic = horus.Topic(horus.Image, "demo.readonly")
    img = horus.Image(height=4, width=4, encoding="mono8")
    view, alias = img.to_numpy(), img  # a NumPy view and a second handle, taken before the send
    topic.send(img)
    try:
        view[0, 0] = 1
        sealed = False
    except ValueError:
        sealed = True
    try:
        alias.fill([1])
        sealed = False
    except horus.ReadOnlyError:
        pass
    print(f"  the view taken before send() refuses writes, and so does every handle: {'yes' if sealed else 'NO'}")
    private = topic.recv().copy()  # copy() gives a private, writable message
    private.fill([7])
    print(f"  copy() is private and writable: pixel (0, 0) = {private.pixel(0, 0)}")
    del topic, img, view, alias, private
    gc.collect()
    ok = ok and sealed
    freed = horus.pool_stats().blocks_in_use == 0
    print(f"\nzero-copy everywhere: {'yes' if ok else 'NO'};  every block back in the pool: {'yes' if freed else 'NO'}"
          f"   ({time.perf_counter() - t0:.2f} s)")
    return 0 if ok and freed else 1


if __name__ == "__main__":
    raise SystemExit(main())
