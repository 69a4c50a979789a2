"""Bridging horus topics between hosts over Eclipse Zenoh: horus.Bridge and `horus bridge`.

A bridge is one Python process per host (or per namespace): it sends the local topics named
in `pub` to Zenoh key expressions horus/<prefix>/<topic> and publishes the remote topics named
in `sub` here, every message kind included, with its type, frame_id and timestamp_ns.
docs/bridge.md explains set-up, the config file and what a link loss does.
"""

from horus.bridge._bridge import BRIDGE_NODE, Bridge
from horus.bridge._config import BridgeConfig, BridgeError, TopicRule, load_config
from horus.bridge._stats import BridgeStats, BridgeTopicStats

__all__ = ["Bridge", "BridgeConfig", "BridgeError", "BridgeStats", "BridgeTopicStats", "TopicRule", "load_config",
           "BRIDGE_NODE"]
