"""horus.Bridge: local topics to Zenoh and back.

Out (a `pub` rule): once the local topic exists, a thread of its own receives it with an
ordinary subscriber (Topic(None, name)), encodes each message (_wire.encode: the one copy
out of the pool) and puts it on horus/<prefix>/<name>, with a sequence number of the
sending bridge's own per topic.
In (a `sub` rule): a Zenoh subscriber on horus/<from>/<name> (remote samples only) rebuilds
each sample (_wire.decode: the one copy into the pool) and publishes it on the local topic,
which the first sample creates with its type. A sample of another type than the local
topic's is refused, counted and logged.

No loops: every message the bridge publishes locally is sent with Topic._send_seq, and its
sequence number is kept in `_injected[topic]` (under `_inject_lock`, taken around the send),
so the "out" thread of the same topic recognises and skips exactly those messages (kept only
for topics this bridge also sends out). Other bridge processes cannot be told apart that way,
so a bridge first claims each topic it carries (_claim.TopicClaim: one bridge process per
topic and namespace).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Optional

import horus
from horus._discovery import BRIDGE_NODE
from horus._publisher import open_publisher
from horus.bag._discovery import declare_topic_type
from horus._foxglove._types import ConversionError
from horus.bridge import _wire
from horus.bridge._config import (
    BridgeConfig,
    BridgeError,
    TopicRule,
    check_prefix,
    config_from_dict,
    load_config,
)
from horus.bridge._claim import TopicClaim
from horus.bridge._stats import BridgeStats, BridgeTopicStats, LatencyWindow
from horus._message import record_class

__all__ = ["Bridge", "BRIDGE_NODE"]

log = logging.getLogger("horus.bridge")

#: How often the bridge looks for "out" topics that appeared (seconds).
DISCOVERY_INTERVAL = 0.2
#: The record layout travels with an "out" topic's first samples and then this often (seconds).
LAYOUT_INTERVAL = 1.0
#: A repeated error of one topic is logged at most this often (seconds).
LOG_INTERVAL = 10.0
#: Latencies beyond this are taken as a timestamp of another clock and left out (ns).
_PLAUSIBLE_NS = 3600 * 10**9
#: A jump in a sender's sequence numbers beyond this is not counted as lost (a forged sample).
MAX_GAP = 1 << 24
#: Sending bridges remembered per topic (the oldest is forgotten first).
MAX_SOURCES = 1024
_RECV_SLICE = 0.1


_running: weakref.WeakSet[Bridge] = weakref.WeakSet()


def _stop_running_bridges() -> None:
    """A program that ends without stop() still closes its bridges' Zenoh sessions and topics.
    It must run before the interpreter joins its non-daemon threads: zenoh-python runs each
    Python callback (the bridge's subscribers, matching listeners) in a thread of that kind,
    which ends only when the callback is undeclared."""
    for b in list(_running):
        try:
            b.stop()
        except Exception:  # noqa: BLE001 (exiting anyway)
            pass


# threading's own exit hook (what concurrent.futures uses) runs before those threads are joined;
# atexit would run after, i.e. never.
_register_exit = getattr(threading, "_register_atexit", atexit.register)
_register_exit(_stop_running_bridges)


def _listed(v: Any) -> Any:
    """A list of an iterable argument (a generator, a tuple); anything else as it is, for the
    config's checks to name."""
    if v is None or isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
        return v
    return list(v)


class _Flow:
    """One rule's state: its stats (one writer: the thread or callback of this flow)."""

    def __init__(self, direction: str, rule: TopicRule, key: str) -> None:
        self.direction, self.rule, self.key = direction, rule, key
        self.local = rule.local_name("pub" if direction == "out" else "sub")
        self.stats = BridgeTopicStats(direction=direction, topic=self.local, key=key, waiting=direction == "out")
        self.latency = LatencyWindow()
        self.transit = LatencyWindow()
        self.topic: Optional[horus.Topic[Any]] = None
        self.type_key: Optional[tuple[str, int]] = None
        self.last_seq: dict[str, int] = {}  # in: per sending bridge, its latest sequence number
        self.next_allowed = 0.0  # rate limit: monotonic time of the next message let through
        self.logged: dict[str, float] = {}
        self.thread: Optional[threading.Thread] = None
        self.published = False  # in: a sample was published on the local topic
        self.out_seq = 0  # out: the sequence number of the next sample
        self.next_layout = 0.0  # out: monotonic time when the record layout goes with a sample again
        self.typed = False  # out: the topic's record type (if any) is declared in this process

    def error(self, what: str, message: str, level: int = logging.WARNING) -> None:
        self.stats.last_error = message
        now = time.monotonic()
        if now - self.logged.get(what, -LOG_INTERVAL) >= LOG_INTERVAL:
            self.logged[what] = now
            log.log(level, "%s %s: %s", self.direction, self.stats.topic, message)

    def admit(self) -> bool:
        """False when the rule's rate says this message is one too many (counted): messages pass
        at most one per 1/rate seconds, on a fixed grid while the input is faster."""
        rate = self.rule.rate
        if rate is None:
            return True
        now = time.monotonic()
        if now < self.next_allowed:
            self.stats.rate_limited += 1
            return False
        period = 1.0 / rate
        late = now - self.next_allowed
        self.next_allowed = self.next_allowed + period if late < period else now + period
        return True

    def snapshot(self) -> BridgeTopicStats:
        s = BridgeTopicStats(**self.stats.__dict__)
        s.latency_ms_p50, s.latency_ms_p99, s.latency_ms_max = self.latency.summary()
        s.transit_ms_p50, s.transit_ms_p99, _ = self.transit.summary()
        s.sources = len(self.last_seq)
        return s


def _as_config(config: Any) -> BridgeConfig:
    if config is None:
        return BridgeConfig()
    if isinstance(config, BridgeConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        return load_config(config)
    if isinstance(config, Mapping):
        return config_from_dict(config, "config")
    raise TypeError(f"config must be a path to a YAML/JSON5 file, a dict or a BridgeConfig; got {config!r}")


@dataclass
class _Zenoh:
    session: Any
    subscribers: list[Any]


class Bridge:
    """Forwards local topics to other hosts and remote topics here, over Zenoh.

    pub: local topics to send (names or rule dicts: {"topic", "as", "rate", "compression"});
    sub: remote topics to bring in ({"topic", "from", "as", "rate"}); connect/listen: Zenoh
    endpoints ("tcp/10.0.0.2:7447"); mode: "peer", "client" or "router"; prefix: the key
    prefix of what this bridge sends (default: the horus namespace); scouting: find peers by
    multicast; config: a YAML/JSON5 file, a dict or a BridgeConfig, merged with the other
    arguments. start()/stop(), or use it as a context manager; `stats` is a snapshot.
    """

    def __init__(
        self,
        pub: Iterable[Any] | None = None,
        sub: Iterable[Any] | None = None,
        *,
        connect: Iterable[str] | str | None = None,
        listen: Iterable[str] | str | None = None,
        mode: str | None = None,
        prefix: str | None = None,
        scouting: bool | None = None,
        config: Any = None,
    ) -> None:
        base = _as_config(config)
        args: dict[str, Any] = {"pub": _listed(pub), "sub": _listed(sub), "connect": _listed(connect),
                                "listen": _listed(listen)}
        if mode is not None:
            args["mode"] = mode
        if prefix is not None:
            args["prefix"] = prefix
        if scouting is not None:
            args["scouting"] = scouting
        cfg = base.merged(config_from_dict(args))
        if mode is not None:  # an explicit mode wins, "peer" included (merged() keeps a config's mode)
            cfg = replace(cfg, mode=mode)
        if not cfg.pub and not cfg.sub and cfg.mode != "router":
            raise BridgeError("name topics to send (pub) or to bring in (sub); only a router bridges none")
        self.config = cfg
        self.prefix = cfg.prefix or check_prefix(horus.namespace(), "the namespace")
        self._check_duplicates()
        self._out = [_Flow("out", r, f"horus/{self.prefix}/{r.remote_name('pub')}") for r in cfg.pub]
        self._in = [_Flow("in", r, f"horus/{r.source}/{r.topic}") for r in cfg.sub]
        self._injected: dict[str, set[int]] = {}
        self._out_locals = {f.local for f in self._out}
        self._claims: dict[str, TopicClaim] = {}
        self._inject_lock = threading.Lock()
        self._stop = threading.Event()
        self._zenoh: Optional[_Zenoh] = None
        self._discovery: Optional[threading.Thread] = None
        self._t0 = 0.0
        self._stopped = False
        self.id = ""

    def _check_duplicates(self) -> None:
        for direction, rules in (("pub", self.config.pub), ("sub", self.config.sub)):
            seen: set[str] = set()
            for r in rules:
                name = r.local_name(direction)
                if name in seen:
                    raise BridgeError(f"{direction} names local topic {name!r} twice")
                seen.add(name)
        keys: dict[str, str] = {}
        for r in self.config.pub:
            remote = r.remote_name("pub")
            if remote in keys:
                raise BridgeError(f"pub sends local topics {keys[remote]!r} and {r.topic!r} to the same key "
                                  f"horus/{self.prefix}/{remote}; give one of them another 'as' name")
            keys[remote] = r.topic

    # -- control ---------------------------------------------------------------------------

    def start(self) -> Bridge:
        """Opens the Zenoh session and starts forwarding. Raises BridgeError if Zenoh cannot
        start (a bad endpoint, a port in use)."""
        if self._zenoh is not None or self._stopped:
            raise RuntimeError("this Bridge was already started; make a new one to bridge again")
        import zenoh

        try:
            session = zenoh.open(self._zenoh_config(zenoh))
        except Exception as e:  # noqa: BLE001 (zenoh raises ZError and others)
            raise BridgeError(f"cannot start Zenoh ({self.config.mode} mode, listen {list(self.config.listen)}, "
                              f"connect {list(self.config.connect)}): {e}") from None
        self.id = str(session.info.zid())
        self._zenoh = _Zenoh(session, [])
        self._t0 = time.monotonic()
        for flow in self._in:
            self._claimed(flow)  # now, so that a conflict with another bridge shows at once
        try:
            for flow in self._in:
                self._zenoh.subscribers.append(session.declare_subscriber(
                    flow.key, self._sample_handler(flow), allowed_origin=zenoh.Locality.REMOTE))
        except Exception as e:  # noqa: BLE001
            self.stop()
            raise BridgeError(f"cannot subscribe to {flow.key}: {e}") from None
        self._discover()
        self._discovery = threading.Thread(target=self._discovery_loop, name="horus.bridge discovery", daemon=True)
        self._discovery.start()
        _running.add(self)
        log.info("bridge %s started (%s, prefix %s): out %s, in %s", self.id, self.config.mode, self.prefix,
                 [f.key for f in self._out], [f.key for f in self._in])
        return self

    def stop(self) -> BridgeStats:
        """Stops forwarding, closes the Zenoh session and the bridge's topics; returns the final
        stats. Safe to call more than once."""
        self._stop.set()
        if self._discovery is not None:
            self._discovery.join()
        # The session closes before the forwarding threads are joined: a put blocked by a full
        # queue (congestion "block") on a dead link then returns at once instead of after
        # Zenoh's lease.
        z, self._zenoh = self._zenoh, None
        if z is not None:
            for s in z.subscribers:
                try:
                    s.undeclare()
                except Exception:  # noqa: BLE001 (closing anyway)
                    pass
            try:
                z.session.close()
            except Exception:  # noqa: BLE001
                pass
        for f in self._out:
            if f.thread is not None:
                f.thread.join()
        stats = self.stats
        with self._inject_lock:
            for f in self._out + self._in:
                f.topic = None  # closes our Topic objects
        for claim in self._claims.values():
            claim.release()
        self._claims.clear()
        self._stopped = True
        _running.discard(self)
        return stats

    def __enter__(self) -> Bridge:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._zenoh is not None

    @property
    def stats(self) -> BridgeStats:
        s = BridgeStats(id=self.id, mode=self.config.mode, prefix=self.prefix,
                        elapsed_s=time.monotonic() - self._t0 if self._t0 else 0.0)
        z = self._zenoh
        if z is not None:
            try:
                s.peers = len(list(z.session.info.peers_zid()))
                s.routers = len(list(z.session.info.routers_zid()))
            except Exception:  # noqa: BLE001 (closed meanwhile)
                pass
        s.topics = [f.snapshot() for f in self._out + self._in]
        return s

    def _zenoh_config(self, zenoh: Any) -> Any:
        import json

        c = zenoh.Config()
        cfg = self.config
        c.insert_json5("mode", json.dumps(cfg.mode))
        if cfg.connect:
            c.insert_json5("connect/endpoints", json.dumps(list(cfg.connect)))
        if cfg.listen:
            c.insert_json5("listen/endpoints", json.dumps(list(cfg.listen)))
        # Start even when the other side is not there yet, and redial it quickly when it comes back.
        c.insert_json5("connect/exit_on_failure", json.dumps({"router": False, "peer": False, "client": False}))
        c.insert_json5("connect/timeout_ms", json.dumps({"router": -1, "peer": -1, "client": 0}))
        c.insert_json5("connect/retry", json.dumps({"period_init_ms": 250, "period_max_ms": 1000,
                                                    "period_increase_factor": 2}))
        c.insert_json5("scouting/multicast/enabled", json.dumps(cfg.scouting))
        # Zenoh 1.10 would pass payloads over 3 KiB between sessions on one host through its own
        # /dev/shm segments (even across network namespaces); a bridge talks to other hosts.
        c.insert_json5("transport/shared_memory/enabled", "false")
        return c

    # -- out: local topics to Zenoh ---------------------------------------------------------

    def _discover(self) -> None:
        waiting = [f for f in self._out if f.topic is None]
        if not waiting:
            return
        try:
            existing = {t.name for t in horus.topics()}
        except horus.HorusError as e:
            log.warning("cannot list this namespace's topics: %s", e)
            return
        for f in waiting:
            if f.local not in existing or not self._claimed(f):
                continue
            try:
                topic: horus.Topic[Any] = horus.Topic(None, f.local)
                topic._list_as(BRIDGE_NODE, 2)
            except Exception as e:  # noqa: BLE001 (torn down meanwhile: try again later)
                f.error("open", f"cannot open the local topic: {e}")
                continue
            f.topic = topic
            f.stats.waiting = False
            f.thread = threading.Thread(target=self._forward, args=(f,), name=f"horus.bridge out {f.local}",
                                        daemon=True)
            f.thread.start()

    def _discovery_loop(self) -> None:
        while not self._stop.wait(DISCOVERY_INTERVAL):
            try:
                self._discover()
            except Exception as e:  # noqa: BLE001 (keep bridging the topics that work)
                log.error("topic discovery failed: %s", e)

    def _forward(self, f: _Flow) -> None:
        z = self._zenoh
        topic = f.topic
        assert z is not None and topic is not None
        matched = threading.Event()  # a remote subscriber matches the key now (Zenoh's matching status)
        try:
            pub = z.session.declare_publisher(f.key, congestion_control=self._congestion(f, topic))
            listener = pub.declare_matching_listener(lambda st: matched.set() if st.matching else matched.clear())
            if pub.matching_status.matching:
                matched.set()
        except Exception as e:  # noqa: BLE001
            f.stats.errors += 1
            f.error("declare", f"cannot declare the Zenoh publisher {f.key}: {e}", logging.ERROR)
            return
        injected = self._injected.setdefault(f.local, set())
        try:
            while not self._stop.is_set():
                try:
                    self._forward_one(f, topic, pub, injected, matched)
                except Exception as e:  # noqa: BLE001 (a failing message must not end the topic's thread)
                    f.stats.errors += 1
                    f.error("internal", f"{type(e).__name__}: {e}", logging.ERROR)
                    self._stop.wait(0.1)
        finally:
            try:
                listener.undeclare()
                pub.undeclare()
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def _congestion(f: _Flow, topic: horus.Topic[Any]) -> Any:
        """Zenoh's congestion control for an "out" topic: the rule's, else BLOCK for typed
        messages and schemaless data (commands and status must not vanish in a full queue) and
        DROP for the memory types (a sensor stream wants its newest frame, and the loss is counted)."""
        import zenoh

        how = f.rule.congestion
        if how is None:
            kind = horus.topic_info(f.local)
            how = "block" if kind is not None and kind.kind in ("Record", "Data", "") else "drop"
        return zenoh.CongestionControl.BLOCK if how == "block" else zenoh.CongestionControl.DROP

    def _forward_one(self, f: _Flow, topic: horus.Topic[Any], pub: Any, injected: set[int],
                     matched: threading.Event) -> None:
        """Receives (waiting up to 0.1 s) and forwards one message of an "out" topic."""
        if not f.typed:
            try:
                f.typed = declare_topic_type(topic) or topic.layout_hash == 0
            except ConversionError as e:
                f.stats.errors += 1
                f.error("type", str(e))
                self._stop.wait(1.0)
                return
        try:
            msg = topic.recv(_RECV_SLICE)
        except TypeError as e:  # a record type not declared here yet
            f.typed = False
            f.error("type", str(e))
            self._stop.wait(0.05)
            return
        f.stats.dropped = topic.dropped
        if msg is None:
            return
        ring_seq = topic._cursor - 1
        with self._inject_lock:
            if ring_seq in injected:
                injected.discard(ring_seq)
                return  # this bridge published it: never sent back out
            if len(injected) > 4 * topic.capacity:  # ones this subscriber never saw
                injected.difference_update({s for s in injected if s < ring_seq})
        if not f.admit():
            return
        key = _wire.type_key(msg)
        kind, h = key
        now = time.monotonic()
        with_layouts = bool(h) and now >= f.next_layout
        if with_layouts:
            f.next_layout = now + LAYOUT_INTERVAL if f.out_seq >= 2 else 0.0
        try:
            payload, attachment = _wire.encode(msg, f.out_seq, self.id, compression=f.rule.compression,
                                               with_layouts=with_layouts, capacity=topic.capacity, key=key)
        except (ValueError, TypeError) as e:
            f.stats.errors += 1
            f.error("encode", f"cannot encode a message: {e}")
            return
        if not f.stats.type:
            f.stats.type = _wire.describe_type(kind, getattr(_type_class(msg), "__name__", ""), h)
        del msg  # the pool block goes back before the network send
        try:
            pub.put(payload, attachment=attachment)
        except Exception as e:  # noqa: BLE001 (the session closed under us at stop)
            if self._stop.is_set():
                return
            f.stats.errors += 1
            f.error("put", f"Zenoh put failed: {e}")
            return
        f.out_seq += 1
        f.stats.messages += 1
        f.stats.bytes += len(payload)
        if not matched.is_set():
            f.stats.unmatched += 1

    # -- in: Zenoh samples to local topics --------------------------------------------------

    def _sample_handler(self, f: _Flow) -> Any:
        def handler(sample: Any) -> None:
            if self._stop.is_set():
                return
            try:
                self._receive(f, sample)
            except Exception as e:  # noqa: BLE001 (a Zenoh callback must not raise)
                f.stats.errors += 1
                f.error("internal", f"{type(e).__name__}: {e}", logging.ERROR)

        return handler

    def _receive(self, f: _Flow, sample: Any) -> None:
        att = sample.attachment
        if att is None:
            f.stats.errors += 1
            f.error("wire", f"a sample on {sample.key_expr} has no attachment: not sent by a horus bridge")
            return
        try:
            h = _wire.read_header(att.to_bytes())
        except _wire.WireError as e:
            f.stats.errors += 1
            f.error("wire", f"a sample on {sample.key_expr}: {e}")
            return
        if h.source == self.id:  # our own samples never come back (allowed_origin=REMOTE): a forgery
            f.stats.errors += 1
            f.error("wire", f"a sample on {sample.key_expr} claims this bridge's own id {self.id}")
            return
        if not self._claimed(f):
            return
        self._note_sequence(f, h)
        if h.layouts is not None and h.layout_hash and record_class(h.layout_hash) is None:
            try:  # learn the type from any sample that carries it, even one the rate limit skips
                _wire.record_type_of(h)
            except _wire.WireError as e:
                f.stats.errors += 1
                f.error("layout", str(e))
                return
        if not f.admit():
            return
        if f.type_key is not None and h.type_key != f.type_key:
            self._refuse(f, h)
            return
        try:
            data = sample.payload.to_bytes()
            try:
                msg = _wire.decode(h, data)
            except horus.PoolExhausted:
                if f.topic is None:
                    raise
                # The pool may be full of messages the local subscribers have read: a publish
                # releases those, and this one cannot publish before it allocates.
                f.topic._release_read()
                msg = _wire.decode(h, data)
        except _wire.WireError as e:
            f.stats.errors += 1
            f.error("decode", str(e))
            return
        except horus.PoolExhausted as e:
            f.stats.errors += 1
            f.error("pool", f"the pool is full: {e}")
            return
        if f.topic is None and not self._open_local(f, h, msg):
            return
        topic = f.topic
        assert topic is not None
        with self._inject_lock:
            try:
                ring_seq = topic._send_seq(msg)
            except TypeError as e:  # the local topic has another type
                if f.type_key is None or not f.published:  # not this sample's type after all: forget it
                    f.topic, f.type_key = None, None
                self._refuse(f, h, str(e))
                return
            except (ValueError, horus.HorusError) as e:  # content horus refuses (a bool of 2, bad UTF-8), pool
                f.stats.errors += 1
                f.error("send", f"cannot publish locally: {e}")
                return
            f.published = True
            if f.local in self._out_locals:  # only an "out" flow of this topic ever reads these back
                self._injected.setdefault(f.local, set()).add(ring_seq)
        now = time.time_ns()
        f.stats.messages += 1
        f.stats.bytes += len(sample.payload)
        if h.timestamp_ns and abs(now - h.timestamp_ns) < _PLAUSIBLE_NS:
            f.latency.add(max(0, now - h.timestamp_ns))
        if h.sent_ns and abs(now - h.sent_ns) < _PLAUSIBLE_NS:
            f.transit.add(max(0, now - h.sent_ns))

    def _note_sequence(self, f: _Flow, h: _wire.Header) -> None:
        """Counts gaps in a sending bridge's sequence numbers as lost. A jump beyond MAX_GAP, or
        a number at or below the last one, is a new count (a forged or corrupt sample), not a
        loss; the table keeps the latest MAX_SOURCES senders."""
        last = f.last_seq.pop(h.source, None)
        if last is not None and last < h.seq:
            gap = h.seq - last - 1
            if gap <= MAX_GAP:
                f.stats.lost += gap
            else:
                f.error("sequence", f"bridge {h.source[:8]}'s sequence jumped from {last} to {h.seq}: counted "
                                    "from here on, not as a loss")
        f.last_seq[h.source] = h.seq
        while len(f.last_seq) > MAX_SOURCES:
            f.last_seq.pop(next(iter(f.last_seq)))

    def _claimed(self, f: _Flow) -> bool:
        """True while this bridge holds the namespace's claim on the flow's local topic
        (_claim.py): one bridge process per topic and namespace, so that no two bridges can send
        each other's messages around in a loop."""
        if f.local in self._claims:
            return True
        try:
            claim = TopicClaim.take(f.local)
        except OSError as e:
            f.stats.errors += 1
            f.error("claim", f"cannot claim the topic for this bridge: {e}", logging.ERROR)
            return False
        if isinstance(claim, int):
            f.stats.errors += 1
            f.error("claim", f"bridge process {claim} already bridges this topic in this namespace; this bridge "
                             "leaves it alone until that one stops", logging.ERROR)
            return False
        self._claims[f.local] = claim
        return True

    def _open_local(self, f: _Flow, h: _wire.Header, msg: object) -> bool:
        try:
            topic = open_publisher(f.local, msg, h.capacity or None)
        except (TypeError, ValueError) as e:
            self._refuse(f, h, str(e))
            return False
        except horus.HorusError as e:
            f.stats.errors += 1
            f.error("open", f"cannot open the local topic: {e}")
            return False
        if topic.layout_hash != h.layout_hash and (h.kind in ("Record", "Tensor")):
            # Topic(horus.Tensor) opens a topic of Tensors of records too: not this sample's type.
            self._refuse(f, h, f"the local topic carries {topic.type_description}")
            return False
        topic._list_as(BRIDGE_NODE, 1)
        f.topic = topic
        f.type_key = h.type_key
        f.stats.type = _wire.describe_type(h.kind, h.type_name, h.layout_hash)
        return True

    def _refuse(self, f: _Flow, h: _wire.Header, why: str = "") -> None:
        f.stats.type_errors += 1
        got = _wire.describe_type(h.kind, h.type_name, h.layout_hash)
        want = f.stats.type or "its type"
        f.error("type_mismatch", f"refused a sample of {got} from bridge {h.source[:8]}: the local topic carries "
                                 f"{want}{f' ({why})' if why else ''}")


def _type_class(msg: object) -> Any:
    if isinstance(msg, horus.Tensor):
        return msg.record_type or type(msg)
    return type(msg)
