"""The processes of the bridge benchmark, one role each (`python _worker.py ROLE ...`):

  zpub    plain Zenoh publisher (side A, listens): puts pre-built bytes; the attachment holds
          (trial u32, seq u32, send time u64 CLOCK_REALTIME ns), taken just before put().
  zsub    plain Zenoh subscriber (side B, connects): a callback calls payload.to_bytes()
          and takes the receive time right after it.
  hpub    horus publisher (side A): per message, copies the pre-built bytes into a fresh pool
          message (Tensor.from_numpy of uint8, or Image.from_numpy rgb8), writes (trial u32,
          seq u32) into its first 8 bytes, sets timestamp_ns = time.time_ns() and sends it.
  hsub    horus subscriber (side B): recv(), to_numpy() (zero-copy), receive time right
          after it; the send time is the message's timestamp_ns.
  bridge  horus.bridge.Bridge with the given pub/sub topics, listen/connect endpoints and
          scouting off; answers "stats" and "reset" (clears its latency windows); _Probe
          times two hops inside it.

Both Zenoh paths use the bridge's own Zenoh configuration (Bridge._zenoh_config), so mode,
scouting and connect settings are the same; --zenoh-shm off (the default) turns Zenoh's
shared-memory transport off in both, as between two hosts. Commands come as JSON lines on stdin, events go
out as JSON lines on stdout; EOF on stdin, SIGTERM or the parent's death end the process.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import signal
import statistics
import struct
import sys
import threading
import time
from typing import Any, Callable, Iterator, Optional

_ATT = struct.Struct("<IIQ")  # plain Zenoh attachment: trial, seq, send time (ns)
_HDR = struct.Struct("<II")  # the first 8 bytes of a horus message: trial, seq
_PR_SET_PDEATHSIG = 1


def _emit(event: str, **kv: Any) -> None:
    try:
        sys.stdout.write(json.dumps({"event": event, **kv}) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # the benchmark is gone: nobody to tell
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives until exit)


_closing = False


def _close() -> None:
    """From here on the process is shutting down: SIGTERM no longer interrupts it."""
    global _closing
    _closing = True


def _commands() -> Iterator[dict[str, Any]]:
    for line in sys.stdin:
        if line.strip():
            cmd = json.loads(line)
            if cmd.get("cmd") == "quit":
                return
            yield cmd


def _on_sigterm(signum: int, frame: Any) -> None:
    """The first SIGTERM/SIGINT ends the command loop (finally blocks close everything);
    later ones, and any during that cleanup, are ignored."""
    if _closing:
        return
    _close()
    raise SystemExit(128 + signum)


def _die_with_parent() -> None:
    """SIGTERM when the benchmark dies (even by SIGKILL): no worker outlives it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        sys.exit(0)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    import numpy

    import horus

    def ver(dist: str) -> str:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return "?"

    return {"horus": getattr(horus, "__version__", ver("horus")), "zenoh": ver("eclipse-zenoh"),
            "numpy": numpy.__version__, "python": sys.version.split()[0], "horus_path": horus.__file__}


def _set_shm(config: Any, shm: str) -> Any:
    """shm "off": Zenoh's shared-memory transport off (two hosts cannot share memory; on one
    host Zenoh would otherwise hand payloads over 3 KiB through /dev/shm, not the link)."""
    if shm == "off":
        config.insert_json5("transport/shared_memory/enabled", "false")
    return config


def _zenoh_config(listen: Optional[str], connect: Optional[str], shm: str) -> Any:
    """The Zenoh config a Bridge with these endpoints and scouting off would open."""
    import zenoh

    from horus.bridge import Bridge

    b = Bridge(pub=["bench"], listen=[listen] if listen else None, connect=[connect] if connect else None,
               scouting=False)
    return _set_shm(b._zenoh_config(zenoh), shm)


# -- sending --------------------------------------------------------------------------------


