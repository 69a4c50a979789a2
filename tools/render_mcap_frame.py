#!/usr/bin/env python3
"""Render the first camera frame (and optionally a point-cloud top view) of an MCAP recording to PNG.

For pictures in the docs: shows what a horus recording holds without opening Foxglove. It reads
the file with the `mcap` reader, decodes the first foxglove.RawImage message of --topic with
foxglove_schemas_protobuf and draws it with matplotlib; with --cloud-topic it adds a top view
(x right, y up, coloured by z) of the first foxglove.PointCloud message of that topic.

    tools/render_mcap_frame.py run.mcap --topic camera.rgb --out frame.png
    tools/render_mcap_frame.py run.mcap --topic camera.rgb --cloud-topic lidar --out both.png

Images: mono8/16, rgb8, bgr8, rgba8, bgra8, 8UC1/8UC3, 16UC1 and 32FC1 (depth, drawn with a
colour bar), bayer_rggb8 (drawn as mono), yuv422 (its luma). Exit status 0, or 1 with a message
naming what was missing (the topic, a message of that schema, an encoding).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SCHEMA = "foxglove.RawImage"
CLOUD_SCHEMA = "foxglove.PointCloud"

# PackedElementField.NumericType -> NumPy dtype
_CLOUD_TYPES = {1: np.uint8, 2: np.int8, 3: np.uint16, 4: np.int16, 5: np.uint32, 6: np.int32,
                7: np.float32, 8: np.float64}


class RenderError(Exception):
    """What the recording lacks for the picture asked for."""


def first_message(path: Path, topic: str, schema_name: str) -> Any:
    """The first message of `topic` whose schema is `schema_name`, decoded with protobuf."""
    from mcap.reader import make_reader

    from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud
    from foxglove_schemas_protobuf.RawImage_pb2 import RawImage

    cls: type[RawImage] | type[PointCloud] = RawImage if schema_name == IMAGE_SCHEMA else PointCloud
    seen: dict[str, str] = {}
    with path.open("rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        if summary is not None:
            for ch in summary.channels.values():
                sch = summary.schemas.get(ch.schema_id)
                seen[ch.topic] = sch.name if sch is not None else ""
            if topic not in seen:
                raise RenderError(f"{path} has no topic {topic!r}; its topics: {sorted(seen) or 'none'}")
        for schema, channel, message in reader.iter_messages(topics=[topic]):
            if schema is not None and schema.name == schema_name:
                if channel.message_encoding != "protobuf":
                    raise RenderError(f"topic {topic!r} is {channel.message_encoding}-encoded; expected protobuf")
                return cls.FromString(message.data)
            seen[topic] = schema.name if schema is not None else ""
    raise RenderError(f"topic {topic!r} of {path} has no {schema_name} message (its schema: {seen.get(topic) or 'none'})")


def image_array(img: Any) -> tuple[np.ndarray, bool]:
    """(array to draw, is_depth) for a foxglove.RawImage."""
    h, w, step, enc, data = img.height, img.width, img.step, img.encoding, img.data
    layouts = {"mono8": (np.uint8, 1), "8UC1": (np.uint8, 1), "bayer_rggb8": (np.uint8, 1),
               "rgb8": (np.uint8, 3), "bgr8": (np.uint8, 3), "8UC3": (np.uint8, 3),
               "rgba8": (np.uint8, 4), "bgra8": (np.uint8, 4), "mono16": (np.uint16, 1),
               "16UC1": (np.uint16, 1), "32FC1": (np.float32, 1), "yuv422": (np.uint8, 2)}
    if enc not in layouts:
        raise RenderError(f"image encoding {enc!r} is not drawn by this script; it draws {sorted(layouts)}")
    dtype, channels = layouts[enc]
    row_bytes = w * channels * np.dtype(dtype).itemsize
    if step < row_bytes or len(data) < step * (h - 1) + row_bytes:
        raise RenderError(f"a {w}x{h} {enc} image needs step >= {row_bytes} and {step * h} bytes; "
                          f"got step {step}, {len(data)} bytes")
    rows = np.frombuffer(data, np.uint8)[: step * h].reshape(h, step)[:, :row_bytes]
    arr = np.ascontiguousarray(rows).view(np.dtype(dtype).newbyteorder("<")).reshape(h, w, channels)
    if enc in ("bgr8", "bgra8"):
        arr = arr[..., [2, 1, 0] + ([3] if channels == 4 else [])]
    if enc == "yuv422":  # UYVY: luma is every second byte
        arr = arr[..., 1]
    elif channels == 1:
        arr = arr[..., 0]
    return arr, enc in ("16UC1", "32FC1")


def cloud_xyz(cloud: Any) -> np.ndarray:
    """(N, 3) x, y, z of a foxglove.PointCloud (z = 0 when absent)."""
    fields = {f.name: f for f in cloud.fields}
    for name in ("x", "y"):
        if name not in fields:
            raise RenderError(f"the point cloud has no {name!r} field; its fields: {sorted(fields)}")
    stride = cloud.point_stride
    if stride <= 0:
        raise RenderError(f"point_stride is {stride}; it must be > 0")
    n = len(cloud.data) // stride
    raw = np.frombuffer(cloud.data, np.uint8)[: n * stride].reshape(n, stride)
    out = np.zeros((n, 3), np.float64)
    for i, name in enumerate(("x", "y", "z")):
        f = fields.get(name)
        if f is None:
            continue
        if f.type not in _CLOUD_TYPES:
            raise RenderError(f"field {name!r} has numeric type {f.type}, which this script does not read")
        dt = np.dtype(_CLOUD_TYPES[f.type])
        out[:, i] = np.ascontiguousarray(raw[:, f.offset: f.offset + dt.itemsize]).view(dt)[:, 0]
    return out


def render(path: Path, topic: str, out: Path, cloud_topic: str | None = None, dpi: int = 120) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = first_message(path, topic, IMAGE_SCHEMA)
    arr, is_depth = image_array(img)
    cloud = first_message(path, cloud_topic, CLOUD_SCHEMA) if cloud_topic else None
    panels = 2 if cloud is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
    ax = axes[0][0]
    if arr.ndim == 2:
        shown = ax.imshow(arr, cmap="viridis" if is_depth else "gray")
        if is_depth:
            fig.colorbar(shown, ax=ax, label="depth (m)" if img.encoding == "32FC1" else "depth (mm)")
    else:
        ax.imshow(arr)
    stamp = img.timestamp.seconds + img.timestamp.nanos / 1e9
    ax.set_title(f"{topic}: {img.width}x{img.height} {img.encoding}\nframe_id {img.frame_id!r}, t={stamp:.3f}s",
                 fontsize=9)
    ax.axis("off")
    if cloud is not None:
        xyz = cloud_xyz(cloud)
        ax2 = axes[0][1]
        pts = ax2.scatter(xyz[:, 0], xyz[:, 1], c=xyz[:, 2], s=2, cmap="plasma")
        fig.colorbar(pts, ax=ax2, label="z")
        ax2.set_aspect("equal", adjustable="datalim")
        ax2.set_xlabel("x")
        ax2.set_ylabel("y")
        ax2.set_title(f"{cloud_topic}: {len(xyz)} points (top view), frame_id {cloud.frame_id!r}", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mcap", type=Path, help="the MCAP file")
    ap.add_argument("--topic", required=True, help="the image topic (foxglove.RawImage)")
    ap.add_argument("--cloud-topic", help="a point-cloud topic (foxglove.PointCloud) to draw beside it, from above")
    ap.add_argument("--out", type=Path, required=True, help="the PNG to write")
    ap.add_argument("--dpi", type=int, default=120)
    args = ap.parse_args(argv)
    if not args.mcap.is_file():
        print(f"render_mcap_frame: {args.mcap} is not a file", file=sys.stderr)
        return 1
    try:
        render(args.mcap, args.topic, args.out, args.cloud_topic, args.dpi)
    except RenderError as e:
        print(f"render_mcap_frame: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
