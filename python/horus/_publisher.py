"""A publishing Topic for a message whose topic may not exist yet: the tools that republish
messages they did not create (horus.bag.play, the bridge) open it with the message's own type.

open_publisher(name, msg, capacity) -> Topic: Topic(T, name, capacity) where T is the
message's type (Tensor[Record] for a Tensor of records; schemaless for plain values). An
existing topic of another capacity is used as it is. TypeError, ValueError and HorusError
(another type on the topic, a bad name) are the caller's to report.
"""

from __future__ import annotations

from typing import Any, Optional, cast

import horus

__all__ = ["open_publisher", "message_topic_type"]


def message_topic_type(msg: object) -> Any:
    """The Topic type that carries `msg` (None: schemaless)."""
    if isinstance(msg, horus.Tensor):
        rec = msg.record_type
        return cast(Any, horus.Tensor)[rec] if rec is not None else horus.Tensor
    if isinstance(msg, (horus.Image, horus.DepthImage, horus.PointCloud, horus.TypedMessage)):
        return type(msg)
    return None


def open_publisher(name: str, msg: object, capacity: Optional[int] = None) -> horus.Topic[Any]:
    mtype = message_topic_type(msg)
    try:
        return horus.Topic(name, None, capacity) if mtype is None else horus.Topic(mtype, name, capacity)
    except ValueError as e:
        if capacity is None or "capacity" not in str(e):
            raise
        # the topic exists with another capacity: use it as it is
        return horus.Topic(name) if mtype is None else horus.Topic(mtype, name)
