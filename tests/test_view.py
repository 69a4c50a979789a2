"""The live Foxglove view (horus.view), seen by a real WebSocket client.

The client is the `websockets` package speaking the Foxglove WebSocket protocol as the Foxglove
app does: the foxglove.sdk.v1 subprotocol, serverInfo and advertise, subscribe, binary message
data frames (opcode 1, subscription id, log time, payload). Publishers run in other processes of
this session's namespace. Payloads are decoded with foxglove_schemas_protobuf and, for images,
also with a message class built from the schema the channel advertised (what Foxglove does).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import websockets
from foxglove_schemas_protobuf.PointCloud_pb2 import PointCloud as PbPointCloud
from foxglove_schemas_protobuf.RawImage_pb2 import RawImage
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

import horus
import horus.view
from horus.view import LiveView, ViewStats

from _child import Child

SUBPROTOCOL = "foxglove.sdk.v1"
WAIT_S = 15.0

# ---- the client -------------------------------------------------------------------------------


class FoxgloveClient:
    """A minimal Foxglove WebSocket client: what the app does to show a topic."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.server_info: dict[str, Any] = {}
        self.channels: dict[str, dict[str, Any]] = {}  # topic -> advertised channel
        self.removed: set[int] = set()
        self.frames: dict[int, list[tuple[int, bytes]]] = {}  # subscription id -> [(log time, payload)]
        self.subscriptions: dict[int, int] = {}  # subscription id -> channel id
        self.retries: list[str] = []

    @classmethod
    async def connect(cls, port: int, **kw: Any) -> FoxgloveClient:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}", subprotocols=[SUBPROTOCOL], **kw)
        client = cls(ws)
        first = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        assert first["op"] == "serverInfo", first
        client.server_info = first
        return client

    async def close(self) -> None:
        await self.ws.close()

    async def _take(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            op, sub_id, log_time = struct.unpack_from("<BIQ", raw)
            assert op == 1, f"binary opcode {op} is not message data"
            self.frames.setdefault(sub_id, []).append((log_time, raw[13:]))
            return
        msg = json.loads(raw)
        if msg["op"] == "advertise":
            for ch in msg["channels"]:
                self.channels[ch["topic"]] = ch
        elif msg["op"] == "unadvertise":
            self.removed.update(msg["channelIds"])
        elif msg["op"] == "status" and msg["message"].startswith("Unknown channel ID"):
            # foxglove-sdk 0.30 sends a new channel's advertisement a moment before it accepts
            # subscriptions to it; a client that subscribes at once may be told the channel is
            # unknown. Subscribe again, as a person clicking in Foxglove would.
            self.retries.append(msg["message"])
            assert len(self.retries) < 50, self.retries
            await asyncio.sleep(0.01)
            channel_id = int(msg["message"].rsplit(":", 1)[1])
            for sub_id, ch in self.subscriptions.items():
                if ch == channel_id:
                    await self.subscribe(sub_id, ch)

    async def pump_until(self, done: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; channels {list(self.channels)}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            await self._take(raw)

    async def drain(self, seconds: float) -> None:
        """Takes whatever the server sends for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                await self._take(await asyncio.wait_for(self.ws.recv(), left))
            except asyncio.TimeoutError:
                pass

    async def channel(self, topic: str, timeout: float = WAIT_S) -> dict[str, Any]:
        await self.pump_until(lambda: topic in self.channels, f"channel {topic!r} to be advertised", timeout)
        return self.channels[topic]

    async def subscribe(self, sub_id: int, channel_id: int) -> None:
        self.subscriptions[sub_id] = channel_id
        await self.ws.send(json.dumps({"op": "subscribe", "subscriptions": [{"id": sub_id, "channelId": channel_id}]}))

    async def unsubscribe(self, sub_id: int) -> None:
        self.subscriptions.pop(sub_id, None)
        await self.ws.send(json.dumps({"op": "unsubscribe", "subscriptionIds": [sub_id]}))

    async def frame(self, sub_id: int, timeout: float = WAIT_S) -> tuple[int, bytes]:
        """The next message data frame of subscription `sub_id`: (log time ns, payload)."""
        await self.pump_until(lambda: bool(self.frames.get(sub_id)), f"a frame of subscription {sub_id}", timeout)
        return self.frames[sub_id].pop(0)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---- publishers in other processes --------------------------------------------------------------

# Pixels are a function of the frame's timestamp, so a received frame can be checked byte for byte.
PUBLISHER = r"""
import sys, threading, time
import numpy as np
import horus

stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

def pixels(ts, shape):
    return ((np.arange(int(np.prod(shape)), dtype=np.int64) * 7 + ts) % 251).astype(np.uint8).reshape(shape)

kinds = sys.argv[1].split(",")
topics = {}
if "image" in kinds:
    topics["image"] = horus.Topic(horus.Image, "view.camera")
if "depth" in kinds:
    topics["depth"] = horus.Topic(horus.DepthImage, "view.depth")
if "cloud" in kinds:
    topics["cloud"] = horus.Topic(horus.PointCloud, "view.cloud")
if "cmd" in kinds:
    topics["cmd"] = horus.Topic(horus.CmdVel, "view.cmd_vel")
if "late" in kinds:
    topics["late"] = horus.Topic(horus.Image, "view.late")
if "data" in kinds:
    topics["data"] = horus.Topic("view.status")
if "tensor" in kinds:
    topics["tensor"] = horus.Topic(horus.Tensor, "view.tensor")
if "foreign" in kinds or "nested" in kinds:
    # Types only this process declares: the view's process has never seen them.
    @horus.message
    class ViewOnlyBattery:
        voltage: np.float32
        cells: horus.array(np.float32, 3)
        label: horus.string(8)

    @horus.message
    class ViewOnlyCell:
        volts: np.float32

    @horus.message
    class ViewOnlyPack:
        cell: ViewOnlyCell
        count: np.int32

    if "foreign" in kinds:
        topics["foreign"] = horus.Topic(ViewOnlyBattery, "view.battery")
    if "nested" in kinds:
        topics["nested"] = horus.Topic(ViewOnlyPack, "view.pack")
print("ready", flush=True)
ts = 1_700_000_000_000_000_000
while not stop.is_set():
    ts += 1
    for kind, topic in topics.items():
        if kind in ("image", "late"):
            img = horus.Image.from_numpy(pixels(ts, (5, 7, 3)), encoding="rgb8")
            img.set_frame_id("camera_optical")
            img.set_timestamp_ns(ts)
            topic.send(img)
        elif kind == "depth":
            d = (np.arange(4 * 6, dtype=np.float32).reshape(4, 6) + (ts % 100)) / 8
            msg = horus.DepthImage.from_numpy(d)
            msg.set_frame_id("depth_optical")
            msg.set_timestamp_ns(ts)
            topic.send(msg)
        elif kind == "cloud":
            pts = (np.arange(10 * 3, dtype=np.float32).reshape(10, 3) + (ts % 100)) / 4
            msg = horus.PointCloud.from_numpy(pts)
            msg.set_frame_id("lidar")
            msg.set_timestamp_ns(ts)
            topic.send(msg)
        elif kind == "cmd":
            c = horus.CmdVel(linear=0.5, angular=-0.25)
            c.set_timestamp_ns(ts)
            topic.send(c)
        elif kind == "data":
            topic.send({"mode": "explore", "ok": True, "ts": ts, "grid": np.arange(6, dtype=np.uint8).reshape(2, 3)})
        elif kind == "tensor":
            t = horus.Tensor.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3) + (ts % 100))
            t.set_timestamp_ns(ts)
            topic.send(t)
        elif kind == "foreign":
            topic.send(ViewOnlyBattery(voltage=12.5, cells=[4.0, 4.25, 4.5], label="pack-a"))
        elif kind == "nested":
            topic.send(ViewOnlyPack(cell=ViewOnlyCell(volts=3.5), count=2))
    time.sleep(0.02)
