"""One horus topic forwarded to one Foxglove channel, by a thread of its own.

The thread subscribes like any other subscriber (``horus.Topic(None, name)``), so a publisher
never waits for it. It advertises the channel when the first message shows what the topic
carries, with the schema of the shared converter (horus._foxglove, the same as recordings).
It encodes a message only while a client is subscribed to the channel (``Channel.has_sinks``);
otherwise it only takes messages off the ring. For images, depth images, point clouds and
tensors it skips to the newest waiting message (older frames count as dropped); typed and
schemaless messages go out in order, and the ring's own losses count as dropped too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import foxglove

import horus
from horus import _foxglove  # the converter shared with recordings (attributes looked up per call)
from horus.view._stats import TopicViewStats

_log = logging.getLogger("horus.view")

#: How long one recv() waits before the thread looks at its stop flag again (seconds).
POLL_S = 0.05

#: Message types sent newest-first: a viewer wants the current frame, not a backlog of old ones.
_NEWEST_ONLY = (horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)


class TopicWorker:
    """Forwards horus topic `name` to a channel of `context` until stop() is called."""

    def __init__(self, name: str, context: foxglove.Context) -> None:
        self.name = name
        self._context = context
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards the counters read by stats() and the subscriber set
        self._subscribers: set[int] = set()
        self._resend = False  # a client subscribed: send the newest message again at once
        self._channel: foxglove.Channel | None = None
        self._channel_key: tuple[Any, ...] | None = None
        self._channel_id = 0  # kept after the channel closed, for the final stats
        self._received = 0
        self._sent = 0
        self._bytes = 0
        self._skipped = 0
        self._ring_dropped = 0
        self._errors = 0
        self._schema_name = ""
        self._error = ""
        self._opened = False
        self._thread = threading.Thread(target=self._run, name=f"horus.view:{name}", daemon=True)

    # ---- control (any thread) ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Asks the thread to finish; join() waits for it."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def channel_id(self) -> int:
        """The id of the channel this topic was last advertised as (0 = not yet)."""
        return self._channel_id

    def on_subscribe(self, client_id: int) -> None:
        with self._lock:
            self._subscribers.add(client_id)
            self._resend = True

    def on_unsubscribe(self, client_id: int) -> None:
        with self._lock:
            self._subscribers.discard(client_id)

    def stats(self) -> TopicViewStats:
        with self._lock:
            return TopicViewStats(
                name=self.name,
                opened=self._opened,
                received=self._received,
                sent=self._sent,
                bytes_sent=self._bytes,
                skipped=self._skipped,
                lost=self._ring_dropped,
                errors=self._errors,
                channel_id=self._channel_id,
                schema_name=self._schema_name,
                subscribers=len(self._subscribers),
                error=self._error,
            )

    # ---- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            topic = horus.Topic(None, self.name)
        except Exception as e:  # a name horus refuses, a topic of a type this process cannot open
            self._fail(f"cannot open topic {self.name!r}: {e}")
            return
        self._opened = True
        latest: Any = None  # the newest message (sent again when a client subscribes)
        latest_ns = 0
        msg = newer = None
        declared_for = 0  # the layout hash whose class _declare_record_type() last provided
        try:
            while not self._stop.is_set():
                try:
                    msg = topic.recv(timeout=POLL_S)
                except TypeError as e:
                    # A typed message whose class this process has not declared (a user's type;
                    # `horus view` runs in a process of its own): declare it from the topic's layout.
                    if topic.layout_hash == declared_for or not self._declare_record_type(topic, e):
                        if not self._error:
                            self._fail(f"cannot receive topic {self.name!r}: {e}")
                        return
                    declared_for = topic.layout_hash
                    continue
                if msg is None:
                    if self._resend and latest is not None:
                        self._resend = False
                        self._forward(latest, latest_ns)
                    continue
                now = time.time_ns()
                taken = 1
                if isinstance(msg, _NEWEST_ONLY):
                    try:
                        while (newer := topic.try_recv()) is not None:
                            msg = newer
                            taken += 1
                    except TypeError:
                        pass  # the next recv() deals with it
                    now = time.time_ns()
                with self._lock:
                    self._received += taken
                    self._skipped += taken - 1
                    self._ring_dropped = topic.dropped
                latest, latest_ns = None, 0  # release the old block before anything can fail
                if not self._ensure_channel(msg):
                    return
                self._resend = False
                self._forward(msg, now)
                latest, latest_ns = msg, now
                msg = None
        finally:
            # Release everything this thread holds: the pool blocks of the newest message and
            # of the topic's subscription, and the channel (closing it unadvertises it).
            latest = msg = newer = None  # noqa: F841
            del topic
            self._close_channel()

    def _declare_record_type(self, topic: horus.Topic[Any], error: Exception) -> bool:
        """Declares the topic's record type from the namespace's type registry or the layout its
        description gives (what horus._foxglove does for a recording); False, with the reason
        recorded, if it cannot."""
        described = topic.type_description
        h = topic.layout_hash
        if not h:
            self._fail(f"cannot receive topic {self.name!r}: {error}")
            return False
        try:
            cls = _foxglove.live_record_class(h, described)
        except Exception as e:
            cls, why = None, f" ({e})"
        else:
            why = " (the namespace's type registry does not know it and the topic header's layout text is cut short)"
        if cls is None:
            self._fail(
                f"topic {self.name!r} carries {described}, a type not declared in this process that cannot be "
                f"declared from its layout{why}; serve from a process that imports the module declaring it"
            )
            return False
        return True

    def _ensure_channel(self, msg: Any) -> bool:
        """Advertises (or re-advertises, if the topic's type changed) the channel for `msg`."""
        key: tuple[Any, ...]
        if isinstance(msg, (*_NEWEST_ONLY, horus.TypedMessage)):
            key = (type(msg), getattr(msg, "layout_hash", None), getattr(msg, "record_type", None))
        else:
            key = ("horus.Data",)  # schemaless: one channel whatever the value (dict, list, int, ...)
        if key == self._channel_key and self._channel is not None:
            return True
        try:
            cs = _foxglove.channel_schema(msg)
        except Exception as e:
            if isinstance(msg, (*_NEWEST_ONLY, horus.TypedMessage)):  # the type has no schema: give up the topic
                self._fail(f"topic {self.name!r} carries {type(msg).__name__} messages with no Foxglove schema: {e}")
                return False
            self._encode_failed(e)  # schemaless: this value cannot be shown, the next one may
            return True
        self._close_channel()
        with self._lock:
            self._subscribers.clear()  # a new channel: nobody is subscribed to it yet
        data = cs.schema_data.encode() if isinstance(cs.schema_data, str) else bytes(cs.schema_data)
        metadata = {str(k): str(v) for k, v in (cs.metadata or {}).items()}
        self._channel = foxglove.Channel(
            self.name,
            schema=foxglove.Schema(name=cs.schema_name, encoding=cs.schema_encoding, data=data),
            message_encoding=cs.message_encoding,
            context=self._context,
            metadata=metadata,
        )
        self._channel_key = key
        with self._lock:
            self._schema_name = cs.schema_name
            self._channel_id = self._channel.id()
        _log.debug("advertised %s as %s (%s)", self.name, cs.schema_name, cs.message_encoding)
        return True

    def _forward(self, msg: Any, log_time_ns: int) -> None:
        ch = self._channel
        if ch is None or not ch.has_sinks():
            return  # nobody is looking: spend nothing on encoding
        try:
            payload = _foxglove.encode(msg)
        except Exception as e:
            self._encode_failed(e)
            return
        ch.log(payload, log_time=log_time_ns)
        with self._lock:
            self._sent += 1
            self._bytes += len(payload)

    def _encode_failed(self, e: Exception) -> None:
        with self._lock:
            first = self._errors == 0
            self._errors += 1
        if first:  # once per topic: a stream of bad values must not flood the log
            _log.warning("horus view: cannot encode a message of topic %r: %s", self.name, e)

    def _close_channel(self) -> None:
        ch, self._channel, self._channel_key = self._channel, None, None
        if ch is not None:
            ch.close()

    def _fail(self, why: str) -> None:
        with self._lock:
            self._error = why
        _log.warning("horus view: %s", why)