def _drive(prepare: Callable[[int], Any], fire: Callable[[Any], None], cmd: dict[str, Any]) -> dict[str, Any]:
    """Sends per cmd: mode "rate" (count messages at rate/s; each message is prepared before
    the wait and fired on time) or "flat" (from start_at_ns until until_ns, back to back, or
    at most max_rate messages/s on average when cmd has it)."""
    sent = 0
    if cmd["mode"] == "rate":
        period = 1.0 / cmd["rate"]
        t0 = nxt = time.monotonic()
        for seq in range(cmd["count"]):
            item = prepare(seq)
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            fire(item)
            sent += 1
            nxt += period
            if nxt < time.monotonic() - period:  # far behind: no burst to catch up
                nxt = time.monotonic()
        return {"sent": sent, "elapsed_s": time.monotonic() - t0}
    start, until = cmd["start_at_ns"], cmd["until_ns"]
    wait = (start - time.time_ns()) / 1e9
    if wait > 0:
        time.sleep(wait)
    t0 = time.monotonic()
    first = time.time_ns()
    cap = cmd.get("max_rate") or 0.0  # messages/s on average (sleeps of <= 1 ms when ahead)
    while time.time_ns() < until:
        if cap:
            ahead = sent - (time.monotonic() - t0) * cap
            if ahead >= 1:
                time.sleep(min(0.001, ahead / cap))
                continue
        fire(prepare(sent))
        sent += 1
    return {"sent": sent, "elapsed_s": time.monotonic() - t0, "first_ns": first}


def role_zpub(args: argparse.Namespace) -> None:
    import zenoh

    config = _zenoh_config(args.listen, None, args.zenoh_shm)
    session = zenoh.open(config)
    pubs: dict[str, Any] = {}
    payloads: dict[int, bytes] = {}
    _emit("ready", versions=_versions(), zid=str(session.info.zid()),
          zenoh_shm=json.loads(config.get_json("transport/shared_memory/enabled")))
    try:
        for cmd in _commands():
            if cmd["cmd"] != "send":
                _emit("error", message=f"zpub: unknown command {cmd['cmd']!r}")
                continue
            key, n, trial = cmd["key"], cmd["nbytes"], cmd["trial"]
            if key not in pubs:
                pubs[key] = session.declare_publisher(key)  # the bridge's publisher settings: defaults
            pub = pubs[key]
            if n not in payloads:
                payloads[n] = os.urandom(n)
            data = payloads[n]

            def fire(seq: int, pub: Any = pub, data: bytes = data, trial: int = trial) -> None:
                pub.put(data, attachment=_ATT.pack(trial, seq, time.time_ns()))

            _emit("sent", trial=trial, **_drive(lambda seq: seq, fire, cmd))
    finally:
        _close()
        for p in pubs.values():
            p.undeclare()
        session.close()
        _emit("bye")


def role_hpub(args: argparse.Namespace) -> None:
    import numpy as np

    import horus

    specs = json.loads(args.topics)
    topics = {s["name"]: horus.Topic(getattr(horus, s["kind"]), s["name"]) for s in specs}
    by_name = {s["name"]: s for s in specs}
    payloads: dict[str, Any] = {}
    _emit("ready", versions=_versions(), capacities={n: t.capacity for n, t in topics.items()})
    try:
        for cmd in _commands():
            if cmd["cmd"] != "send":
                _emit("error", message=f"hpub: unknown command {cmd['cmd']!r}")
                continue
            spec, topic, trial = by_name[cmd["topic"]], topics[cmd["topic"]], cmd["trial"]
            if spec["name"] not in payloads:  # the same pre-built bytes as the Zenoh publisher's
                payloads[spec["name"]] = np.frombuffer(os.urandom(math.prod(spec["shape"])),
                                                       np.uint8).reshape(spec["shape"])
            data = payloads[spec["name"]]
            header = np.array([trial, 0], dtype="<u4")
            if spec["kind"] == "Image":
                def alloc(data: Any = data) -> Any:
                    return horus.Image.from_numpy(data, "rgb8")  # one copy into a fresh pool message
            else:
                def alloc(data: Any = data) -> Any:
                    return horus.Tensor.from_numpy(data)

            def prepare(seq: int, alloc: Any = alloc, header: Any = header) -> Any:
                m = alloc()
                header[1] = seq
                m.to_numpy().reshape(-1)[:8].view("<u4")[:] = header
                return m

            def fire(m: Any, topic: Any = topic) -> None:
                m.set_timestamp_ns(time.time_ns())
                topic.send(m)

            _emit("sent", trial=trial, **_drive(prepare, fire, cmd))
    finally:
        _close()
        topics.clear()
        _emit("bye")


# -- receiving ------------------------------------------------------------------------------


