"""Recording topics to MCAP: horus.bag.Recorder and horus.bag.record().

The recorder is a subscriber like any other (horus.Topic(None, name) per topic): a thread
polls its topics with try_recv (a short sleep when none had anything), converts each
message to its Foxglove encoding (_foxglove.encode: the one copy of the pixels, into the
message's bytes) and hands it to the writer thread (_writer.BagWriter). Publishers never
wait for it; what it loses by falling behind is its topics' `dropped` count.
log_time is the receive time (CLOCK_REALTIME ns), publish_time the message's timestamp_ns
(the receive time for schemaless data, which has none).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import horus
from horus._foxglove import ChannelSchema, ConversionError, channel_schema, encode, horus_type
from horus._message import TypedMessage
from horus.bag._args import check_progress, check_stop, topic_list
from horus.bag._discovery import declare_topic_type, existing_topics, valid_topic_name
from horus.bag._errors import BagError
from horus.bag._writer import COMPRESSIONS, BagWriter, Channel

__all__ = ["Recorder", "RecordStats", "TopicStats", "record", "DEFAULT_CHUNK_SIZE"]

HORUS_VERSION: str = getattr(horus, "__version__", "")
#: Uncompressed bytes per MCAP chunk (the unit of compression and of seeking).
DEFAULT_CHUNK_SIZE = 4 << 20
#: How often the recorder looks for topics that appeared (seconds).
DISCOVERY_INTERVAL = 0.2
#: The receiving thread's sleep when no topic had a message (seconds).
POLL_SLEEP = 0.001
#: Encoded bytes the writer may fall behind before the receiver waits (and topics drop).
MAX_PENDING_BYTES = 256 << 20


@dataclass
class TopicStats:
    """One recorded topic: messages and encoded bytes written, messages the recorder's
    subscriber lost (dropped), messages it could not convert (errors, last_error)."""

    type: str = ""
    messages: int = 0
    bytes: int = 0
    drops: int = 0
    errors: int = 0
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecordStats:
    """A snapshot of a recording: totals, per-topic counts and the elapsed time."""

    path: str
    compression: str
    elapsed_s: float = 0.0
    messages: int = 0
    bytes: int = 0
    drops: int = 0
    errors: int = 0
    topics: dict[str, TopicStats] = field(default_factory=dict)

    @property
    def mb_per_s(self) -> float:
        """Recorded (uncompressed message) megabytes per second."""
        return self.bytes / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["topics"] = {k: v.as_dict() for k, v in self.topics.items()}
        return d


class _Subscription:
    """One topic the recorder receives."""

    __slots__ = ("name", "topic", "stats", "channels", "typed", "broken", "limit")

    def __init__(self, name: str, topic: horus.Topic) -> None:
        self.name, self.topic = name, topic
        self.stats = TopicStats()
        self.channels: dict[Any, Channel] = {}
        self.typed = False  # its record type (if any) is declared in this process
        self.broken = ""  # why it is no longer polled
        self.limit = max(topic.capacity, 1)  # messages drained per round


def _check_compression(compression: str | None) -> str | None:
    if compression == "none":
        compression = None
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression={compression!r} is not supported; use 'zstd', 'lz4' or None (no compression)")
    return compression


def _check_topics(topics: Iterable[str] | None) -> list[str]:
    names = topic_list(topics)
    if names is None:
        return []
    for n in names:
        if not valid_topic_name(n):
            raise ValueError(f"topic name {n!r} is invalid: use 1-100 characters from A-Z a-z 0-9 _ . -")
    return names


class Recorder:
    """Records topics to an MCAP file, from start() to stop() (or as a context manager).

    topics: the names to record (recorded once they appear); all_topics=True records every
    topic of the namespace, including those that appear later. compression: "zstd", "lz4"
    or None. chunk_size: uncompressed bytes per chunk. `stats` is a RecordStats snapshot.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        topics: list[str] | None = None,
        *,
        all_topics: bool = False,
        compression: str | None = "zstd",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.path = os.fspath(path)
        self.compression = _check_compression(compression)
        self.topics = _check_topics(topics)
        if not isinstance(all_topics, bool):
            raise TypeError(f"all_topics must be True or False; got {all_topics!r}")
        self.all_topics = all_topics
        if not self.topics and not all_topics:
            raise ValueError("name the topics to record, or pass all_topics=True to record every topic")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1024 <= chunk_size <= 1 << 30:
            raise ValueError(f"chunk_size={chunk_size!r} must be an int of 1024 to {1 << 30} bytes")
        self.chunk_size = chunk_size
        self._subs: dict[str, _Subscription] = {}
        self._writer: BagWriter | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._t0 = 0.0
        self._t_end: float | None = None
        self._started_ns = 0
        self._final: RecordStats | None = None
        self._failure: str | None = None  # why the recording failed, raised by every stop()
        self._lock = threading.Lock()  # guards _subs for stats snapshots

    # -- control ---------------------------------------------------------------------------

    def start(self) -> Recorder:
        """Opens the file and starts recording. Topics that exist now are subscribed before this
        returns; the others once they appear (checked every 0.2 s)."""
        if self._writer is not None:
            raise RuntimeError("this Recorder was already started; make a new one to record again")
        self._writer = BagWriter(self.path, self.compression, self.chunk_size, MAX_PENDING_BYTES)
        self._started_ns = time.time_ns()
        self._t0 = time.monotonic()
        self._discover()
        self._thread = threading.Thread(target=self._run, name="horus.bag recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> RecordStats:
        """Stops recording, writes the summary and closes the file; returns the final stats.
        Raises BagError if writing the file failed (again on every later call)."""
        if self._final is not None:
            if self._failure is not None:  # every stop() of a failed recording says so
                raise BagError(self._failure)
            return self._final
        if self._writer is None:
            raise RuntimeError("this Recorder was not started")
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._t_end = time.monotonic()
        stats = self.stats
        meta = {
            "horus_version": HORUS_VERSION,
            "namespace": horus.namespace(),
            "started_ns": str(self._started_ns),
            "stopped_ns": str(time.time_ns()),
            "topics_requested": ",".join(self.topics) if not self.all_topics else "*",
            "drops": ",".join(f"{k}={v.drops}" for k, v in stats.topics.items() if v.drops),
        }
        try:
            self._writer.close(meta)
        except BagError as e:
            self._failure = str(e)
            raise
        finally:
            with self._lock:
                self._subs.clear()  # closes our Topic objects (pool blocks and ring slots)
            self._final = stats
        if self._error is not None:
            self._failure = f"{self.path}: recording failed: {self._error}"
            raise BagError(self._failure) from self._error
        return stats

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def subscribed(self) -> list[str]:
        """The topics the recorder receives now (sorted)."""
        with self._lock:
            return sorted(self._subs)

    @property
    def failed(self) -> bool:
        """True once the receiving thread or the writer failed (stop() raises the reason)."""
        return self._error is not None or (self._writer is not None and self._writer.error is not None)

    @property
    def stats(self) -> RecordStats:
        """A snapshot of the recording's counts."""
        if self._final is not None:
            return self._final
        end = self._t_end if self._t_end is not None else time.monotonic()
        s = RecordStats(path=self.path, compression=self.compression or "none",
                        elapsed_s=(end - self._t0) if self._t0 else 0.0)
        with self._lock:
            subs = list(self._subs.values())
        for sub in subs:
            t = TopicStats(**asdict(sub.stats))
            s.topics[sub.name] = t
            s.messages += t.messages
            s.bytes += t.bytes
            s.drops += t.drops
            s.errors += t.errors
        return s

    # -- the receiving thread ---------------------------------------------------------------

    def _discover(self) -> None:
        exist = existing_topics()
        wanted = exist if self.all_topics else exist.intersection(self.topics)
        for name in sorted(wanted - self._subs.keys()):
            try:
                topic = horus.Topic(None, name)
            except Exception:  # noqa: BLE001 (torn down meanwhile, or not openable yet: try again later)
                continue
            sub = _Subscription(name, topic)
            with self._lock:
                self._subs[name] = sub
        for sub in self._subs.values():
            if not sub.broken:
                sub.stats.drops = sub.topic.dropped

    def _run(self) -> None:
        try:
            next_discovery = time.monotonic() + DISCOVERY_INTERVAL
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_discovery:
                    self._discover()
                    next_discovery = now + DISCOVERY_INTERVAL
                got = self._poll()
                assert self._writer is not None
                if self._writer.error is not None:
                    return
                if not got:
                    time.sleep(POLL_SLEEP)
            self._poll()  # what arrived up to stop()
            for sub in self._subs.values():
                if not sub.broken:
                    sub.stats.drops = sub.topic.dropped
        except BaseException as e:  # noqa: BLE001 (raised by stop())
            self._error = e

    def _poll(self) -> int:
        got = 0
        for sub in list(self._subs.values()):
            if sub.broken:
                continue
            if not sub.typed:
                try:
                    sub.typed = declare_topic_type(sub.topic)
                except ConversionError as e:
                    sub.broken = str(e)
                    sub.stats.errors += 1
                    sub.stats.last_error = str(e)
                    continue
            n = 0
            topic = sub.topic
            while n < sub.limit:
                try:
                    msg = topic.try_recv()
                except TypeError as e:  # a record type not declared here (declared just now, or not)
                    sub.stats.errors += 1
                    sub.stats.last_error = str(e)
                    sub.typed = False
                    break
                if msg is None:
                    break
                n += 1
                self._record(sub, msg, time.time_ns())
            if n:
                sub.typed = True
                sub.stats.drops = topic.dropped
                got += n
        return got

    def _record(self, sub: _Subscription, msg: object, log_time: int) -> None:
        t = type(msg)
        stamped = t in _STAMPED or isinstance(msg, TypedMessage)
        key: Any = "Data"  # one channel per horus type of the topic
        if stamped:
            key = (t, msg.record_type) if t is horus.Tensor else t  # type: ignore[attr-defined]
        ch = sub.channels.get(key)
        try:
            if ch is None:
                ch = self._channel(sub, msg)
                sub.channels[key] = ch
            data = encode(msg)
        except ConversionError as e:
            sub.stats.errors += 1
            sub.stats.last_error = str(e)
            return
        publish_time = msg.timestamp_ns if stamped else log_time  # type: ignore[attr-defined]
        del msg  # the pool block goes back now, not after the writer's wait
        assert self._writer is not None
        if self._writer.put(ch, log_time, publish_time, data):
            sub.stats.messages += 1
            sub.stats.bytes += len(data)

    def _channel(self, sub: _Subscription, msg: object) -> Channel:
        cs: ChannelSchema = channel_schema(msg)
        md = dict(cs.metadata)
        md["horus.capacity"] = str(sub.topic.capacity)
        md["horus.type_description"] = sub.topic.type_description
        sub.stats.type = horus_type(md, cs.schema_name)
        assert self._writer is not None
        return self._writer.add_channel(sub.name, cs, md)


_STAMPED = (horus.Image, horus.DepthImage, horus.PointCloud, horus.Tensor)


def record(
    path: str | os.PathLike[str],
    topics: list[str] | None = None,
    *,
    all_topics: bool = False,
    duration: float | None = None,
    compression: str | None = "zstd",
    stop: threading.Event | None = None,
    progress: Callable[[RecordStats], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RecordStats:
    """Records `topics` (or all_topics) to `path` until `duration` seconds have passed, `stop`
    is set, or Ctrl-C (which ends the recording normally: the file is finished and the stats
    returned). progress(stats) is called about twice a second and once at the end."""
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration)
        or duration <= 0
    ):
        raise ValueError(f"duration={duration!r} must be a number of seconds > 0 (or None: until stopped)")
    check_stop(stop)
    check_progress(progress, "RecordStats")
    rec = Recorder(path, topics, all_topics=all_topics, compression=compression, chunk_size=chunk_size)
    rec.start()
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while not rec.failed:
            wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if wait <= 0:
                break
            if stop is not None:
                if stop.wait(wait):
                    break
            else:
                time.sleep(wait)
            if progress is not None and (deadline is None or time.monotonic() < deadline):
                progress(rec.stats)
    except KeyboardInterrupt:
        pass
    finally:
        stats = rec.stop()
    if progress is not None:
        progress(stats)
    return stats
