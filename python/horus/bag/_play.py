"""Replaying an MCAP recording into horus topics: horus.bag.play().

Messages are published in log-time order with the recorded gaps between them (divided by
`rate`), each decoded once into a new pool message (the one copy into the pool) and sent
without another copy, with its horus type, frame_id and timestamp_ns as recorded.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import horus
from horus._foxglove import ConversionError, decode
from horus._publisher import open_publisher
from horus.bag._args import check_progress, check_stop, topic_list
from horus.bag._errors import BagError
from horus.bag._file import BagFile

__all__ = ["PlayStats", "play"]

_PROGRESS_EVERY = 0.5


@dataclass
class PlayStats:
    """What play() published: messages (and their recorded bytes) in total and per topic,
    completed loops, the position reached in the recording, channels it could not play."""

    path: str
    duration_s: float = 0.0  # of the recording
    position_s: float = 0.0  # recording time of the last message published, from its start
    elapsed_s: float = 0.0
    messages: int = 0
    bytes: int = 0
    loops: int = 0  # passes through the recording completed
    topics: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # topic -> why it is not played

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_number(name: str, v: Any, low: float, low_ok: bool, what: str) -> float:
    ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and (
        v >= low if low_ok else v > low)
    if not ok:
        raise ValueError(f"{name}={v!r} must be a finite number {'>=' if low_ok else '>'} {low:g} ({what})")
    return float(v)


def _publisher(name: str, metadata: dict[str, str], msg: object) -> horus.Topic[Any]:
    kind = metadata.get("horus.kind", "")
    cap_text = metadata.get("horus.capacity", "")
    try:
        return open_publisher(name, msg, int(cap_text) if cap_text.isdigit() else None)
    except (TypeError, ValueError, horus.HorusError) as e:
        raise BagError(f"cannot publish the recorded {kind or 'data'} topic {name!r} here: {e}") from None


def play(
    path: str | os.PathLike[str],
    *,
    rate: float = 1.0,
    loop: bool = False,
    topics: list[str] | None = None,
    start: float = 0.0,
    stop: threading.Event | None = None,
    progress: Callable[[PlayStats], None] | None = None,
) -> PlayStats:
    """Publishes the recording at `path` on its topics with the recorded timing (rate 2.0 =
    twice as fast), from `start` seconds into it; over and over with loop=True, until `stop`
    is set or Ctrl-C (which ends playing normally). progress(stats) is called about twice a
    second and at the end. Channels horus cannot convert are skipped (stats.skipped)."""
    rate = _check_number("rate", rate, 0.0, False, "1.0 plays at the recorded speed")
    start = _check_number("start", start, 0.0, True, "seconds into the recording")
    if not isinstance(loop, bool):
        raise TypeError(f"loop must be True or False; got {loop!r}")
    check_stop(stop)
    check_progress(progress, "PlayStats")
    topic_list(topics)
    with BagFile(path) as bag:
        wanted = bag.check_topics(topics)
        first, last = bag.time_range()
        stats = PlayStats(path=bag.path, duration_s=(last - first) / 1e9)
        if start > stats.duration_s:
            raise ValueError(f"start={start:g} s is past the end of {bag.path} (it lasts {stats.duration_s:.3f} s)")
        start_ns = first + round(start * 1e9)
        publishers: dict[int, horus.Topic[Any] | None] = {}  # None: a channel that is skipped
        t0 = time.monotonic()
        next_progress = t0 + _PROGRESS_EVERY
        try:
            while True:
                wall0: float | None = None
                log0 = 0
                played = 0
                index: dict[int, int] = {}  # channel id -> index of its current message (from 0)
                for schema, channel, message in bag.messages(wanted, start_ns):
                    if stop is not None and stop.is_set():
                        return _done(stats, t0, progress)
                    index[channel.id] = index.get(channel.id, -1) + 1
                    new_channel = channel.id not in publishers
                    pub = publishers.get(channel.id)
                    if pub is None and not new_channel:
                        continue  # skipped channel
                    try:
                        msg = decode(schema.name if schema else "", channel.message_encoding, channel.metadata,
                                     message.data)
                    except ConversionError as e:
                        if new_channel:  # the channel's first message: skip the channel
                            publishers[channel.id] = None
                            stats.skipped[channel.topic] = str(e)
                            continue
                        raise BagError(f"{bag.path}: topic {channel.topic!r}, message {index[channel.id]} of the "
                                       f"topic (log time {message.log_time}): {e}") from None
                    if pub is None:
                        pub = publishers[channel.id] = _publisher(channel.topic, dict(channel.metadata), msg)
                    if wall0 is None:
                        wall0, log0 = time.monotonic(), message.log_time
                    target = wall0 + (message.log_time - log0) / 1e9 / rate
                    while True:
                        now = time.monotonic()
                        if now >= next_progress and progress is not None:
                            progress(_snapshot(stats, t0))
                            next_progress = now + _PROGRESS_EVERY
                        if now >= target:
                            break
                        wait = min(target - now, _PROGRESS_EVERY)
                        if stop is not None:
                            if stop.wait(wait):
                                return _done(stats, t0, progress)
                        else:
                            time.sleep(wait)
                    try:
                        pub.send(msg)
                    except (TypeError, ValueError, OverflowError, horus.HorusError) as e:
                        raise BagError(f"{bag.path}: topic {channel.topic!r}, message {index[channel.id]} of the "
                                       f"topic (log time {message.log_time}): horus cannot publish it: {e}") from None
                    del msg
                    played += 1
                    stats.messages += 1
                    stats.bytes += len(message.data)
                    stats.topics[channel.topic] = stats.topics.get(channel.topic, 0) + 1
                    stats.position_s = (message.log_time - first) / 1e9
                stats.loops += 1
                if not loop or not played:
                    break
        except KeyboardInterrupt:
            pass
        return _done(stats, t0, progress)


def _snapshot(stats: PlayStats, t0: float) -> PlayStats:
    stats.elapsed_s = time.monotonic() - t0
    return PlayStats(**{**asdict(stats), "topics": dict(stats.topics), "skipped": dict(stats.skipped)})


def _done(stats: PlayStats, t0: float, progress: Callable[[PlayStats], None] | None) -> PlayStats:
    stats.elapsed_s = time.monotonic() - t0
    if progress is not None:
        progress(_snapshot(stats, t0))
    return stats