print("done", flush=True)
"""


def expected_pixels(ts: int, shape: tuple[int, ...]) -> bytes:
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.int64) * 7 + ts) % 251).astype(np.uint8).tobytes()


@pytest.fixture
def publisher():
    """publisher("image,depth") starts a publisher process of those kinds; stopped cleanly after."""
    children: list[Child] = []

    def start(kinds: str) -> Child:
        child = Child.python(PUBLISHER, kinds, stdin=True)
        children.append(child)
        child.expect("ready")
        return child

    yield start
    for child in children:
        if child.proc.poll() is None:
            child.proc.stdin.close()
            try:
                assert child.wait(timeout=20) == 0, child.stderr
            finally:
                child.kill()


def wait_opened(view: LiveView, *names: str) -> None:
    """Waits until the view has opened these topics: it receives what is sent from then on
    (a subscriber does not see messages sent before it existed)."""
    deadline = time.monotonic() + WAIT_S
    while not all(getattr(view.stats.topics.get(n), "opened", False) for n in names):
        assert time.monotonic() < deadline, f"the view did not open {names}: {view.stats}"
        time.sleep(0.01)


def view_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("horus.view"))


def message_class_from_schema(channel: dict[str, Any]) -> type:
    """Builds the payload's class from the advertised FileDescriptorSet, as Foxglove does."""
    assert channel["schemaEncoding"] == "protobuf"
    fds = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(channel["schema"]))
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(channel["schemaName"]))


