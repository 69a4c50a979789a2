"""Every code block of ../shared/spec/memory-types.txt, run verbatim.

The blocks below are copied from the spec character for character (the spec's
plain-text export lost the indentation of nested lines; it is restored as the
code requires, nothing else). Names a block takes from an earlier block of the
same section (``img``, ``cloud``, ``depth``) come from running those blocks first,
in the spec's order; ``raw_data`` and ``raw_bytes``, which the spec assumes, are
defined beforehand. The Topic/Node examples are in test_spec_pipelines.py.
"""

from __future__ import annotations

import pytest

import horus

# ----------------------------------------------------------------- Image
IMAGE_CREATING = '''
from horus import Image
# Create empty RGB image (height, width, encoding)
img = Image(height=480, width=640, encoding="rgb8")
# From NumPy array (zero-copy when possible)
import numpy as np
pixels = np.random.randint(0, 255, (480, 640, 3), dtype=np.uint8)
img = Image.from_numpy(pixels, encoding="rgb8")
# From PyTorch tensor
import torch
tensor = torch.zeros(480, 640, 3, dtype=torch.uint8)
img = Image.from_torch(tensor, encoding="rgb8")
# From raw bytes
img = Image.from_bytes(raw_data, height=480, width=640, encoding="rgb8")
'''

IMAGE_PROPERTIES = '''
img.height # Image height in pixels
img.width # Image width in pixels
img.channels # Number of channels (e.g., 3 for RGB)
img.encoding # Encoding string (e.g., "rgb8")
img.dtype # Data type string
img.nbytes # Total data size in bytes
img.step # Row stride in bytes
img.frame_id # Sensor frame identifier
img.timestamp_ns # Timestamp in nanoseconds
'''

IMAGE_CONVERSIONS = '''
# To NumPy — zero-copy, shared memory
np_array = img.to_numpy() # Shape: (H, W, C) for color, (H, W) for mono
# To PyTorch — zero-copy via DLPack
torch_tensor = img.to_torch()
# To JAX — zero-copy via DLPack
jax_array = img.to_jax()
'''

IMAGE_PIXELS = '''
# Read pixel at (x, y)
pixel = img.pixel(320, 240) # Returns list, e.g., [128, 64, 255]
# Write pixel
img.set_pixel(320, 240, [255, 0, 0]) # Red pixel
# Fill entire image with a color
img.fill([0, 0, 0]) # Black
# Copy data from bytes
img.copy_from(raw_bytes)
# Extract region of interest (raw bytes)
roi_data = img.roi(x=100, y=100, w=200, h=200)
'''

IMAGE_METADATA = '''
img.set_frame_id("camera_front")
img.set_timestamp_ns(1234567890)
# Device info
img.is_cpu() # True (always CPU-backed currently)
'''

IMAGE_DLPACK = '''
# NumPy array protocol
np_array = np.asarray(img) # Uses __array_interface__
# DLPack (PyTorch, JAX, CuPy, etc.)
capsule = img.__dlpack__()
device = img.__dlpack_device__()
'''

# ----------------------------------------------------------------- PointCloud
CLOUD_CREATING = '''
from horus import PointCloud
# Create XYZ point cloud (num_points, fields_per_point, dtype)
cloud = PointCloud(num_points=10000, fields=3, dtype="float32")
# From NumPy array — shape (N, F) where F = fields per point
import numpy as np
points = np.random.randn(10000, 3).astype(np.float32)
cloud = PointCloud.from_numpy(points)
# From PyTorch tensor
import torch
tensor = torch.randn(10000, 3)
cloud = PointCloud.from_torch(tensor)
'''

CLOUD_PROPERTIES = '''
cloud.point_count # Number of points
cloud.fields_per_point # Floats per point (3=XYZ, 4=XYZI, 6=XYZRGB)
cloud.dtype # Data type string
cloud.nbytes # Total data size in bytes
cloud.frame_id # Sensor frame identifier
cloud.timestamp_ns # Timestamp in nanoseconds
# Point format queries
cloud.is_xyz() # True if 3 fields (XYZ)
cloud.has_intensity() # True if 4+ fields (XYZI)
cloud.has_color() # True if 6+ fields (XYZRGB)
'''

CLOUD_CONVERSIONS = '''
# To NumPy — shape (N, F), zero-copy
np_points = cloud.to_numpy()
# To PyTorch — zero-copy via DLPack
torch_points = cloud.to_torch()
# To JAX — zero-copy via DLPack
jax_points = cloud.to_jax()
'''

CLOUD_POINT_ACCESS = '''
# Get i-th point as list of floats (float32 clouds only)
point = cloud.point_at(0) # e.g., [1.0, 2.0, 3.0]
'''

CLOUD_METADATA = '''
cloud.set_frame_id("lidar_front")
cloud.set_timestamp_ns(1234567890)
cloud.is_cpu() # True (always CPU-backed currently)
# DLPack protocol
capsule = cloud.__dlpack__()
'''

# ----------------------------------------------------------------- DepthImage
DEPTH_CREATING = '''
from horus import DepthImage
# Create F32 depth image (meters)
depth = DepthImage(height=480, width=640, dtype="float32")
# Create U16 depth image (millimeters)
depth_u16 = DepthImage(height=480, width=640, dtype="uint16")
# From NumPy — shape (H, W)
import numpy as np
depth_data = np.random.uniform(0.5, 5.0, (480, 640)).astype(np.float32)
depth = DepthImage.from_numpy(depth_data)
# From PyTorch
import torch
depth = DepthImage.from_torch(torch.randn(480, 640))
'''

