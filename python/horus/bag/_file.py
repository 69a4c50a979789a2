"""An MCAP file opened for reading: checks that it is a whole MCAP file (a regular file with
magic at both ends, a footer, a summary whose CRC and chunk indexes are right), and iterates its messages in log-time order with every
failure of the mcap package turned into a BagError naming the file and the problem."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import Any

from mcap.reader import NonSeekingReader, SeekingReader
from mcap.records import Channel, Message, Schema
from mcap.summary import Summary

from horus.bag._args import topic_list
from horus.bag._errors import BagError, describe
from horus.bag._integrity import IntegrityError, check_chunk_indexes, check_summary_crc
from horus.bag._paths import open_regular

__all__ = ["BagFile", "MAGIC"]

MAGIC = b"\x89MCAP0\r\n"


class BagFile:
    """A readable MCAP file. Use as a context manager (closes the file)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        p = self.path
        self._file: io.BufferedReader = open_regular(p)
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            head = self._file.read(len(MAGIC))
            if head != MAGIC:
                if not head:
                    raise BagError(f"{p}: is empty, not an MCAP file")
                raise BagError(f"{p}: is not an MCAP file (it starts with {head!r}, not the MCAP magic {MAGIC!r})")
            self._file.seek(max(self.size - len(MAGIC), 0))
            if self.size < 2 * len(MAGIC) or self._file.read(len(MAGIC)) != MAGIC:
                raise BagError(
                    f"{p}: is truncated ({self.size} bytes): it ends without MCAP's footer and closing magic, as a "
                    "recording does whose recorder was killed, or an incomplete copy"
                )
            try:
                summary_start = check_summary_crc(self._file, self.size)
            except IntegrityError as e:
                raise BagError(f"{p}: its footer or summary section is corrupt: {e}") from None
            self._file.seek(0)
            self.reader = SeekingReader(self._file, validate_crcs=True)
            try:
                self.summary: Summary | None = self.reader.get_summary()
            except Exception as e:  # noqa: BLE001 (whatever a corrupt summary makes mcap raise)
                raise BagError(f"{p}: its footer or summary section is corrupt: {describe(e)}") from None
            if self.summary is not None:
                try:
                    check_chunk_indexes(self._file, self.summary.chunk_indexes, summary_start)
                except IntegrityError as e:
                    raise BagError(f"{p}: its summary section is corrupt: {e}") from None
            if self.summary is not None and self.summary.statistics is None:
                self.summary = None  # summary without statistics: read linearly (foreign files)
            self.channels, self.schemas = self._channels()
        except BaseException:
            self._file.close()
            raise

    def _channels(self) -> tuple[dict[int, Channel], dict[int, Schema]]:
        if self.summary is not None:
            return dict(self.summary.channels), dict(self.summary.schemas)
        channels: dict[int, Channel] = {}
        schemas: dict[int, Schema] = {}
        for schema, channel, _msg in self._raw(None, None, log_time_order=False):
            channels.setdefault(channel.id, channel)
            if schema is not None:
                schemas.setdefault(schema.id, schema)
        return channels, schemas

    @property
    def topics(self) -> list[str]:
        """The topics of the file, sorted, each once."""
        return sorted({c.topic for c in self.channels.values()})

    def message_counts(self) -> dict[int, int]:
        """Messages per channel id (from the summary's statistics, or by reading the file)."""
        if self.summary is not None and self.summary.statistics is not None:
            return dict(self.summary.statistics.channel_message_counts)
        counts: dict[int, int] = {}
        for _s, channel, _m in self._raw(None, None, log_time_order=False):
            counts[channel.id] = counts.get(channel.id, 0) + 1
        return counts

    def time_range(self) -> tuple[int, int]:
        """(first, last) log_time in ns; (0, 0) for a file without messages."""
        st = self.summary.statistics if self.summary is not None else None
        if st is not None:
            return (st.message_start_time, st.message_end_time) if st.message_count else (0, 0)
        first = last = None
        for _s, _c, m in self._raw(None, None, log_time_order=False):
            first = m.log_time if first is None else min(first, m.log_time)
            last = m.log_time if last is None else max(last, m.log_time)
        return (first or 0, last or 0)

    def check_topics(self, topics: Iterable[str] | None) -> list[str] | None:
        """The requested topics as a list; ValueError names those the file does not have."""
        wanted = topic_list(topics)
        if wanted is None:
            return None
        missing = [t for t in wanted if t not in set(self.topics)]
        if missing:
            raise ValueError(
                f"{self.path} has no topic {', '.join(repr(t) for t in missing)}; its topics: "
                f"{', '.join(self.topics) or '(none)'}"
            )
        return wanted

    def messages(self, topics: list[str] | None = None, starting_at: int | None = None
                 ) -> Iterator[tuple[Schema | None, Channel, Message]]:
        """(schema, channel, message) in log-time order (file order for a file without a summary)."""
        return self._raw(topics, starting_at, log_time_order=self.summary is not None)

    def _raw(self, topics: list[str] | None, starting_at: int | None, log_time_order: bool
             ) -> Iterator[tuple[Schema | None, Channel, Message]]:
        it: Iterator[tuple[Schema | None, Channel, Message]]
        if self.summary is None:
            # No (usable) summary: read the records in file order, checking the chunk CRCs and
            # the data section's CRC (a SeekingReader reads such files without checking them).
            self._file.seek(0)
            it = NonSeekingReader(self._file, validate_crcs=True).iter_messages(
                topics=topics, starting_at=starting_at, log_time_order=log_time_order)
        else:
            it = self.reader.iter_messages(topics=topics, starting_at=starting_at, log_time_order=log_time_order)
        count = 0
        last_time = -1
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            except Exception as e:  # noqa: BLE001 (the mcap package's errors have no common base)
                where = f"after {count} messages" if count else "at its first message"
                raise BagError(f"{self.path}: corrupt data {where}: {describe(e)}") from None
            if log_time_order:
                t = item[2].log_time
                if t < last_time:  # an index whose times lie about its chunk's messages
                    raise BagError(f"{self.path}: corrupt index: message {count} (log time {t}) comes after one "
                                   f"of log time {last_time}, although the chunk indexes order them by time")
                last_time = t
            count += 1
            yield item

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> BagFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