class _Collector:
    """What a subscriber saw of one trial. kind "latency": every one-way latency until
    `count` arrived; kind "throughput": messages and bytes received in [w0, w1) (ns)."""

    def __init__(self, cmd: dict[str, Any]) -> None:
        self.trial: int = cmd["trial"]
        self.kind: str = cmd["kind"]
        self.count: int = cmd.get("count", 0)
        self.w0, self.w1 = cmd.get("window_ns", (0, 0))
        self.latencies: list[int] = []
        self.received = 0
        self.in_window = 0
        self.bytes_in_window = 0
        self.max_seq = -1
        self.others = 0  # messages of other trials (late ones of an earlier trial)
        self.done = threading.Event()

    def add(self, trial: int, seq: int, sent_ns: int, recv_ns: int, nbytes: int) -> None:
        if trial != self.trial:
            self.others += 1
            return
        self.received += 1
        self.max_seq = max(self.max_seq, seq)
        if self.kind == "latency":
            self.latencies.append(recv_ns - sent_ns)
            if self.received >= self.count:
                self.done.set()
        elif recv_ns >= self.w1:
            self.done.set()
        elif recv_ns >= self.w0:
            self.in_window += 1
            self.bytes_in_window += nbytes
            if len(self.latencies) < 200_000:
                self.latencies.append(recv_ns - sent_ns)

    def result(self, **extra: Any) -> dict[str, Any]:
        r: dict[str, Any] = {"trial": self.trial, "received": self.received, "max_seq": self.max_seq,
                             "others": self.others, **extra}
        if self.kind == "latency":
            r["latencies_ns"] = self.latencies
        else:
            lat = sorted(self.latencies)
            r.update(in_window=self.in_window, bytes_in_window=self.bytes_in_window,
                     load_latency_ns_p50=statistics.median(lat) if lat else None,
                     load_latency_ns_p99=lat[min(len(lat) - 1, len(lat) * 99 // 100)] if lat else None)
        return r


def role_zsub(args: argparse.Namespace) -> None:
    import zenoh

    config = _zenoh_config(None, args.connect, args.zenoh_shm)
    session = zenoh.open(config)
    current: list[Optional[_Collector]] = [None]

    def on_sample(sample: Any) -> None:
        data = sample.payload.to_bytes()
        now = time.time_ns()
        c = current[0]
        if c is not None and sample.attachment is not None:
            trial, seq, sent = _ATT.unpack(sample.attachment.to_bytes())
            c.add(trial, seq, sent, now, len(data))

    sub = session.declare_subscriber(f"{args.key_prefix}/**", on_sample)
    _emit("ready", versions=_versions(), zid=str(session.info.zid()),
          zenoh_shm=json.loads(config.get_json("transport/shared_memory/enabled")))
    try:
        for cmd in _commands():
            if cmd["cmd"] != "arm":
                _emit("error", message=f"zsub: unknown command {cmd['cmd']!r}")
                continue
            c = _Collector(cmd)
            current[0] = c
            _emit("armed", trial=c.trial)
            c.done.wait(max(0.0, (cmd["deadline_ns"] - time.time_ns()) / 1e9))
            current[0] = None
            _emit("result", **c.result())
    finally:
        _close()
        sub.undeclare()
        session.close()
        _emit("bye")


def role_hsub(args: argparse.Namespace) -> None:
    import horus

    specs = json.loads(args.topics)
    topics = {s["name"]: horus.Topic(getattr(horus, s["kind"]), s["name"]) for s in specs}
    _emit("ready", versions=_versions(), capacities={n: t.capacity for n, t in topics.items()})
    try:
        for cmd in _commands():
            if cmd["cmd"] != "arm":
                _emit("error", message=f"hsub: unknown command {cmd['cmd']!r}")
                continue
            topic = topics[cmd["topic"]]
            stale = 0
            while topic.try_recv() is not None:  # what an earlier trial left in the ring
                stale += 1
            dropped0 = topic.dropped
            c = _Collector(cmd)
            deadline = cmd["deadline_ns"]
            _emit("armed", trial=c.trial)
            while not c.done.is_set():
                left = (deadline - time.time_ns()) / 1e9
                if left <= 0:
                    break
                m = topic.recv(min(left, 0.05))
                if m is None:
                    continue
                a = m.to_numpy()
                now = time.time_ns()
                trial, seq = _HDR.unpack(a.reshape(-1)[:8].tobytes())
                c.add(trial, seq, m.timestamp_ns, now, a.nbytes)
                del m, a
            _emit("result", **c.result(dropped=topic.dropped - dropped0, stale=stale))
    finally:
        _close()
        topics.clear()
        _emit("bye")


# -- the bridge -----------------------------------------------------------------------------


class _Probe:
    """Times hops inside a bridge process by wrapping three functions of horus.bridge._wire
    (the bridge calls them as module attributes; the wrappers cost < 1 us a message):
    "to_bridge": message timestamp_ns -> the sending bridge starts encoding it (the horus hop
    and the bridge's recv); "zenoh": the sending bridge's send stamp (taken at the end of
    encode, just before its put) -> the receiving bridge's callback reads the attachment;
    "encode", "decode": how long those two functions took."""

    def __init__(self) -> None:
        from horus.bridge import _wire

        self.values: dict[str, list[int]] = {"to_bridge": [], "zenoh": [], "encode": [], "decode": []}
        encode, read_header, decode = _wire.encode, _wire.read_header, _wire.decode

        def timed_encode(msg: Any, *a: Any, **kw: Any) -> Any:
            t, ts = time.time_ns(), getattr(msg, "timestamp_ns", 0)
            if ts:
                self._add("to_bridge", t - ts)
            r = encode(msg, *a, **kw)
            self._add("encode", time.time_ns() - t)
            return r

        def timed_read_header(attachment: bytes) -> Any:
            t = time.time_ns()
            h = read_header(attachment)
            if h.sent_ns:
                self._add("zenoh", t - h.sent_ns)
            return h

        def timed_decode(*a: Any, **kw: Any) -> Any:
            t = time.time_ns()
            r = decode(*a, **kw)
            self._add("decode", time.time_ns() - t)
            return r

        _wire.encode, _wire.read_header, _wire.decode = timed_encode, timed_read_header, timed_decode

    def _add(self, what: str, ns: int) -> None:
        v = self.values[what]
        if len(v) < 100_000:
            v.append(ns)

    def reset(self) -> None:
        for v in self.values.values():
            v.clear()

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for what, v in self.values.items():
            s = sorted(v)
            out[what] = {"n": len(s), "p50_ms": statistics.median(s) / 1e6 if s else None,
                         "p99_ms": s[min(len(s) - 1, len(s) * 99 // 100)] / 1e6 if s else None}
        return out


def role_bridge(args: argparse.Namespace) -> None:
    from horus.bridge import Bridge

    config_of = Bridge._zenoh_config  # the bench's only change: Zenoh shared memory per --zenoh-shm
    Bridge._zenoh_config = lambda self, zenoh: _set_shm(config_of(self, zenoh), args.zenoh_shm)  # type: ignore
    probe = _Probe()
    bridge = Bridge(pub=args.pub or None, sub=args.sub or None, listen=[args.listen] if args.listen else None,
                    connect=[args.connect] if args.connect else None, scouting=False).start()
    import zenoh

    _emit("ready", versions=_versions(), id=bridge.id,
          zenoh_shm=json.loads(bridge._zenoh_config(zenoh).get_json("transport/shared_memory/enabled")))
    final: Optional[dict[str, Any]] = None
    try:
        for cmd in _commands():
            if cmd["cmd"] == "stats":
                _emit("stats", stats=bridge.stats.as_dict(), probe=probe.summary())
            elif cmd["cmd"] == "reset":  # the latency windows only (the counters keep counting)
                for f in bridge._out + bridge._in:
                    f.latency.values.clear()
                    f.transit.values.clear()
                probe.reset()
                _emit("ok")
            else:
                _emit("error", message=f"bridge: unknown command {cmd['cmd']!r}")
    finally:
        _close()
        final = bridge.stop().as_dict()
        _emit("bye", stats=final)


ROLES = {"zpub": role_zpub, "zsub": role_zsub, "hpub": role_hpub, "hsub": role_hsub, "bridge": role_bridge}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("role", choices=sorted(ROLES))
    ap.add_argument("--listen")
    ap.add_argument("--connect")
    ap.add_argument("--topics", help="JSON list of {name, kind, shape} (hpub, hsub)")
    ap.add_argument("--key-prefix", default="bench", help="zsub: subscribes to <prefix>/**")
    ap.add_argument("--zenoh-shm", choices=("on", "off"), default="off",
                    help="Zenoh's shared-memory transport (zpub, zsub, bridge); default off")
    ap.add_argument("--pub", action="append", default=[], help="bridge: a topic to send (repeatable)")
    ap.add_argument("--sub", action="append", default=[], help="bridge: a topic to bring in (repeatable)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, _on_sigterm)
    _die_with_parent()
    try:
        ROLES[args.role](args)
    except Exception as e:  # noqa: BLE001 (reported to the benchmark, which shows the log)
        import traceback

        traceback.print_exc()
        _emit("error", message=f"{args.role}: {type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