# ---- images end to end --------------------------------------------------------------------------


def test_an_image_from_another_process_reaches_a_foxglove_client_exactly(no_leak, publisher):
    publisher("image")
    with LiveView(["view.camera"], port=0) as view:
        assert view.port > 0

        async def main() -> tuple[dict[str, Any], dict[str, Any], int, int, int, bytes]:
            client = await FoxgloveClient.connect(view.port)
            try:
                assert client.ws.subprotocol == SUBPROTOCOL
                ch = await client.channel("view.camera")
                before = time.time_ns()
                await client.subscribe(5, ch["id"])
                log_time, payload = await client.frame(5)
                after = time.time_ns()
                return client.server_info, ch, before, after, log_time, payload
            finally:
                await client.close()

        info, ch, before, after, log_time, payload = run(main())
        stats = view.stats

    assert horus.namespace() in info["name"]
    assert (ch["schemaName"], ch["encoding"], ch["schemaEncoding"]) == ("foxglove.RawImage", "protobuf", "protobuf")
    # The log time is when the view took the frame off the topic (wall clock): this test's window,
    # give or take the frame that was already waiting when the subscription started.
    assert before - 1_000_000_000 <= log_time <= after, (before, log_time, after)

    img = RawImage.FromString(payload)
    assert (img.width, img.height, img.encoding, img.step) == (7, 5, "rgb8", 21)
    assert img.frame_id == "camera_optical"
    ts = img.timestamp.seconds * 1_000_000_000 + img.timestamp.nanos
    assert ts > 1_700_000_000_000_000_000
    assert img.data == expected_pixels(ts, (5, 7, 3))

    # Decoded with the class the advertised schema describes: the same frame.
    cls = message_class_from_schema(ch)
    again = cls.FromString(payload)
    assert (again.width, again.height, again.encoding, again.data) == (7, 5, "rgb8", img.data)

    topic = stats.topics["view.camera"]
    assert topic.schema_name == "foxglove.RawImage" and topic.error == ""
    assert topic.sent >= 1 and topic.bytes_sent >= len(payload) and topic.received >= topic.sent


def test_depth_image_and_point_cloud_channels_carry_their_schemas(no_leak, publisher):
    publisher("depth,cloud")
    with LiveView(["view.depth", "view.cloud"], port=0) as view:

        async def main() -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
            client = await FoxgloveClient.connect(view.port)
            try:
                depth = await client.channel("view.depth")
                cloud = await client.channel("view.cloud")
                await client.subscribe(1, depth["id"])
                await client.subscribe(2, cloud["id"])
                _, d = await client.frame(1)
                _, c = await client.frame(2)
                return depth, cloud, d, c
            finally:
                await client.close()

        depth, cloud, d_payload, c_payload = run(main())

    assert (depth["schemaName"], depth["encoding"]) == ("foxglove.RawImage", "protobuf")
    assert (cloud["schemaName"], cloud["encoding"]) == ("foxglove.PointCloud", "protobuf")

    d = RawImage.FromString(d_payload)
    assert (d.width, d.height, d.encoding, d.step) == (6, 4, "32FC1", 24)
    assert d.frame_id == "depth_optical"
    ts = d.timestamp.seconds * 1_000_000_000 + d.timestamp.nanos
    want = (np.arange(24, dtype=np.float32).reshape(4, 6) + (ts % 100)) / 8
    assert np.array_equal(np.frombuffer(d.data, np.float32).reshape(4, 6), want)

    c = PbPointCloud.FromString(c_payload)
    assert c.frame_id == "lidar"
    assert [f.name for f in c.fields][:3] == ["x", "y", "z"]
    assert c.point_stride == 12
    ts = c.timestamp.seconds * 1_000_000_000 + c.timestamp.nanos
    want = (np.arange(30, dtype=np.float32).reshape(10, 3) + (ts % 100)) / 4
    assert np.array_equal(np.frombuffer(c.data, np.float32).reshape(10, 3), want)


