"""What a bridge forwards and how it reaches the network: BridgeConfig, TopicRule, and the
config file (YAML, or JSON5 for .json/.json5 files). docs/bridge.md documents every key.

    mode: peer                    # peer (default) | client (through a router) | router
    connect: [tcp/10.0.0.2:7447]  # Zenoh endpoints to dial (retried until they answer)
    listen: [tcp/0.0.0.0:7447]    # Zenoh endpoints to accept on
    prefix: robot1                # key expressions horus/<prefix>/<topic>; default: the namespace
    scouting: true                # find peers on the LAN by multicast (peer mode)
    pub:                          # local topics sent out
      - camera
      - {topic: lidar, as: lidar_front, rate: 10, compression: zstd, congestion: drop}
    sub:                          # remote topics brought in
      - {topic: cmd_vel, from: base, as: cmd_vel_base, rate: 50}
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from horus._discovery import valid_topic_name

__all__ = ["BridgeConfig", "TopicRule", "BridgeError", "load_config", "MODES", "COMPRESSIONS", "DEFAULT_PORT"]

MODES = ("peer", "client", "router")
COMPRESSIONS = ("zstd", "lz4")
CONGESTIONS = ("drop", "block")
DEFAULT_PORT = 7447
_KEY_CHUNK = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
_ENDPOINT = re.compile(r"(tcp|udp|tls|quic|ws)/(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(\d{1,5})(#\S*)?|unixsock-stream/\S+")
_MAX_RATE = 1e6
#: The longest config file read (a larger one is refused, never cut short).
MAX_CONFIG_CHARS = 4 << 20


class BridgeError(Exception):
    """A bridge that cannot be configured or started (the message names the bad value)."""


@dataclass(frozen=True)
class TopicRule:
    """One forwarded topic. For `pub`: `topic` is the local name, `as_` the name on the network
    (key horus/<prefix>/<as_>). For `sub`: `topic` is the remote name, `source` the remote
    prefix ("*": any), `as_` the local name. rate: at most this many messages per second (None:
    all). compression: "zstd", "lz4" or None (pub only: the receiver reads it from the sample).
    congestion (pub only): "drop" or "block" when Zenoh's queue is full; None: "block" for typed
    messages and schemaless data, "drop" for images, depth images, point clouds and tensors."""

    topic: str
    as_: str = ""
    source: str = "*"
    rate: Optional[float] = None
    compression: Optional[str] = None
    congestion: Optional[str] = None

    def local_name(self, direction: str) -> str:
        """The local topic of this rule in `direction` ("pub" or "sub")."""
        return self.topic if direction == "pub" else (self.as_ or self.topic)

    def remote_name(self, direction: str) -> str:
        """The topic name on the network (the last chunk of the key expression)."""
        return (self.as_ or self.topic) if direction == "pub" else self.topic


@dataclass(frozen=True)
class BridgeConfig:
    mode: str = "peer"
    connect: tuple[str, ...] = ()
    listen: tuple[str, ...] = ()
    prefix: str = ""
    scouting: bool = True
    pub: tuple[TopicRule, ...] = field(default=())
    sub: tuple[TopicRule, ...] = field(default=())

    def merged(self, other: BridgeConfig) -> BridgeConfig:
        """This config with `other`'s lists appended and its set scalars taking over."""
        return replace(self, mode=other.mode if other.mode != "peer" else self.mode,
                       connect=self.connect + other.connect, listen=self.listen + other.listen,
                       prefix=other.prefix or self.prefix, scouting=self.scouting and other.scouting,
                       pub=self.pub + other.pub, sub=self.sub + other.sub)


def _err(where: str, msg: str) -> BridgeError:
    return BridgeError(f"{where}: {msg}" if where else msg)


def _name(v: Any, what: str, where: str) -> str:
    if not valid_topic_name(v):
        raise _err(where, f"{what} {v!r} is invalid: use 1-100 characters from A-Z a-z 0-9 _ . -")
    return str(v)


def check_prefix(v: Any, where: str = "") -> str:
    if not isinstance(v, str) or not _KEY_CHUNK.fullmatch(v):
        raise _err(where, f"prefix {v!r} is invalid: use 1-100 characters from A-Z a-z 0-9 _ . - (it becomes "
                          "the key expression horus/<prefix>/<topic>)")
    return v


def _rate(v: Any, where: str) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= _MAX_RATE:
        raise _err(where, f"rate {v!r} must be a number of messages per second in (0, {_MAX_RATE:g}] (or absent: "
                          "every message)")
    return float(v)


def _compression(v: Any, where: str) -> Optional[str]:
    if v is None or v == "none":
        return None
    if v not in COMPRESSIONS:
        raise _err(where, f"compression {v!r} must be 'zstd', 'lz4' or 'none'")
    return str(v)


def _congestion(v: Any, where: str) -> Optional[str]:
    if v is None:
        return None
    if v not in CONGESTIONS:
        raise _err(where, f"congestion {v!r} must be 'drop' (Zenoh drops the newest sample when its queue is full) "
                          "or 'block' (the bridge waits; its own ring then drops the oldest)")
    return str(v)


