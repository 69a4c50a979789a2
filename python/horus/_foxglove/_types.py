"""The mapping's shared types: its version, the error it raises and the MCAP channel
description (ChannelSchema) it gives for a topic."""

from __future__ import annotations

from dataclasses import dataclass

import horus

#: Version of this mapping, written to every channel's metadata (horus.mapping).
MAPPING_VERSION = "1"


class ConversionError(horus.HorusError, ValueError):
    """A message that cannot be converted to or from its channel's encoding (the text says
    what is wrong)."""


@dataclass(frozen=True)
class ChannelSchema:
    """How one topic is written to MCAP: its schema and message encoding, and the channel
    metadata that lets decode() restore the exact horus type."""

    schema_name: str
    schema_encoding: str  # "protobuf" | "jsonschema"
    schema_data: bytes  # a serialized FileDescriptorSet, or JSON Schema text
    message_encoding: str  # "protobuf" | "json"
    metadata: dict[str, str]