def test_a_typed_message_is_a_json_channel(no_leak, publisher):
    publisher("cmd")
    with LiveView(["view.cmd_vel"], port=0) as view:

        async def main() -> tuple[dict[str, Any], bytes]:
            client = await FoxgloveClient.connect(view.port)
            try:
                ch = await client.channel("view.cmd_vel")
                await client.subscribe(9, ch["id"])
                _, payload = await client.frame(9)
                return ch, payload
            finally:
                await client.close()

        ch, payload = run(main())

    assert ch["encoding"] == "json" and ch["schemaEncoding"] == "jsonschema"
    assert "CmdVel" in ch["schemaName"]
    schema = json.loads(ch["schema"])
    assert schema["type"] == "object"
    body = json.loads(payload)
    assert body["linear"] == 0.5 and body["angular"] == -0.25
    # The channel's metadata (advertised with it) restores the exact horus message.
    assert ch["metadata"]["horus.kind"] == "Record" and ch["metadata"]["horus.type_name"] == "CmdVel"
    from horus import _foxglove

    got = _foxglove.decode(ch["schemaName"], ch["encoding"], ch["metadata"], payload)
    assert got == horus.CmdVel(linear=0.5, angular=-0.25)
    assert got.timestamp_ns > 1_700_000_000_000_000_000


def test_schemaless_data_and_tensors_have_channels_that_decode_to_the_sent_values(no_leak, publisher):
    from horus import _foxglove

    publisher("data,tensor")
    with LiveView(["view.status", "view.tensor"], port=0) as view:

        async def main() -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
            client = await FoxgloveClient.connect(view.port)
            try:
                data = await client.channel("view.status")
                tensor = await client.channel("view.tensor")
                await client.subscribe(1, data["id"])
                await client.subscribe(2, tensor["id"])
                return data, tensor, (await client.frame(1))[1], (await client.frame(2))[1]
            finally:
                await client.close()

        data, tensor, d_payload, t_payload = run(main())

    assert (data["schemaName"], data["encoding"]) == ("horus.Data", "json")
    body = json.loads(d_payload)  # what Foxglove's Raw Messages panel shows
    assert body["mode"] == "explore" and body["ok"] is True
    value = _foxglove.decode(data["schemaName"], data["encoding"], data["metadata"], d_payload)
    assert value["ts"] > 1_700_000_000_000_000_000
    assert np.array_equal(value["grid"], np.arange(6, dtype=np.uint8).reshape(2, 3))

    assert (tensor["schemaName"], tensor["encoding"]) == ("horus.Tensor", "protobuf")
    t = _foxglove.decode(tensor["schemaName"], tensor["encoding"], tensor["metadata"], t_payload)
    assert isinstance(t, horus.Tensor)
    want = np.arange(6, dtype=np.float32).reshape(2, 3) + (t.timestamp_ns % 100)
    assert np.array_equal(t.to_numpy(), want)
    # The advertised schema is enough to read it without horus, as Foxglove does.
    generic = message_class_from_schema(tensor).FromString(t_payload)
    assert (generic.dtype, list(generic.shape)) == ("float32", [2, 3])
    del t


def test_a_typed_message_of_a_type_only_its_publisher_declares_is_shown(no_leak, publisher):
    # the nested type is learned from the namespace's type registry (_core._layout_bundle)
    publisher("foreign,nested")
    with LiveView(["view.battery", "view.pack"], port=0) as view:

        async def main() -> tuple[dict[str, Any], bytes, dict[str, Any] | None, bytes]:
            client = await FoxgloveClient.connect(view.port)
            try:
                ch = await client.channel("view.battery")
                await client.subscribe(1, ch["id"])
                battery = (await client.frame(1))[1]
                pack_ch = await client.channel("view.pack")
                await client.subscribe(2, pack_ch["id"])
                return ch, battery, pack_ch, (await client.frame(2))[1]
            finally:
                await client.close()

        ch, payload, pack_ch, pack_payload = run(main())
        stats = view.stats.topics

    assert (ch["schemaName"], ch["encoding"]) == ("ViewOnlyBattery", "json")
    body = json.loads(payload)
    assert body["voltage"] == 12.5 and body["cells"] == [4.0, 4.25, 4.5] and body["label"] == "pack-a"
    assert stats["view.battery"].error == "" and stats["view.battery"].sent >= 1
    pack = stats["view.pack"]
    assert pack_ch is not None and (pack_ch["schemaName"], pack_ch["encoding"]) == ("ViewOnlyPack", "json")
    assert json.loads(pack_payload) == {"cell": {"volts": 3.5}, "count": 2, "timestamp_ns": 0, "frame_id": ""}
    assert pack.error == "" and pack.sent >= 1


