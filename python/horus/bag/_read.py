"""Reading recordings from Python: horus.bag.read() (horus messages, for training loops and
analysis) and horus.bag.info() (what a recording holds)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from horus._foxglove import ConversionError, decode, horus_type
from horus.bag._args import topic_list
from horus.bag._errors import BagError
from horus.bag._file import BagFile

__all__ = ["BagInfo", "BagTopic", "info", "read"]


def read(path: str | os.PathLike[str], topics: list[str] | None = None) -> Iterator[tuple[str, object]]:
    """(topic, message) for every message of the recording (or of `topics`), in log-time
    order: Image, DepthImage, PointCloud, Tensor, typed messages and schemaless values, as
    they were published (types, frame_id, timestamp_ns). Each image, cloud or tensor is a new
    pool message (one copy); to_numpy()/to_torch() view it without another.

    The file is checked now (BagError: missing, not MCAP, truncated, corrupt summary;
    ValueError: a topic it does not have); corrupt chunks raise BagError when reached."""
    topic_list(topics)
    bag = BagFile(path)
    try:
        wanted = bag.check_topics(topics)
    except BaseException:
        bag.close()
        raise
    return _messages(bag, wanted)


def _messages(bag: BagFile, topics: list[str] | None) -> Iterator[tuple[str, object]]:
    with bag:
        for schema, channel, message in bag.messages(topics):
            try:
                msg = decode(schema.name if schema else "", channel.message_encoding, channel.metadata, message.data)
            except ConversionError as e:
                raise BagError(f"{bag.path}: topic {channel.topic!r}, message at log time {message.log_time}: {e} "
                               "(read(path, topics=[...]) reads the other topics)") from None
            yield channel.topic, msg


@dataclass(frozen=True)
class BagTopic:
    """One channel of a recording."""

    name: str
    horus_type: str  # "Image", "Tensor[Detection2D]", "CmdVel", "Data"; "" for channels not horus's
    schema_name: str  # "foxglove.RawImage", ...
    message_encoding: str  # "protobuf", "json"
    messages: int
    layout_hash: str = ""  # 0x... for typed messages and Tensors of records
    metadata: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BagInfo:
    """What a recording holds (horus.bag.info)."""

    path: str
    size_bytes: int
    messages: int
    start_ns: int  # log time of the first message (0 without messages)
    end_ns: int
    compression: str  # "zstd", "lz4", "none" (or several, comma-separated)
    chunks: int
    topics: list[BagTopic]
    library: str = ""  # who wrote the file
    recording: dict[str, str] = field(default_factory=dict)  # the horus.recording metadata (version, drops, ...)

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_s"] = self.duration_s
        return d


def info(path: str | os.PathLike[str]) -> BagInfo:
    """Topics (schema, horus type, message count), time range, size and compression of a
    recording. BagError for a missing, truncated or corrupt file."""
    with BagFile(path) as bag:
        counts = bag.message_counts()
        start, end = bag.time_range()
        topics = []
        for cid, ch in sorted(bag.channels.items(), key=lambda kv: (kv[1].topic, kv[0])):
            schema = bag.schemas.get(ch.schema_id)
            name = schema.name if schema else ""
            md = dict(ch.metadata)
            topics.append(BagTopic(ch.topic, horus_type(md, name), name, ch.message_encoding, counts.get(cid, 0),
                                   md.get("horus.layout_hash", ""), md))
        if bag.summary is not None:
            comps = sorted({ci.compression or "none" for ci in bag.summary.chunk_indexes})
            chunks = len(bag.summary.chunk_indexes)
        else:
            comps, chunks = [], 0
        try:
            library = bag.reader.get_header().library
            recording: dict[str, str] = {}
            for m in bag.reader.iter_metadata():
                if m.name == "horus.recording":
                    recording = dict(m.metadata)
        except Exception as e:  # noqa: BLE001
            raise BagError(f"{bag.path}: corrupt header or metadata: {e}") from None
        return BagInfo(bag.path, bag.size, sum(counts.values()), start, end, ", ".join(comps) or "none", chunks,
                       topics, library, recording)
