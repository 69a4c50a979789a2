"""Checks that an MCAP file's summary can be trusted before its indexes are used: the footer's
summary CRC (MCAP spec: zlib.crc32 of the summary section up to the footer's CRC field), and
every chunk index against the header of the chunk it points at.

The mcap package's SeekingReader checks neither: it orders and filters messages by the chunk
indexes, so one corrupt index time would reorder messages or drop a chunk without an error.
Chunk contents are checked by the reader itself (validate_crcs=True: each chunk's CRC).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable

from mcap.records import ChunkIndex

__all__ = ["FOOTER_RECORD_SIZE", "IntegrityError", "check_chunk_indexes", "check_summary_crc"]

_FOOTER_OPCODE = 0x02
_CHUNK_OPCODE = 0x06
#: opcode (1) + length (8) + summary_start (8) + summary_offset_start (8) + summary_crc (4)
FOOTER_RECORD_SIZE = 1 + 8 + 20
_MAGIC_SIZE = 8
_READ_STEP = 1 << 20


class IntegrityError(Exception):
    """The file's summary section or indexes do not agree with the file (the text says how)."""


def _read_exact(f: io.BufferedReader, offset: int, n: int) -> bytes:
    f.seek(offset)
    b = f.read(n)
    if len(b) != n:
        raise IntegrityError(f"{n} bytes at offset {offset} run past the end of the file")
    return b


def check_summary_crc(f: io.BufferedReader, size: int) -> int:
    """Verifies the footer's summary CRC (when the writer wrote one, i.e. it is not 0) and
    returns the summary's start offset (0: the file has no summary section)."""
    footer_at = size - _MAGIC_SIZE - FOOTER_RECORD_SIZE
    if footer_at < _MAGIC_SIZE:
        raise IntegrityError(f"the file ({size} bytes) is too short to hold an MCAP footer")
    raw = _read_exact(f, footer_at, FOOTER_RECORD_SIZE)
    opcode, length, summary_start, summary_offset_start, crc = struct.unpack("<BQQQI", raw)
    if opcode != _FOOTER_OPCODE or length != 20:
        raise IntegrityError(f"no footer record before the closing magic (opcode {opcode:#04x}, length {length})")
    if summary_start == 0:
        return 0
    if not _MAGIC_SIZE < summary_start <= footer_at:
        raise IntegrityError(f"the footer's summary_start {summary_start} is outside the file (footer at {footer_at})")
    if summary_offset_start and not summary_start <= summary_offset_start <= footer_at:
        raise IntegrityError(f"the footer's summary_offset_start {summary_offset_start} is outside the summary "
                             f"section ({summary_start}..{footer_at})")
    if crc == 0:
        return summary_start  # the writer did not compute one: nothing to compare
    end = footer_at + 1 + 8 + 16  # through summary_offset_start, the field before the CRC
    got = 0
    pos = summary_start
    f.seek(pos)
    while pos < end:
        b = f.read(min(_READ_STEP, end - pos))
        if not b:
            raise IntegrityError("the summary section runs past the end of the file")
        got = zlib.crc32(b, got)
        pos += len(b)
    if got != crc:
        raise IntegrityError(f"its summary section fails its CRC check (footer says {crc:#010x}, the bytes give "
                             f"{got:#010x}): the indexes and statistics cannot be trusted")
    return summary_start


def check_chunk_indexes(f: io.BufferedReader, indexes: Iterable[ChunkIndex], data_end: int) -> None:
    """Each chunk index must point at a chunk record inside the data section (before
    `data_end`, the summary's start) whose own header has the same times, sizes and compression."""
    for i, ci in enumerate(indexes):
        where = f"chunk index {i} (chunk at offset {ci.chunk_start_offset})"
        if ci.chunk_start_offset < _MAGIC_SIZE or ci.chunk_start_offset + ci.chunk_length > data_end:
            raise IntegrityError(f"{where}: the chunk ({ci.chunk_length} bytes) lies outside the data section "
                                 f"(ends at {data_end})")
        head = _read_exact(f, ci.chunk_start_offset, 1 + 8 + 8 + 8 + 8 + 4 + 4)
        opcode, length, start, end, usize, _crc, clen = struct.unpack("<BQQQQII", head)
        if opcode != _CHUNK_OPCODE:
            raise IntegrityError(f"{where}: no chunk record there (opcode {opcode:#04x})")
        if clen > 64:
            raise IntegrityError(f"{where}: a compression name of {clen} bytes")
        tail = _read_exact(f, ci.chunk_start_offset + len(head), clen + 8)
        compression = tail[:clen].decode("utf-8", "replace")
        (records_size,) = struct.unpack_from("<Q", tail, clen)
        mine = (1 + 8 + length, start, end, usize, compression, records_size)
        indexed = (ci.chunk_length, ci.message_start_time, ci.message_end_time, ci.uncompressed_size,
                   ci.compression, ci.compressed_size)
        if mine != indexed:
            names = ("length", "message_start_time", "message_end_time", "uncompressed_size", "compression",
                     "compressed_size")
            diff = ", ".join(f"{n} {b!r} in the index, {a!r} in the chunk"
                             for n, a, b in zip(names, mine, indexed) if a != b)
            raise IntegrityError(f"{where} disagrees with the chunk: {diff}")
        if start > end:
            raise IntegrityError(f"{where}: message_start_time {start} is after message_end_time {end}")