# ---- topics that appear later -----------------------------------------------------------------

def test_a_topic_that_appears_after_the_start_is_advertised(no_leak, publisher):
    with LiveView(port=0) as view:  # every topic

        async def main() -> dict[str, Any]:
            client = await FoxgloveClient.connect(view.port)
            try:
                await client.drain(0.5)
                assert "view.late" not in client.channels
                await asyncio.get_running_loop().run_in_executor(None, publisher, "late")
                ch = await client.channel("view.late")
                await client.subscribe(1, ch["id"])
                _, payload = await client.frame(1)
                img = RawImage.FromString(payload)
                assert (img.width, img.height) == (7, 5)
                return ch
            finally:
                await client.close()

        ch = run(main())
    assert ch["schemaName"] == "foxglove.RawImage"


# ---- no work without a subscriber; drops instead of queues ----------------------------------


def test_nothing_is_encoded_while_no_client_is_subscribed(no_leak, publisher, monkeypatch):
    from horus import _foxglove

    calls = []
    real_encode = _foxglove.encode
    monkeypatch.setattr(_foxglove, "encode", lambda msg: calls.append(1) or real_encode(msg))
    publisher("image")
    with LiveView(["view.camera"], port=0) as view:

        async def main() -> tuple[int, int, int]:
            client = await FoxgloveClient.connect(view.port)
            try:
                ch = await client.channel("view.camera")
                await asyncio.sleep(0.5)  # connected, not subscribed: ~25 frames go by
                idle = len(calls)
                await client.subscribe(1, ch["id"])
                for _ in range(3):
                    await client.frame(1)
                await client.unsubscribe(1)
                deadline = time.monotonic() + WAIT_S  # the unsubscription reaches the server
                while view.stats.topics["view.camera"].subscribers:
                    assert time.monotonic() < deadline, "the server did not report the unsubscription"
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.1)  # an encoding already under way when it came finishes
                after_unsub = len(calls)
                await asyncio.sleep(0.5)
                return idle, after_unsub, len(calls)
            finally:
                await client.close()

        idle, after_unsub, later = run(main())
        stats = view.stats.topics["view.camera"]
    assert stats.received >= 20
    assert idle == 0
    assert after_unsub >= 3
    assert later == after_unsub  # unsubscribed: encoding stopped
    assert stats.sent == after_unsub and stats.subscribers == 0


def test_a_client_that_subscribes_gets_the_newest_message_at_once(no_leak):
    pub = horus.Topic(horus.Image, "view.slow_camera")
    with LiveView(["view.slow_camera"], port=0) as view:
        wait_opened(view, "view.slow_camera")
        img = horus.Image.from_numpy(np.full((5, 7, 3), 9, np.uint8), encoding="rgb8")
        img.set_timestamp_ns(42)
        pub.send(img)  # the only frame: a camera at well under 1 Hz
        del img

        async def main() -> RawImage:
            client = await FoxgloveClient.connect(view.port)
            try:
                ch = await client.channel("view.slow_camera")
                await asyncio.sleep(0.2)  # long after the frame came and went
                await client.subscribe(1, ch["id"])
                return RawImage.FromString((await client.frame(1, timeout=2))[1])
            finally:
                await client.close()

        got = run(main())
        stats = view.stats.topics["view.slow_camera"]
    del pub
    assert got.timestamp.nanos == 42 and got.data == bytes([9]) * 105
    assert (stats.received, stats.sent) == (1, 1)


