"""Counters of the live Foxglove view: what each forwarded topic received, sent and dropped."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TopicViewStats:
    """One horus topic as the view forwards it.

    opened: the view has opened the topic (it receives what is sent from then on).
    received: messages the view took off the topic.
    sent: messages encoded and handed to the WebSocket server (only while a client is subscribed).
    bytes_sent: encoded bytes of those messages.
    skipped: images, depth images, point clouds and tensors taken off the topic but not sent
      because a newer one was already waiting (the view sends the newest).
    lost: messages the horus ring dropped before the view took them (it fell more than the
      topic's capacity behind).
    dropped (property): skipped + lost.
    errors: messages that could not be encoded.
    channel_id: the Foxglove channel's id (0 until the first message advertised it).
    schema_name: the channel's schema (e.g. "foxglove.RawImage"), "" until advertised.
    subscribers: clients subscribed to the channel right now.
    error: why the topic is not forwarded (its type has no Foxglove schema, it could not be
      opened), else "".
    """

    name: str
    opened: bool = False
    received: int = 0
    sent: int = 0
    bytes_sent: int = 0
    skipped: int = 0
    lost: int = 0
    errors: int = 0
    channel_id: int = 0
    schema_name: str = ""
    subscribers: int = 0
    error: str = ""

    @property
    def dropped(self) -> int:
        return self.skipped + self.lost

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields and `dropped`."""
        return {**asdict(self), "dropped": self.dropped}


@dataclass(frozen=True)
class ViewStats:
    """A snapshot of a LiveView: its port and one TopicViewStats per topic it has opened."""

    port: int
    topics: dict[str, TopicViewStats] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return sum(t.received for t in self.topics.values())

    @property
    def sent(self) -> int:
        return sum(t.sent for t in self.topics.values())

    @property
    def bytes_sent(self) -> int:
        return sum(t.bytes_sent for t in self.topics.values())

    @property
    def dropped(self) -> int:
        return sum(t.dropped for t in self.topics.values())

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.topics.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the totals and each topic's counters."""
        return {
            "port": self.port,
            "received": self.received,
            "sent": self.sent,
            "bytes_sent": self.bytes_sent,
            "dropped": self.dropped,
            "errors": self.errors,
            "topics": {name: t.as_dict() for name, t in self.topics.items()},
        }
