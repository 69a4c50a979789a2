"""The spec's Topic/Node snippets, run verbatim, with their results checked.

From ../shared/spec/memory-types.txt:
  * "Usage with Topics"                       -> USAGE_WITH_TOPICS
  * the quick example (camera edge detector)  -> EDGE_DETECTOR
  * "ML Pipeline Example"                     -> ML_PIPELINE

The code is copied from the spec character for character; the spec's plain-text
export lost the indentation of nested lines, which is restored as Python needs
and nothing else (test_snippets_are_verbatim checks this against the spec when
it is present). The other spec blocks are in test_spec_examples.py.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import horus
from horus import Image, Topic

from _child import Child
from conftest import new_namespace, shm_objects

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "spec" / "memory-types.txt"

USAGE_WITH_TOPICS = '''
from horus import Topic, Image, PointCloud, DepthImage
import numpy as np
# Publish an image
img_topic = Topic(Image)
img = Image.from_numpy(np.zeros((480, 640, 3), dtype=np.uint8), encoding="rgb8")
img_topic.send(img)
# Receive an image
received = img_topic.recv()
if received:
    np_img = received.to_numpy() # Zero-copy access
    print(f"Received {received.width}x{received.height} image")
'''

EDGE_DETECTOR = '''
import horus
from horus import Image, Topic
import numpy as np
sub_rgb = Topic(Image, "camera.rgb")
pub_edges = Topic(Image, "camera.edges")
def edge_tick(node):
    img = sub_rgb.try_recv()
    if img is not None:
        # Zero-copy to numpy — no pixel data copied
        pixels = img.to_numpy()
        # Process with numpy (Sobel edge detection)
        gray = np.mean(pixels, axis=2).astype(np.uint8)
        edges = np.abs(np.diff(gray, axis=1))
        # Zero-copy back to HORUS Image
        result = Image.from_numpy(edges)
        pub_edges.send(result)
detector = horus.Node(name="edge_detector", tick=edge_tick, rate=30,
                      subs=["camera.rgb"], pubs=["camera.edges"])
'''

ML_PIPELINE = '''
import horus
from horus import Image, Topic
import numpy as np
img_topic = Topic(Image)
def camera_tick(node):
    frame = np.random.randint(0, 255, (480, 640, 3), dtype=np.uint8)
    img = Image.from_numpy(frame, encoding="rgb8")
    img.set_frame_id("camera_front")
    img_topic.send(img)
def inference_tick(node):
    img = img_topic.recv()
    if img:
        # Zero-copy to PyTorch for inference
        tensor = img.to_torch() # No data copy!
        # ... run model ...
camera = horus.Node(name="camera", tick=camera_tick, rate=30, order=0)
model = horus.Node(name="model", tick=inference_tick, rate=30, order=1)
horus.run(camera, model)
'''


def _lines(code: str) -> list[str]:
    return [line.strip() for line in code.strip().splitlines()]


@pytest.mark.skipif(not SPEC.exists(), reason="the spec is not beside the repository")
@pytest.mark.parametrize("snippet", [USAGE_WITH_TOPICS, EDGE_DETECTOR, ML_PIPELINE],
                         ids=["usage_with_topics", "edge_detector", "ml_pipeline"])
def test_snippets_are_verbatim(snippet):
    spec = [line.strip() for line in SPEC.read_text().splitlines()]
    mine = _lines(snippet)
    starts = [i for i in range(len(spec)) if spec[i: i + len(mine)] == mine]
    assert starts, "the snippet differs from the spec (beyond indentation)"


# ----------------------------------------------------------------- Usage with Topics
def test_usage_with_topics(capsys, no_leak):
    ns: dict = {}
    exec(compile(USAGE_WITH_TOPICS, "<spec: Usage with Topics>", "exec"), ns)
    assert "Received 640x480 image" in capsys.readouterr().out
    assert ns["img_topic"].name == "image"
    received, img = ns["received"], ns["img"]
    assert ns["np_img"].shape == (480, 640, 3) and not ns["np_img"].any()
    # Zero-copy: the received message views the block the sender filled.
    assert received.data_ptr() == img.data_ptr() == ns["np_img"].ctypes.data
    assert horus.block_ref(received) == horus.block_ref(img)
    assert ns["np_img"].flags.writeable is False
    del ns, received, img


# ----------------------------------------------------------------- edge detector
CAMERA = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from horus import Image, Topic
    n, period = int(sys.argv[1]), float(sys.argv[2])
    cam = Topic(Image, "camera.rgb")
    print("ready", flush=True)
    sys.stdin.readline()  # go
    rng = np.random.default_rng(7)
    for k in range(n):
        img = Image.from_numpy(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), encoding="rgb8")
        img.set_frame_id(f"rgb{k}")
        cam.send(img)
        time.sleep(period)
    print("done", flush=True)
    sys.stdin.readline()  # stay until the parent is finished
    """
)