def test_a_view_that_falls_behind_skips_to_the_newest_frame_and_counts_the_rest(monkeypatch, no_leak):
    from horus import _foxglove

    real_encode = _foxglove.encode
    monkeypatch.setattr(_foxglove, "encode", lambda msg: (time.sleep(0.05), real_encode(msg))[1])
    pub = horus.Topic(horus.Image, "view.fast", capacity=256)  # the ring loses nothing: only the view skips
    with LiveView(["view.fast"], port=0) as view:
        wait_opened(view, "view.fast")

        async def main() -> list[int]:
            client = await FoxgloveClient.connect(view.port)
            try:
                pub.send(horus.Image.from_numpy(np.zeros((5, 7, 3), np.uint8), encoding="rgb8"))
                ch = await client.channel("view.fast")
                await client.subscribe(1, ch["id"])
                await client.frame(1)
                for i in range(1, 201):  # 200 frames at once; encoding one takes 50 ms
                    img = horus.Image.from_numpy(np.zeros((5, 7, 3), np.uint8), encoding="rgb8")
                    img.set_timestamp_ns(i)
                    pub.send(img)
                    del img
                got: list[int] = []
                while 200 not in got:
                    _, payload = await client.frame(1)
                    got.append(RawImage.FromString(payload).timestamp.nanos)
                return got
            finally:
                await client.close()

        got = run(main())
        stats = view.stats.topics["view.fast"]
    del pub
    assert got[-1] == 200  # the newest frame arrived
    assert len(got) < 50, got  # most were skipped, not queued
    assert got == sorted(got)
    # Every frame was taken off the ring, and all but the few encoded count as skipped.
    assert (stats.received, stats.lost) == (201, 0)
    assert stats.dropped == stats.skipped >= 201 - len(got) - 1
    assert stats.sent <= len(got) + 1


def test_a_client_that_stops_reading_gets_a_bounded_backlog_with_the_newest_frame(no_leak):
    pub = horus.Topic(horus.Image, "view.big")
    frame = np.zeros((512, 512), np.uint8)  # 256 KiB a frame
    with LiveView(["view.big"], port=0) as view:
        wait_opened(view, "view.big")

        async def main() -> list[int]:
            # max_queue: the client library itself buffers at most 2 messages before it stops reading.
            client = await FoxgloveClient.connect(view.port, max_queue=2, max_size=None)
            try:
                pub.send(horus.Image.from_numpy(frame, encoding="mono8"))
                ch = await client.channel("view.big")
                await client.subscribe(1, ch["id"])
                await client.frame(1)
                for i in range(1, 301):  # 75 MiB while the client does not read
                    img = horus.Image.from_numpy(frame, encoding="mono8")
                    img.set_timestamp_ns(i)
                    pub.send(img)
                    del img
                    await asyncio.sleep(0.003)  # slow enough for the view to send most frames
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    taken = view.stats.topics["view.big"]
                    if taken.received + taken.lost >= 301:
                        break
                    await asyncio.sleep(0.05)
                got: list[int] = []
                while 300 not in got:
                    _, payload = await client.frame(1)
                    got.append(RawImage.FromString(payload).timestamp.nanos)
                return got
            finally:
                await client.close()

        got = run(main())
        stats = view.stats.topics["view.big"]
    del pub
    assert got[-1] == 300
    # What reached the client: the server's per-client backlog, the socket buffers and the
    # client's queue; the rest was dropped on the way, not queued.
    assert len(got) < 150, len(got)
    assert stats.received + stats.lost == 301
    # The view sent them on (it is not the slow one); the server dropped what the client could not take.
    assert stats.sent > len(got) + 50, (stats, len(got))


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [-1, 65536, 100_000])
def test_a_port_out_of_range_is_a_value_error_naming_it(port):
    with pytest.raises(ValueError, match=rf"port {port} .*0 to 65535"):
        LiveView(port=port)
    with pytest.raises(ValueError, match=rf"port {port} "):
        horus.view.serve(port=port)


@pytest.mark.parametrize("port", [True, "8765", 8765.0, None])
def test_a_port_that_is_not_an_int_is_a_type_error(port):
    with pytest.raises(TypeError, match="port must be an int"):
        LiveView(port=port)


def test_a_port_in_use_is_an_os_error_naming_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(OSError, match=rf"port {port} on 127.0.0.1 is already in use"):
            LiveView(port=port).start()
        # Two views on one port: the second one fails the same way.
        with LiveView(port=0) as first:
            with pytest.raises(OSError, match=rf"port {first.port} .*already in use"):
                LiveView(port=first.port).start()
    assert view_threads() == []


