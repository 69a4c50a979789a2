"""horus.bag — recording topics to MCAP files, playing them back, and reading them from Python.

    horus.bag.record("run.mcap", ["camera", "cmd_vel"], duration=10)   # or Recorder(...)
    horus.bag.play("run.mcap", rate=2.0)
    for topic, msg in horus.bag.read("run.mcap", topics=["camera"]):
        x = msg.to_numpy()
    horus.bag.info("run.mcap").as_dict()

Files are MCAP (chunked, zstd or lz4 compressed, with message indexes and a summary), with
Foxglove's schemas where one exists (horus._foxglove has the mapping), so Foxglove and any
MCAP reader open them. Unreadable or unwritable files raise BagError, whose text names the
file and the problem.
"""

from horus.bag._errors import BagError
from horus.bag._play import PlayStats, play
from horus.bag._read import BagInfo, BagTopic, info, read
from horus.bag._record import DEFAULT_CHUNK_SIZE, Recorder, RecordStats, TopicStats, record

__all__ = [
    "BagError",
    "BagInfo",
    "BagTopic",
    "DEFAULT_CHUNK_SIZE",
    "PlayStats",
    "RecordStats",
    "Recorder",
    "TopicStats",
    "info",
    "play",
    "read",
    "record",
]
