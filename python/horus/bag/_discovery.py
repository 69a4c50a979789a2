"""Which topics exist in this namespace, and declaring a topic's record type in the recorder
so that it can receive typed messages whose class it never imported.

The recorder opens a topic only once it exists: opening it first would create it with the
capacity of an untyped topic (64 slots, each keeping a message's pool block alive).
"""

from __future__ import annotations

import horus
from horus._discovery import valid_topic_name
from horus._foxglove import ConversionError, live_record_class
from horus._message import record_class

__all__ = ["existing_topics", "declare_topic_type", "valid_topic_name"]


def existing_topics() -> set[str]:
    """The names of the topics of this process's namespace."""
    return {t.name for t in horus.topics()}


def declare_topic_type(topic: horus.Topic) -> bool:
    """Declares the record type of `topic` (typed messages, Tensors of records) in this process
    if it is not declared yet: from the namespace's type registry (every nested type too), else
    from the layout text the topic's header carries. False while the topic has no record type
    (yet); raises ConversionError if it cannot be declared."""
    h = topic.layout_hash
    if not h:
        return False
    if record_class(h) is not None:
        return True
    desc = topic.type_description
    if live_record_class(h, desc) is None:
        raise ConversionError(f"topic '{topic.name}' carries {desc!r}, a type not declared in this process whose "
                              "layout cannot be read (the namespace's type registry does not know it, and the topic "
                              "header's text is cut short)")
    return True