def test_a_host_that_cannot_be_listened_on_is_an_os_error_naming_it():
    with pytest.raises(OSError, match=r"cannot listen on host '300\.1\.2\.3', port 0"):
        LiveView(host="300.1.2.3", port=0).start()
    with pytest.raises(TypeError, match="host must be a non-empty str"):
        LiveView(host="")
    assert view_threads() == []


@pytest.mark.parametrize(
    "topics, error, match",
    [
        ("camera", TypeError, "list of topic names"),
        ([], ValueError, "empty"),
        (["camera", 3], TypeError, "non-empty str; got 3"),
        ([""], TypeError, "non-empty str"),
        (42, TypeError, "list of topic names"),
    ],
)
def test_bad_topic_lists_are_refused(topics, error, match):
    with pytest.raises(error, match=match):
        LiveView(topics)


def test_a_view_starts_once():
    view = LiveView(["view.once"], port=0)
    with view:
        with pytest.raises(RuntimeError, match="already started"):
            view.start()
    with pytest.raises(RuntimeError, match="already started"):
        view.start()


# ---- stopping ---------------------------------------------------------------------------------


def restart_on(port: int) -> LiveView:
    """A view started and stopped on `port` (which the server may take a moment to release)."""
    deadline = time.monotonic() + 2
    while True:
        try:
            with LiveView(["view.restart"], port=port) as again:
                return again
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_stopping_leaves_no_thread_no_pool_block_and_frees_the_port(no_leak):
    gc.collect()
    blocks = horus.pool_stats().local_blocks
    pub = horus.Topic(horus.Image, "view.stop")
    counts = []
    for _ in range(2):
        view = LiveView(["view.stop", "view.stop2"], port=0).start()
        port = view.port
        wait_opened(view, "view.stop")

        async def main() -> None:
            client = await FoxgloveClient.connect(port)
            try:
                pub.send(horus.Image.from_numpy(np.zeros((5, 7, 3), np.uint8), encoding="rgb8"))
                ch = await client.channel("view.stop")
                await client.subscribe(1, ch["id"])
                await client.frame(1)  # the view now holds the newest frame
            finally:
                await client.close()

        run(main())
        assert view_threads(), "the view runs threads of its own"
        view.stop()
        view.stop()  # idempotent
        assert not view.running
        assert view_threads() == []
        counts.append(os_threads())
        assert restart_on(port).port == port  # the port is free again
    del pub
    gc.collect()
    assert horus.pool_stats().local_blocks == blocks
    assert counts[1] <= counts[0], f"OS threads grew from {counts[0]} to {counts[1]} over a second start/stop"
    assert view.stats.topics["view.stop"].sent == 1


def test_serve_calls_ready_with_the_real_port_and_returns_stats_when_stopped():
    stop = threading.Event()
    ports: list[int] = []
    result: list[ViewStats] = []
    thread = threading.Thread(
        target=lambda: result.append(horus.view.serve(["view.serve"], port=0, stop=stop, ready=ports.append))
    )
    thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not ports and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ports and ports[0] > 0

        async def main() -> str:
            client = await FoxgloveClient.connect(ports[0])
            await client.close()
            return client.server_info["op"]

        assert run(main()) == "serverInfo"
    finally:
        stop.set()
        thread.join(WAIT_S)
    assert not thread.is_alive()
    assert result and result[0].port == ports[0]
    assert view_threads() == []


SERVE = r"""
import sys, json, horus, horus.view
stats = horus.view.serve(sys.argv[1].split(","), port=0, ready=lambda p: print("port", p, flush=True))
print("stats", json.dumps(stats.as_dict()), flush=True)
"""


def test_serve_in_its_own_process_stops_cleanly_on_sigint(publisher):
    publisher("image")
    server = Child.python(SERVE, "view.camera")
    try:
        port = int(server.expect("port").split()[1])

        async def main() -> RawImage:
            client = await FoxgloveClient.connect(port)
            try:
                ch = await client.channel("view.camera")
                await client.subscribe(1, ch["id"])
                _, payload = await client.frame(1)
                return RawImage.FromString(payload)
            finally:
                await client.close()

        img = run(main())
        assert (img.width, img.height, img.encoding) == (7, 5, "rgb8")
        server.proc.send_signal(signal.SIGINT)
        stats = json.loads(server.expect("stats")[len("stats "):])
        assert server.wait(timeout=WAIT_S) == 0, server.stderr
    finally:
        server.kill()
    assert stats["port"] == port
    assert stats["topics"]["view.camera"]["sent"] >= 1