_PUB_KEYS = {"topic", "as", "rate", "compression", "congestion"}
_SUB_KEYS = {"topic", "as", "from", "rate"}


def _rule(entry: Any, direction: str, where: str) -> TopicRule:
    if isinstance(entry, TopicRule):
        entry = {"topic": entry.topic, "as": entry.as_ or None, "rate": entry.rate,
                 **({"compression": entry.compression, "congestion": entry.congestion} if direction == "pub"
                    else {"from": entry.source})}
    if isinstance(entry, str):
        return TopicRule(_name(entry, "topic", where))
    if not isinstance(entry, Mapping):
        raise _err(where, f"a {direction} entry is a topic name or a map with 'topic'; got {entry!r}")
    allowed = _PUB_KEYS if direction == "pub" else _SUB_KEYS
    unknown = set(entry) - allowed
    if unknown:
        raise _err(where, f"unknown key(s) {', '.join(sorted(map(repr, unknown)))} in a {direction} entry "
                          f"(known: {', '.join(sorted(allowed))})")
    if "topic" not in entry:
        raise _err(where, f"a {direction} entry needs 'topic'; got {dict(entry)!r}")
    topic = _name(entry["topic"], "topic", where)
    as_ = entry.get("as")
    as_ = "" if as_ is None else _name(as_, "'as' name", where)
    source = entry.get("from", "*")
    if source != "*":
        check_prefix(source, where)
    return TopicRule(topic=topic, as_=as_, source=source, rate=_rate(entry.get("rate"), where),
                     compression=_compression(entry.get("compression"), where),
                     congestion=_congestion(entry.get("congestion"), where))


def _endpoints(v: Any, what: str, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, (list, tuple)):
        raise _err(where, f"{what} must be a list of Zenoh endpoints like 'tcp/10.0.0.2:{DEFAULT_PORT}'; got {v!r}")
    out = []
    for e in v:
        m = _ENDPOINT.fullmatch(e) if isinstance(e, str) else None
        if m is None:
            raise _err(where, f"{what} endpoint {e!r} is not a Zenoh endpoint <protocol>/<host>:<port> such as "
                              f"'tcp/10.0.0.2:{DEFAULT_PORT}' (protocols: tcp, udp, tls, quic, ws; or "
                              "unixsock-stream/<path>)")
        port = m.group(3)
        low = 0 if what == "listen" else 1  # listening on port 0 takes a free one
        if port is not None and not low <= int(port) <= 65535:
            raise _err(where, f"{what} endpoint {e!r}: port {int(port)} is not in {low}..65535")
        out.append(e)
    return tuple(out)


def _rules(v: Any, direction: str, where: str) -> tuple[TopicRule, ...]:
    if v is None:
        return ()
    if isinstance(v, (str, Mapping, TopicRule)):
        v = [v]
    if not isinstance(v, Iterable):
        raise _err(where, f"{direction} must be a list of topics; got {v!r}")
    return tuple(_rule(e, direction, where) for e in v)


_CONFIG_KEYS = {"mode", "connect", "listen", "prefix", "scouting", "pub", "sub"}


def config_from_dict(d: Any, where: str = "") -> BridgeConfig:
    if not isinstance(d, Mapping):
        raise _err(where, f"the config must be a map of {', '.join(sorted(_CONFIG_KEYS))}; got {type(d).__name__}")
    unknown = set(d) - _CONFIG_KEYS
    if unknown:
        raise _err(where, f"unknown key(s) {', '.join(sorted(map(repr, unknown)))} (known: "
                          f"{', '.join(sorted(_CONFIG_KEYS))})")
    mode = d.get("mode", "peer")
    if mode not in MODES:
        raise _err(where, f"mode {mode!r} must be one of {', '.join(MODES)}")
    scouting = d.get("scouting", True)
    if not isinstance(scouting, bool):
        raise _err(where, f"scouting must be true or false; got {scouting!r}")
    prefix = d.get("prefix")
    return BridgeConfig(mode=mode, connect=_endpoints(d.get("connect"), "connect", where),
                        listen=_endpoints(d.get("listen"), "listen", where),
                        prefix="" if prefix is None else check_prefix(prefix, where), scouting=scouting,
                        pub=_rules(d.get("pub"), "pub", where), sub=_rules(d.get("sub"), "sub", where))


def load_config(path: str | os.PathLike[str]) -> BridgeConfig:
    """Reads a bridge config file: JSON5 for .json and .json5 files, YAML otherwise."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read(MAX_CONFIG_CHARS + 1)
    except (OSError, UnicodeDecodeError) as e:
        raise BridgeError(f"cannot read the bridge config {p!r}: {e}") from None
    if len(text) > MAX_CONFIG_CHARS:
        raise BridgeError(f"{p}: the bridge config is larger than {MAX_CONFIG_CHARS:,} characters; is it the "
                          "right file?")
    try:
        if p.endswith((".json", ".json5")):
            import json5

            data = json5.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # noqa: BLE001 (each parser has its own error types)
        raise BridgeError(f"{p}: not valid {'JSON5' if p.endswith(('.json', '.json5')) else 'YAML'}: "
                          f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if data is None:
        data = {}
    return config_from_dict(data, p)
