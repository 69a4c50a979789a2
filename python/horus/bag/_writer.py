"""The recorder's writing side: a thread that owns the mcap Writer (chunked, compressed, with
message indexes and a summary section) and writes what the receiving thread queues.

Compression (zstd, lz4) and file writes release the GIL, so they overlap with receiving.
The queue is bounded in bytes: when the writer falls that far behind, put() waits, the
receiver stops draining its topics, and what the topics then lose is counted as drops;
publishers never wait for the recorder.
"""

from __future__ import annotations

import collections
import os
import threading
from typing import Any

from mcap.writer import LIBRARY_IDENTIFIER, CompressionType, IndexType, Writer

import horus
from horus._foxglove import ChannelSchema
from horus.bag._errors import BagError, describe
from horus.bag._paths import open_for_writing

__all__ = ["BagWriter", "Channel", "COMPRESSIONS"]

COMPRESSIONS = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, None: CompressionType.NONE}


class Channel:
    """A channel the receiver created; the writer thread gives it its MCAP id."""

    __slots__ = ("topic", "schema", "metadata", "id", "sequence")

    def __init__(self, topic: str, schema: ChannelSchema, metadata: dict[str, str]) -> None:
        self.topic, self.schema, self.metadata = topic, schema, metadata
        self.id = 0
        self.sequence = 0


class BagWriter:
    """Writes queued messages to an MCAP file in its own thread."""

    def __init__(self, path: str, compression: str | None, chunk_size: int, max_pending_bytes: int) -> None:
        self.path = path
        self._file = open_for_writing(path)
        try:
            self._mcap = Writer(
                self._file,
                chunk_size=chunk_size,
                compression=COMPRESSIONS[compression],
                index_types=IndexType.ALL,
                repeat_channels=True,
                repeat_schemas=True,
                use_chunking=True,
                use_statistics=True,
                use_summary_offsets=True,
                enable_crcs=True,
            )
            self._mcap.start(profile="", library=f"horus {getattr(horus, '__version__', '')}; {LIBRARY_IDENTIFIER}")
        except Exception as e:
            self._file.close()
            raise BagError(f"{path}: cannot write: {describe(e)}") from None
        self._schemas: dict[tuple[str, str, bytes], int] = {}
        self._queue: collections.deque[Any] = collections.deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._max_pending = max_pending_bytes
        self._closing = False
        self.error: BaseException | None = None
        self.written_bytes = 0
        self._thread = threading.Thread(target=self._run, name=f"horus.bag writer {os.path.basename(path)}",
                                        daemon=True)
        self._thread.start()

    # -- the receiving side ----------------------------------------------------------------

    def add_channel(self, topic: str, schema: ChannelSchema, metadata: dict[str, str]) -> Channel:
        ch = Channel(topic, schema, metadata)
        with self._cond:
            self._queue.append(ch)
            self._cond.notify()
        return ch

    def put(self, channel: Channel, log_time: int, publish_time: int, data: bytes) -> bool:
        """Queues one message; waits while more than the byte budget is queued. False once the
        writer has failed (the message is dropped)."""
        n = len(data)
        with self._cond:
            while self._pending and self._pending + n > self._max_pending and self.error is None:
                self._cond.wait(0.1)
            if self.error is not None:
                return False
            self._queue.append((channel, log_time, publish_time, data))
            self._pending += n
            self._cond.notify()
        return True

    # -- the writing thread ----------------------------------------------------------------

    def _run(self) -> None:
        q = self._queue
        while True:
            with self._cond:
                while not q and not self._closing:
                    self._cond.wait()
                if not q:
                    return
                item = q.popleft()
            try:
                if isinstance(item, Channel):
                    self._register(item)
                    continue
                ch, log_time, publish_time, data = item
                self._mcap.add_message(ch.id, log_time, data, publish_time, ch.sequence & 0xFFFFFFFF)
                ch.sequence += 1
                self.written_bytes += len(data)
                with self._cond:
                    self._pending -= len(data)
                    self._cond.notify_all()
            except BaseException as e:  # noqa: BLE001 (kept and raised by close())
                with self._cond:
                    self.error = e
                    q.clear()
                    self._pending = 0
                    self._cond.notify_all()
                return

    def _register(self, ch: Channel) -> None:
        s = ch.schema
        key = (s.schema_name, s.schema_encoding, s.schema_data)
        sid = self._schemas.get(key)
        if sid is None:
            sid = self._schemas[key] = self._mcap.register_schema(s.schema_name, s.schema_encoding, s.schema_data)
        ch.id = self._mcap.register_channel(ch.topic, s.message_encoding, sid, ch.metadata)

    def close(self, metadata: dict[str, str] | None = None) -> None:
        """Writes what is queued, the metadata record, indexes and summary; closes the file.
        Raises BagError if writing failed at any point."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        try:
            if self.error is None:
                try:
                    if metadata:
                        self._mcap.add_metadata("horus.recording", metadata)
                    self._mcap.finish()  # type: ignore[no-untyped-call]
                    self._file.flush()
                except Exception as e:  # noqa: BLE001
                    self.error = e
        finally:
            try:
                self._file.close()
            except OSError as e:
                self.error = self.error or e
        if self.error is not None:
            raise BagError(f"{self.path}: writing failed: {describe(self.error)}") from None