DEPTH_PROPERTIES = '''
depth.height # Image height
depth.width # Image width
depth.dtype # "float32" or "uint16"
depth.nbytes # Total data size
depth.frame_id # Camera frame identifier
depth.timestamp_ns # Timestamp
depth.depth_scale # Scale factor
depth.is_meters() # True if F32 (meters)
depth.is_millimeters() # True if U16 (millimeters)
'''

DEPTH_ACCESS = '''
# Get depth at pixel (always returns meters as float)
d = depth.get_depth(320, 240)
print(f"Depth at center: {d:.3f}m")
# Set depth at pixel (value in meters)
depth.set_depth(100, 100, 1.5)
# Get statistics (min, max, mean) — None if no valid data
stats = depth.depth_statistics()
if stats:
    min_d, max_d, mean_d = stats
    print(f"Range: {min_d:.2f}-{max_d:.2f}m, mean: {mean_d:.2f}m")
'''

DEPTH_CONVERSIONS = '''
np_depth = depth.to_numpy() # Shape: (H, W)
torch_depth = depth.to_torch()
jax_depth = depth.to_jax()
'''

# The Topic/Node snippets (quick example, Usage with Topics, ML pipeline) are run
# verbatim, with their results checked, in test_spec_pipelines.py.


def run_blocks(*blocks, **predefined):
    ns: dict = dict(predefined)
    for block in blocks:
        exec(compile(block, "<spec example>", "exec"), ns)
    return ns


def test_image_examples(no_leak):
    ns = run_blocks(
        IMAGE_CREATING,
        IMAGE_PROPERTIES,
        IMAGE_CONVERSIONS,
        raw_data=bytes(range(256)) * (480 * 640 * 3 // 256),
    )
    img, np = ns["img"], ns["np"]
    assert (img.height, img.width, img.channels, img.encoding) == (480, 640, 3, "rgb8")
    assert (img.dtype, img.nbytes, img.step) == ("uint8", 480 * 640 * 3, 640 * 3)
    assert ns["np_array"].shape == (480, 640, 3)
    assert img.to_numpy().tobytes() == ns["raw_data"]
    assert ns["np_array"].ctypes.data == ns["torch_tensor"].data_ptr() == img.data_ptr()
    assert ns["jax_array"].unsafe_buffer_pointer() == img.data_ptr()
    # Pixel access, metadata and DLPack blocks on the same image.
    raw_bytes = bytes([7]) * img.nbytes
    ns.update(raw_bytes=raw_bytes)
    for block in (IMAGE_PIXELS, IMAGE_METADATA, IMAGE_DLPACK):
        exec(compile(block, "<spec example>", "exec"), ns)
    assert isinstance(ns["pixel"], list) and len(ns["pixel"]) == 3
    assert img.pixel(320, 240) == [7, 7, 7]  # copy_from ran after set_pixel and fill
    assert ns["roi_data"] == bytes([7]) * (200 * 200 * 3)
    assert img.frame_id == "camera_front" and img.timestamp_ns == 1234567890
    assert img.is_cpu() is True
    assert ns["np_array"].ctypes.data == img.data_ptr()
    assert ns["device"] == (1, 0)
    assert type(ns["capsule"]).__name__ == "PyCapsule"
    del ns, img, np


def test_image_pixel_write_then_read():
    ns = run_blocks(IMAGE_CREATING, raw_data=bytes(480 * 640 * 3))
    img = ns["img"]
    img.set_pixel(320, 240, [255, 0, 0])  # Red pixel
    assert img.pixel(320, 240) == [255, 0, 0]
    assert list(img.to_numpy()[240, 320]) == [255, 0, 0]
    img.fill([0, 0, 0])
    assert not img.to_numpy().any()


def test_point_cloud_examples(no_leak):
    ns = run_blocks(CLOUD_CREATING, CLOUD_PROPERTIES, CLOUD_CONVERSIONS, CLOUD_POINT_ACCESS, CLOUD_METADATA)
    cloud = ns["cloud"]
    assert (cloud.point_count, cloud.fields_per_point, cloud.dtype) == (10000, 3, "float32")
    assert cloud.nbytes == 10000 * 3 * 4
    assert cloud.is_xyz() and not cloud.has_intensity() and not cloud.has_color()
    assert ns["np_points"].shape == (10000, 3)
    assert ns["np_points"].ctypes.data == ns["torch_points"].data_ptr() == cloud.data_ptr()
    assert ns["jax_points"].unsafe_buffer_pointer() == cloud.data_ptr()
    assert ns["point"] == [float(v) for v in ns["tensor"][0]]
    assert cloud.frame_id == "lidar_front" and cloud.timestamp_ns == 1234567890
    assert cloud.is_cpu() is True
    del ns, cloud


def test_depth_image_examples(no_leak, capsys):
    ns = run_blocks(DEPTH_CREATING, DEPTH_PROPERTIES, DEPTH_ACCESS, DEPTH_CONVERSIONS)
    depth, u16 = ns["depth"], ns["depth_u16"]
    assert depth.dtype == "float32" and depth.is_meters() and not depth.is_millimeters()
    assert depth.depth_scale == 1.0
    assert u16.dtype == "uint16" and u16.is_millimeters() and u16.depth_scale == pytest.approx(0.001)
    assert (depth.height, depth.width, depth.nbytes) == (480, 640, 480 * 640 * 4)
    assert depth.get_depth(100, 100) == 1.5
    out = capsys.readouterr().out
    assert "Depth at center:" in out and "Range:" in out  # torch.randn has positive values
    assert ns["np_depth"].shape == (480, 640)
    assert ns["np_depth"].ctypes.data == ns["torch_depth"].data_ptr() == depth.data_ptr()
    assert ns["jax_depth"].unsafe_buffer_pointer() == depth.data_ptr()
    del ns, depth, u16