def test_edge_detector_pipeline_with_a_camera_in_another_process(no_leak):
    n = 12
    ns: dict = {}
    exec(compile(EDGE_DETECTOR, "<spec: quick example>", "exec"), ns)
    detector = ns["detector"]
    assert detector.name == "edge_detector" and detector.rate == 30
    assert detector.subs == ["camera.rgb"] and detector.pubs == ["camera.edges"]
    frames_seen = Topic(Image, "camera.rgb")  # the same frames the detector gets
    edges_out = Topic(Image, "camera.edges")
    camera = None
    try:
        camera = Child.python(CAMERA, str(n), "0.04", stdin=True)
        camera.expect("ready")
        camera.proc.stdin.write("go\n")
        camera.proc.stdin.flush()
        deadline = time.monotonic() + 30
        camera_done = False
        frames, edges = [], []  # drained as we go: an observer lagging behind a ring loses messages
        while time.monotonic() < deadline:
            horus.run(detector, duration=0.25)
            while (f := frames_seen.try_recv()) is not None:
                frames.append(f)
            while (e := edges_out.try_recv()) is not None:
                edges.append(e)
            if not camera_done:
                try:
                    camera_done = camera.lines.get_nowait() == "done"
                except queue.Empty:
                    pass
            if camera_done and ns["sub_rgb"].pending == 0:
                break
        assert camera_done, "the camera did not finish in time"
        while (f := frames_seen.try_recv()) is not None:
            frames.append(f)
        assert len(frames) == n and frames_seen.dropped == 0
        assert [f.frame_id for f in frames] == [f"rgb{k}" for k in range(n)]
        while (e := edges_out.try_recv()) is not None:
            edges.append(e)
        assert len(edges) == n and ns["sub_rgb"].dropped == 0 and edges_out.dropped == 0
        assert detector.stats.ticks >= n
        for frame, edge in zip(frames, edges):
            gray = np.mean(frame.to_numpy(), axis=2).astype(np.uint8)
            expected = np.abs(np.diff(gray, axis=1))
            got = edge.to_numpy()
            assert (edge.height, edge.width, edge.encoding) == (480, 639, "mono8")
            assert got.shape == (480, 639) and got.dtype == np.uint8
            np.testing.assert_array_equal(got, expected)
        del frames, edges, frame, edge, e, got
    finally:
        if camera is not None:
            if camera.proc.poll() is None:
                try:
                    camera.proc.stdin.write("bye\n")
                    camera.proc.stdin.flush()
                    camera.proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            camera.kill()
    assert camera.proc.returncode == 0, camera.stderr
    del ns, detector, frames_seen, edges_out


# ----------------------------------------------------------------- ML pipeline
OBSERVER = textwrap.dedent(
    """
    import sys, time
    from horus import Image, Topic
    want, limit = int(sys.argv[1]), float(sys.argv[2])
    t = Topic(Image)
    print("ready", flush=True)
    deadline, got = time.monotonic() + limit, 0
    while got < want and time.monotonic() < deadline:
        img = t.recv(timeout=0.5)
        if img is not None:
            got += 1
            print("frame", img.frame_id, img.width, img.height, img.encoding, flush=True)
    print("observed", got, "dropped", t.dropped, flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ml_pipeline_runs_until_signalled(sig):
    pytest.importorskip("torch")  # inference_tick calls img.to_torch()
    namespace = new_namespace("ml")
    observer = pipeline = None
    try:
        observer = Child.python(OBSERVER, "15", "30", env={"HORUS_NAMESPACE": namespace})
        observer.expect("ready")
        pipeline = Child.python(ML_PIPELINE, env={"HORUS_NAMESPACE": namespace})
        frames = [observer.expect("frame ", timeout=30) for _ in range(15)]
        observer.expect("observed 15")
        assert frames == ["frame camera_front 640 480 rgb8"] * 15
        assert observer.proc.wait(timeout=10) == 0
        time.sleep(0.2)
        assert pipeline.proc.poll() is None, "horus.run(camera, model) returned by itself"
        pipeline.proc.send_signal(sig)
        pipeline.proc.wait(timeout=15)
        err = pipeline.stderr
        assert pipeline.proc.returncode == 0, err
        assert "Traceback" not in err, err
    finally:
        for c in (observer, pipeline):
            if c is not None:
                c.kill()
    # Both processes are gone: nothing of their namespace is left in /dev/shm.
    deadline = time.monotonic() + 5
    while shm_objects(namespace) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shm_objects(namespace) == []
